import MeshAPI
import NIOCore

/// Why an HBONE tunnel could not be opened or served. Each case says what to fix.
public enum HBONEError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No workload certificate is available yet (the identity source has not been filled).
    case noCertificate
    /// The TCP connection to the HBONE proxy failed.
    case connectFailed(proxy: String, reason: String)
    /// The server's certificate does not chain to the trust bundle (or is expired, a CA, …).
    case untrustedServerCertificate(reason: String)
    /// The server's certificate chains to the trust bundle but its SPIFFE identity is not one
    /// of the expected identities (or it does not carry exactly one SPIFFE URI SAN).
    case serverIdentityMismatch(expected: [SpiffeID], presented: String)
    /// The TLS handshake failed for another reason.
    case tlsHandshakeFailed(reason: String)
    /// The peer did not negotiate ALPN `h2`.
    case http2NotNegotiated(negotiated: String?)
    /// The server answered the CONNECT with a status other than 200.
    case rejected(status: Int)
    /// The stream or its connection ended before the CONNECT was answered.
    case streamFailed(reason: String)
    /// The client or its pool was shut down.
    case shutDown

    public var description: String {
        switch self {
        case .noCertificate:
            return "no workload certificate is available; fill the HBONECredentials before opening tunnels"
        case .connectFailed(let proxy, let reason):
            return "cannot connect to HBONE proxy \(proxy): \(reason) (is port 15008 reachable, or blocked by a NetworkPolicy?)"
        case .untrustedServerCertificate(let reason):
            return "server certificate is not trusted: \(reason)"
        case .serverIdentityMismatch(let expected, let presented):
            return "server identity \(presented) is not one of the expected identities [\(expected.map(\.description).joined(separator: ", "))]"
        case .tlsHandshakeFailed(let reason):
            return "TLS handshake failed: \(reason)"
        case .http2NotNegotiated(let negotiated):
            return "peer did not negotiate ALPN h2 (got \(negotiated ?? "none"))"
        case .rejected(let status):
            return "HBONE CONNECT refused with status \(status)\(Self.meaning(status))"
        case .streamFailed(let reason):
            return "HBONE stream failed before the CONNECT was answered: \(reason)"
        case .shutDown:
            return "the HBONE client was shut down"
        }
    }

    private static func meaning(_ status: Int) -> String {
        switch status {
        case 400: return " (bad request: method or authority)"
        case 401: return " (denied by authorization policy)"
        case 503: return " (target unknown or upstream connect failed)"
        default: return ""
        }
    }
}
