import NIOSSL
import SwiftASN1
import X509

/// Why a TLS configuration could not be built.
public struct WorkloadTLSError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What failed.
    public var reason: String
    /// Creates an error.
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}

extension WorkloadCertificate {
    /// TLS 1.2 suites restricted to ECDHE with AES-GCM. Only relevant if a caller lowers the
    /// minimum version: BoringSSL's TLS 1.3 suites are fixed (AES-128-GCM, AES-256-GCM,
    /// ChaCha20-Poly1305) and NIOSSL cannot narrow them further.
    static let aesGCMCipherSuites =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"

    /// The leaf and intermediates as NIOSSL certificates.
    public func nioSSLCertificateChain() throws(WorkloadTLSError) -> [NIOSSLCertificate] {
        do {
            return try certificateChain.map { certificate in
                var serializer = DER.Serializer()
                try serializer.serialize(certificate)
                return try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der)
            }
        } catch {
            throw WorkloadTLSError(reason: "cannot convert certificate chain for NIOSSL: \(error)")
        }
    }

    /// The trust bundle as NIOSSL certificates.
    public func nioSSLTrustRoots() throws(WorkloadTLSError) -> [NIOSSLCertificate] {
        do {
            return try roots.map { root in
                var serializer = DER.Serializer()
                try serializer.serialize(root)
                return try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der)
            }
        } catch {
            throw WorkloadTLSError(reason: "cannot convert trust bundle for NIOSSL: \(error)")
        }
    }

    /// The private key for NIOSSL.
    public func nioSSLPrivateKey() throws(WorkloadTLSError) -> NIOSSLPrivateKey {
        do {
            let pem = try privateKeyPEM()
            return try NIOSSLPrivateKey(bytes: Array(pem.utf8), format: .pem)
        } catch {
            throw WorkloadTLSError(reason: "cannot convert private key for NIOSSL: \(error)")
        }
    }

    /// A server configuration: TLS 1.3 only, ALPN `h2`, this certificate, and a client
    /// certificate required and verified against the trust bundle (mutual TLS).
    ///
    /// Chain verification is BoringSSL's; check the peer's SPIFFE identity with
    /// ``SpiffePeerVerifier`` (as a custom verification callback) or after the handshake.
    public func makeServerTLSConfiguration(applicationProtocols: [String] = [MeshCAConstants.alpnH2])
        throws(WorkloadTLSError) -> TLSConfiguration
    {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try nioSSLCertificateChain().map { .certificate($0) },
            privateKey: .privateKey(try nioSSLPrivateKey()))
        try apply(to: &configuration, applicationProtocols: applicationProtocols)
        return configuration
    }

    /// A client configuration: TLS 1.3 only, ALPN `h2`, this certificate as client certificate,
    /// the server verified against the trust bundle.
    ///
    /// SPIFFE certificates carry no host names, so host-name checking is off; pass
    /// ``SpiffePeerVerifier/callback`` to `NIOSSLClientHandler` to require the expected identity.
    public func makeClientTLSConfiguration(applicationProtocols: [String] = [MeshCAConstants.alpnH2])
        throws(WorkloadTLSError) -> TLSConfiguration
    {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateChain = try nioSSLCertificateChain().map { .certificate($0) }
        configuration.privateKey = .privateKey(try nioSSLPrivateKey())
        try apply(to: &configuration, applicationProtocols: applicationProtocols)
        return configuration
    }

    private func apply(to configuration: inout TLSConfiguration, applicationProtocols: [String]) throws(WorkloadTLSError) {
        configuration.minimumTLSVersion = .tlsv13
        configuration.maximumTLSVersion = .tlsv13
        configuration.cipherSuites = Self.aesGCMCipherSuites
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .certificates(try nioSSLTrustRoots())
        configuration.applicationProtocols = applicationProtocols
    }
}
