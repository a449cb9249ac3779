import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import MeshAPI
import MeshProto
import Testing
import X509

@testable import MeshCA

/// Runs a CA gRPC server on an ephemeral loopback port for the duration of `body`.
@discardableResult
func withCAServer<T: Sendable>(
    _ fixture: CAFixture, clientCertificates: CAServerTransportSecurity.ClientCertificates = .notRequested,
    _ body: @Sendable (Int) async throws -> T
) async throws -> T {
    let (chain, key) = try fixture.authority.issueServingCertificate(
        dnsNames: ["istiod.istio-system.svc"], ipAddresses: ["127.0.0.1"])
    let transport = HTTP2ServerTransport.Posix(
        address: .ipv4(host: "127.0.0.1", port: 0),
        transportSecurity: try CAServerTransportSecurity.make(
            chain: chain, privateKey: key, clientCertificates: clientCertificates))
    let server = GRPCServer(transport: transport, services: [IstioCertificateGRPCService(handler: fixture.handler)])
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.serve() }
        defer { server.beginGracefulShutdown() }
        let port = try #require(try await transport.listeningAddress.ipv4?.port)
        return try await body(port)
    }
}

@Suite("Istio CA over gRPC", .serialized)
struct GRPCServiceTests {
    let fixture: CAFixture
    init() throws { fixture = try CAFixture() }

    func client(port: Int, token: String, roots: [Certificate]? = nil) -> IstioCAClient {
        IstioCAClient(
            configuration: .init(
                host: "127.0.0.1", port: port, trustRoots: roots ?? fixture.authority.trustBundle.roots,
                credential: .bearerToken { token }))
    }

