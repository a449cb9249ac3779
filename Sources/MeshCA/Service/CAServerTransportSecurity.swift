import GRPCNIOTransportHTTP2
import X509

/// TLS settings for the CA's gRPC listener (istiod's 15012).
public enum CAServerTransportSecurity {
    /// Whether callers present client certificates.
    public enum ClientCertificates: Sendable {
        /// No client certificate is requested: callers authenticate with bearer tokens.
        case notRequested
        /// Every caller must present a certificate chaining to these roots (mTLS renewal
        /// listener). The chain reaches ``PeerCertificateAuthenticator`` through the transport's
        /// `HTTP2ServerTransport.Posix.Context`, and is verified again there.
        case required(roots: [Certificate])
    }

    /// The Posix transport security for a serving chain and key (see
    /// ``CertificateAuthority/issueServingCertificate(dnsNames:ipAddresses:ttl:algorithm:now:)``).
    ///
    /// grpc-swift-nio-transport 2.9.2 offers no "verify the client certificate if one is sent"
    /// mode, so a single listener is either token-only or mTLS-only; run two listeners to offer both.
    public static func make(
        chain: [Certificate], privateKey: Certificate.PrivateKey, clientCertificates: ClientCertificates
    ) throws -> HTTP2ServerTransport.Posix.TransportSecurity {
        let chainPEM = try PEMCodec.pem(chain)
        let keyPEM = try PEMCodec.pem(privateKey)
        var tls = HTTP2ServerTransport.Posix.TransportSecurity.TLS(
            certificateChain: [.bytes(Array(chainPEM.utf8), format: .pem)],
            privateKey: .bytes(Array(keyPEM.utf8), format: .pem),
            clientCertificateVerification: .noVerification,
            trustRoots: .systemDefault,
            requireALPN: false)
        if case .required(let roots) = clientCertificates {
            tls.clientCertificateVerification = .noHostnameVerification
            tls.trustRoots = .certificates([.bytes(Array(try PEMCodec.pem(roots).utf8), format: .pem)])
        }
        return .tls(tls)
    }
}
