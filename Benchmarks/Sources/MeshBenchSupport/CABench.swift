import Crypto
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import MeshAPI
import MeshCA
import MeshProto
import X509

/// CSR signing throughput: in process through ``CertificateAuthority/sign(csrPEM:for:ttl:now:)``
/// and over Istio's CA service (gRPC, TLS, JWT bearer token) on loopback.
public final class CABenchEnvironment: Sendable {
    static let issuer = "https://kubernetes.default.svc.cluster.local"
    /// The authority that signs (a self-signed root in memory).
    public let authority: CertificateAuthority
    let tokenSigner: JWTSigner
    let handler: CertificateRequestHandler
    /// CSRs for `bench/sa0…sa63` (in-process) with their identities.
    let csrs: [(identity: SpiffeID, pem: String)]
    /// CSRs for `default/app-a` (what the gRPC caller's token names).
    let callerCSRs: [String]

    /// Creates the authority, a token issuer and the CSRs to sign.
    public init() throws {
        let root = try SigningAuthority.makeSelfSignedRoot(trustDomain: "cluster.local")
        authority = try CertificateAuthority(signer: root)
        tokenSigner = JWTSigner.es256(P256.Signing.PrivateKey(), keyID: "k1")
        let verifier = JWTVerifier(issuer: Self.issuer, keySet: JSONWebKeySet(keys: [tokenSigner.verificationKey]))
        handler = CertificateRequestHandler(
            authority: authority,
            authenticators: [KubernetesJWTAuthenticator(verifier: verifier, trustDomain: "cluster.local")])
        csrs = try (0..<64).map { i in
            let id = try SpiffeID(trustDomain: "cluster.local", namespace: "bench", serviceAccount: "sa\(i)")
            return (id, try CSRBuilder.make(for: id).csrPEM)
        }
        let caller = try SpiffeID(trustDomain: "cluster.local", namespace: "default", serviceAccount: "app-a")
        callerCSRs = try (0..<32).map { _ in try CSRBuilder.make(for: caller).csrPEM }
    }

    /// Signs `count` CSRs from `concurrency` tasks; returns the elapsed time.
    public func signInProcess(count: Int, concurrency: Int) async throws -> Duration {
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                let share = count / concurrency + (worker < count % concurrency ? 1 : 0)
                group.addTask { [authority, csrs] in
                    for index in 0..<share {
                        let csr = csrs[(worker &* 7919 &+ index) % csrs.count]
                        _ = try authority.sign(csrPEM: csr.pem, for: csr.identity)
                    }
                }
            }
            try await group.waitForAll()
        }
        return ContinuousClock.now - start
    }

    /// A running CA gRPC server (TLS) with one connected, token-authenticated client.
    public final class GRPCSetup: Sendable {
        let serverTask: Task<Void, any Error>
        let client: GRPCClient<HTTP2ClientTransport.Posix>
        let clientTask: Task<Void, any Error>
        let ca: Istio_V1_Auth_IstioCertificateService.Client<HTTP2ClientTransport.Posix>
        let metadata: Metadata
        let csrs: [String]

        init(environment: CABenchEnvironment) async throws {
            let authority = environment.authority
            let (chain, key) = try authority.issueServingCertificate(
                dnsNames: ["istiod.istio-system.svc"], ipAddresses: ["127.0.0.1"])
            let transport = HTTP2ServerTransport.Posix(
                address: .ipv4(host: "127.0.0.1", port: 0),
                transportSecurity: try CAServerTransportSecurity.make(
                    chain: chain, privateKey: key, clientCertificates: .notRequested))
            let server = GRPCServer(
                transport: transport, services: [IstioCertificateGRPCService(handler: environment.handler)])
            serverTask = Task { try await server.serve() }
            guard let port = try await transport.listeningAddress.ipv4?.port else {
                throw BenchError("the CA server has no IPv4 port")
            }
            let roots = try authority.trustBundle.roots.map { try $0.serializeAsPEM().pemString }.joined(separator: "\n")
            let clientTransport = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: "127.0.0.1", port: port),
                transportSecurity: .tls(
                    .init(
                        certificateChain: [], privateKey: nil, serverCertificateVerification: .fullVerification,
                        trustRoots: .certificates([.bytes(Array(roots.utf8), format: .pem)]))))
            let client = GRPCClient(transport: clientTransport)
            self.client = client
            clientTask = Task { try await client.runConnections() }
            ca = Istio_V1_Auth_IstioCertificateService.Client(wrapping: client)
            let token = try environment.tokenSigner.sign(
                .serviceAccountToken(
                    issuer: CABenchEnvironment.issuer, namespace: "default", serviceAccount: "app-a",
                    audiences: ["istio-ca"], podName: "app-a-pod", lifetime: .seconds(86400)))
            metadata = ["authorization": "Bearer \(token)"]
            csrs = environment.callerCSRs
            var warm = Istio_V1_Auth_IstioCertificateRequest()
            warm.csr = csrs[0]
            _ = try await ca.createCertificate(warm, metadata: metadata)
        }

        /// `count` calls from `concurrency` tasks over the one connection; returns the elapsed time.
        public func sign(count: Int, concurrency: Int) async throws -> Duration {
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<concurrency {
                    let share = count / concurrency + (task < count % concurrency ? 1 : 0)
                    group.addTask { [ca, metadata, csrs] in
                        for index in 0..<share {
                            var request = Istio_V1_Auth_IstioCertificateRequest()
                            request.csr = csrs[(task + index) % csrs.count]
                            request.validityDuration = 3600
                            let response = try await ca.createCertificate(request, metadata: metadata)
                            guard response.certChain.count == 2 else {
                                throw BenchError("expected leaf and root, got \(response.certChain.count) certificates")
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            return ContinuousClock.now - start
        }

        /// Closes the client and stops the server.
        public func stop() async {
            client.beginGracefulShutdown()
            _ = await clientTask.result
            serverTask.cancel()
            _ = await serverTask.result
        }
    }

    /// Starts the gRPC server and client.
    public func startGRPC() async throws -> GRPCSetup { try await GRPCSetup(environment: self) }
}
