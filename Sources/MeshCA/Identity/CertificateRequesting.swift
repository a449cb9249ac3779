import MeshAPI

/// Something that turns a CSR into a signed chain: Istio's CA over gRPC
/// (``IstioCAClient``) or an in-process ``CertificateAuthority`` (``LocalCertificateRequester``).
public protocol CertificateRequesting: Sendable {
    /// Sends a CSR.
    /// - Parameters:
    ///   - csrPEM: The PEM CSR.
    ///   - validity: The requested lifetime.
    ///   - impersonating: The workload identity to ask for as a node proxy (sent as
    ///     `ImpersonatedIdentity`); nil when asking for the caller's own identity.
    /// - Returns: The PEM chain, leaf first.
    func requestCertificate(csrPEM: String, validity: Duration, impersonating: SpiffeID?) async throws -> [String]
}

/// Signs CSRs with an in-process authority for a fixed, already-authenticated identity
/// (embedding, tests, istiod's own workload identity).
public struct LocalCertificateRequester: CertificateRequesting {
    /// The authority.
    public var authority: CertificateAuthority
    /// The identity the CSR is authorized for.
    public var identity: SpiffeID

    /// Creates a requester.
    public init(authority: CertificateAuthority, identity: SpiffeID) {
        self.authority = authority
        self.identity = identity
    }

    public func requestCertificate(csrPEM: String, validity: Duration, impersonating: SpiffeID?) async throws -> [String] {
        if let impersonating, impersonating != identity {
            throw CertificateServiceError(
                code: .unauthenticated, message: "local requester for \(identity) cannot impersonate \(impersonating)")
        }
        return try authority.sign(csrPEM: csrPEM, for: identity, ttl: validity).pemChain
    }
}