    func expectStatus(
        _ code: RPCError.Code, containing fragment: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ call: () async throws -> [String]
    ) async {
        do {
            let chain = try await call()
            Issue.record("expected \(code), got a chain of \(chain.count)", sourceLocation: sourceLocation)
        } catch let failure as IstioCAClient.Failure {
            #expect(failure.code == code, "\(failure)", sourceLocation: sourceLocation)
            #expect(failure.message.contains(fragment), "\(failure)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("a workload identity provider gets its certificate over TLS with a token")
    func tokenOverTLS() async throws {
        let id = spiffe("default", "app-a")
        let token = try fixture.token(namespace: "default", serviceAccount: "app-a")
        try await withCAServer(fixture) { port in
            let provider = WorkloadIdentity(identity: id, requester: client(port: port, token: token))
            let certificate = try await provider.refresh()
            #expect(certificate.identity == id)
            #expect(certificate.roots == fixture.authority.trustBundle.roots)
            // Default requested TTL is 24 h.
            #expect(abs(certificate.notAfter.timeIntervalSinceNow - 86400) < 30)
        }
    }

    @Test("ztunnel gets a certificate for a workload on its node via ImpersonatedIdentity")
    func impersonationOverGRPC() async throws {
        let target = spiffe("default", "app-a")
        let token = try fixture.token(namespace: "istio-system", serviceAccount: "ztunnel", node: "node-a")
        try await withCAServer(fixture) { port in
            let provider = WorkloadIdentity(
                identity: target, requester: client(port: port, token: token),
                configuration: .init(impersonate: true))
            let got = try await provider.refresh()
            #expect(got.identity == target)
            let elsewhere = WorkloadIdentity(
                identity: spiffe("default", "app-b"), requester: client(port: port, token: token),
                configuration: .init(impersonate: true))
            await expectStatus(.unauthenticated, containing: "runs on node node-a") {
                try await elsewhere.refresh().pemChain
            }
        }
    }

    @Test("refusals carry precise gRPC statuses")
    func refusals() async throws {
        let id = spiffe("default", "app-a")
        let (_, csr) = try CSRBuilder.make(for: id)
        let (_, foreignCSR) = try CSRBuilder.make(for: spiffe("kube-system", "admin"))
        let good = try fixture.token(namespace: "default", serviceAccount: "app-a")
        let expired = try fixture.token(
            namespace: "default", serviceAccount: "app-a", now: Date().addingTimeInterval(-7200), lifetime: .seconds(60))
        let wrongAudience = try fixture.token(namespace: "default", serviceAccount: "app-a", audiences: ["other"])
        let workload = try fixture.token(namespace: "default", serviceAccount: "app-b", node: "node-a")
        try await withCAServer(fixture) { port in
            await expectStatus(.unauthenticated, containing: "token expired") {
                try await client(port: port, token: expired).requestCertificate(csrPEM: csr, validity: .seconds(60), impersonating: nil)
            }
            await expectStatus(.unauthenticated, containing: "audience") {
                try await client(port: port, token: wrongAudience).requestCertificate(csrPEM: csr, validity: .seconds(60), impersonating: nil)
            }
            await expectStatus(.permissionDenied, containing: "authorized only for spiffe://cluster.local/ns/default/sa/app-a") {
                try await client(port: port, token: good).requestCertificate(csrPEM: foreignCSR, validity: .seconds(60), impersonating: nil)
            }
            await expectStatus(.invalidArgument, containing: "malformed CSR") {
                try await client(port: port, token: good).requestCertificate(csrPEM: "garbage", validity: .seconds(60), impersonating: nil)
            }
            await expectStatus(.unauthenticated, containing: "not a trusted node account") {
                try await client(port: port, token: workload).requestCertificate(csrPEM: csr, validity: .seconds(60), impersonating: id)
            }
        }
    }

    @Test("the client refuses a CA whose serving certificate it does not trust")
    func clientVerifiesServer() async throws {
        let token = try fixture.token(namespace: "default", serviceAccount: "app-a")
        let strangerRoots = try makeAuthority().trustBundle.roots
        let (_, csr) = try CSRBuilder.make(for: spiffe("default", "app-a"))
        try await withCAServer(fixture) { port in
            await #expect(throws: (any Error).self) {
                _ = try await client(port: port, token: token, roots: strangerRoots)
                    .requestCertificate(csrPEM: csr, validity: .seconds(60), impersonating: nil)
            }
        }
    }

    @Test("renewal over mTLS: the client certificate authenticates; no certificate, no call")
    func mtlsRenewal() async throws {
        let id = spiffe("default", "app-a")
        let (key, csr) = try CSRBuilder.make(for: id)
        let first = try await WorkloadCertificate.verifying(
            caResponse: try fixture.authority.sign(csrPEM: csr, for: id).pemChain, privateKey: key, expectedIdentity: id)
        let roots = fixture.authority.trustBundle.roots
        try await withCAServer(fixture, clientCertificates: .required(roots: roots)) { port in
            let renewing = IstioCAClient(
                configuration: .init(host: "127.0.0.1", port: port, trustRoots: roots, credential: .clientCertificate { first }))
            let provider = WorkloadIdentity(identity: id, requester: renewing)
            let renewed = try await provider.refresh()
            #expect(renewed.identity == id)
            #expect(renewed.leaf.serialNumber != first.leaf.serialNumber)
            // A renewal for another identity with this certificate is refused.
            let other = WorkloadIdentity(identity: spiffe("default", "app-b"), requester: renewing)
            await expectStatus(.permissionDenied, containing: "authorized only for") { try await other.refresh().pemChain }
            // Without a client certificate the TLS handshake itself fails.
            let anonymous = client(port: port, token: try fixture.token(namespace: "default", serviceAccount: "app-a"))
            await #expect(throws: (any Error).self) {
                _ = try await anonymous.requestCertificate(csrPEM: csr, validity: .seconds(60), impersonating: nil)
            }
        }
    }
}

extension WorkloadCertificate {
    /// For status assertions: the chain as PEM strings.
    var pemChain: [String] { (try? certificateChain.map { try PEMCodec.pem($0) }) ?? [] }
}
