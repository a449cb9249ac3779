import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import MeshAPI
import MeshProto
import SwiftProtobuf
import X509

/// Calls Istio's CA (`CreateCertificate`) over gRPC with TLS, as ztunnel does.
///
/// Each request opens a connection with the current credentials (CSRs are rare: one per
/// identity per half-lifetime), so a rotated client certificate or token is always used.
public struct IstioCAClient: CertificateRequesting {
    /// How the client authenticates.
    public enum Credential: Sendable {
        /// `authorization: Bearer <token>`; the closure is called for every request (ztunnel
        /// re-reads its token file each time).
        case bearerToken(@Sendable () async throws -> String)
        /// The client certificate of the connection (renewal by a workload that has one).
        case clientCertificate(@Sendable () async -> WorkloadCertificate?)
    }

    /// Where the CA is and how to trust it.
    public struct Configuration: Sendable {
        /// Host name or IP address of the CA.
        public var host: String
        /// Port (istiod: 15012).
        public var port: Int
        /// Roots that verify the CA's serving certificate (`root-cert.pem`).
        public var trustRoots: [Certificate]
        /// How to authenticate.
        public var credential: Credential
        /// Sent as `clusterid`.
        public var clusterID: String
        /// Deadline of one request.
        public var timeout: Duration

        /// Creates a configuration.
        public init(
            host: String, port: Int = 15012, trustRoots: [Certificate], credential: Credential,
            clusterID: String = MeshCAConstants.defaultClusterID, timeout: Duration = .seconds(10)
        ) {
            self.host = host
            self.port = port
            self.trustRoots = trustRoots
            self.credential = credential
            self.clusterID = clusterID
            self.timeout = timeout
        }
    }

    /// The configuration.
    public var configuration: Configuration

    /// Creates a client.
    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Why a request could not be made or was refused.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// The gRPC status code, when the CA answered.
        public var code: RPCError.Code?
        /// What happened.
        public var message: String
        public var description: String { "\(code.map { "\($0): " } ?? "")\(message)" }
    }

    public func requestCertificate(csrPEM: String, validity: Duration, impersonating: SpiffeID?) async throws -> [String] {
        var message = Istio_V1_Auth_IstioCertificateRequest()
        message.csr = csrPEM
        message.validityDuration = validity.components.seconds
        if let impersonating {
            var value = Google_Protobuf_Value()
            value.stringValue = impersonating.description
            message.metadata.fields[MeshCAConstants.impersonatedIdentityKey] = value
        }
        var metadata: Metadata = [MeshCAConstants.clusterIDMetadataKey: .string(configuration.clusterID)]
        var certificateChain: [TLSConfig.CertificateSource] = []
        var privateKey: TLSConfig.PrivateKeySource?
        switch configuration.credential {
        case .bearerToken(let token):
            metadata.addString("Bearer \(try await token())", forKey: MeshCAConstants.authorizationMetadataKey)
        case .clientCertificate(let current):
            guard let certificate = await current() else {
                throw Failure(code: nil, message: "no valid client certificate to authenticate with")
            }
            certificateChain = [.bytes(Array(try certificate.certificateChainPEM().utf8), format: .pem)]
            privateKey = .bytes(Array(try certificate.privateKeyPEM().utf8), format: .pem)
        }
        let roots = try PEMCodec.pem(configuration.trustRoots)
        let tls = HTTP2ClientTransport.Posix.TransportSecurity.TLS(
            certificateChain: certificateChain, privateKey: privateKey,
            serverCertificateVerification: .fullVerification,
            trustRoots: .certificates([.bytes(Array(roots.utf8), format: .pem)]))
        let target: any ResolvableTarget
        if IPAddressBytes(configuration.host) == nil {
            target = ResolvableTargets.DNS(host: configuration.host, port: configuration.port)
        } else if configuration.host.contains(":") {
            target = ResolvableTargets.IPv6(addresses: [.init(host: configuration.host, port: configuration.port)])
        } else {
            target = ResolvableTargets.IPv4(addresses: [.init(host: configuration.host, port: configuration.port)])
        }
        let transport = try HTTP2ClientTransport.Posix(target: target, transportSecurity: .tls(tls))
        var options = CallOptions.defaults
        options.timeout = configuration.timeout
        do {
            return try await withGRPCClient(transport: transport) { client in
                let ca = Istio_V1_Auth_IstioCertificateService.Client(wrapping: client)
                return try await ca.createCertificate(message, metadata: metadata, options: options) { response in
                    try response.message.certChain
                }
            }
        } catch let error as RPCError {
            throw Failure(code: error.code, message: error.message)
        }
    }
}
