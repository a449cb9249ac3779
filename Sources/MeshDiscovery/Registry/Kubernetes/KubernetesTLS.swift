import Foundation
import MeshAPI
import NIOCore
import NIOSSL

/// The TLS side of talking to an API server: the server certificate must chain to the
/// kubeconfig's (or the service account's) CA and name the host, and a client certificate is
/// presented when the kubeconfig or an exec plugin gives one.
enum KubernetesTLS {
    /// The client TLS context for `connection`, built before connecting so bad material is
    /// reported as itself rather than as a connection failure.
    static func makeContext(for connection: KubernetesConnection) throws -> NIOSSLContext {
        let clientCertificatePEM = connection.clientCertificatePEM
        let clientKeyPEM = connection.clientKeyPEM
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let ca = connection.certificateAuthorityPEM {
            let roots = try tls("certificate authority") { try NIOSSLCertificate.fromPEMBytes(Array(ca)) }
            guard !roots.isEmpty else { throw KubernetesClientError.tls("certificate authority: no PEM certificate found") }
            configuration.trustRoots = .certificates(roots)
        }
        if connection.insecureSkipTLSVerify {
            // Only when the kubeconfig says so (`insecure-skip-tls-verify: true`).
            configuration.certificateVerification = .none
        }
        if let certificatePEM = clientCertificatePEM, let keyPEM = clientKeyPEM {
            let chain = try tls("client certificate") { try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM)) }
            guard !chain.isEmpty else { throw KubernetesClientError.tls("client certificate: no PEM certificate found") }
            let key = try tls("client key") { try NIOSSLPrivateKey(bytes: Array(keyPEM), format: .pem) }
            configuration.certificateChain = chain.map { .certificate($0) }
            configuration.privateKey = .privateKey(key)
        }
        return try tls("configuration") { try NIOSSLContext(configuration: configuration) }
    }

    /// Adds a client TLS handler using `context` to a new channel's pipeline.
    static func addHandler(
        to pipeline: ChannelPipeline.SynchronousOperations, context: NIOSSLContext, connection: KubernetesConnection
    ) throws {
        // An IP literal cannot be sent as SNI; NIOSSL then checks the certificate's IP SANs
        // against the peer address instead.
        let serverName = IPAddressBytes(connection.host) != nil ? nil : connection.host
        try pipeline.addHandler(try NIOSSLClientHandler(context: context, serverHostname: serverName))
    }

    private static func tls<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as KubernetesClientError {
            throw error
        } catch {
            throw KubernetesClientError.tls("\(what): \(error)")
        }
    }
}
