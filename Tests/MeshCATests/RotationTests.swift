import Foundation
import MeshAPI
import NIOCore
import NIOSSL
import Testing
import Synchronization
import X509

@testable import MeshCA

@Suite("Workload identity rotation", .serialized)
struct RotationTests {
    @Test("short TTL: renewed after half-life and before half-life plus jitter; old and new TLS connections work")
    func shortTTLRotation() async throws {
        let authority = try makeAuthority(configuration: .init(clockSkewAllowance: .seconds(1)))
        let serverID = spiffe("default", "server")
        let clientID = spiffe("default", "client")
        let ttl = 4.0
        let jitter = 0.05
        let config = WorkloadIdentity.Configuration(requestedTTL: .seconds(ttl), jitterFraction: jitter)
        let server = WorkloadIdentity(
            identity: serverID, requester: LocalCertificateRequester(authority: authority, identity: serverID),
            configuration: config)
        let client = WorkloadIdentity(
            identity: clientID, requester: LocalCertificateRequester(authority: authority, identity: clientID),
            configuration: config)
        let serverRotations = await server.rotations()
        let serverContext = RotatingTLSContext(role: .server)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await server.run() }
            group.addTask { await client.run() }
            group.addTask { await serverContext.run(identity: server) }
            defer { group.cancelAll() }

            var rotations = serverRotations.makeAsyncIterator()
            let first = try #require(await rotations.next())
            let firstSeen = Date()
            _ = try await server.waitForCertificate()
            let clientCertificate = try await client.waitForCertificate()
            #expect(first.identity == serverID)
            while serverContext.current == nil { try await Task.sleep(for: .milliseconds(10)) }
            let firstContext = serverContext.current

            let roots = RootsBox(authority.trustBundle.roots)
            let echo = try await TLSEchoServer.start(
                context: { serverContext.current },
                verifier: SpiffePeerVerifier(
                    trustDomain: "cluster.local", allowedIdentities: [clientID], requiredUsage: .clientAuth,
                    trustRoots: { roots.roots }))
            let clientContext = try NIOSSLContext(configuration: clientCertificate.makeClientTLSConfiguration())
            let verifier = SpiffePeerVerifier(
                trustDomain: "cluster.local", allowedIdentities: [serverID], requiredUsage: .serverAuth,
                trustRoots: { roots.roots })
            do {
                try await withTLSEchoConnection(port: echo.port, context: clientContext, verifier: verifier) { before, send in
                    #expect(before.identity == serverID)
                    #expect(before.leafSerial == first.leaf.serialNumber)

                    let second = try #require(await rotations.next())
                    let elapsed = Date().timeIntervalSince(firstSeen)
                    // Measured from the first certificate's issue (notAfter - ttl; X.509 times
                    // have whole seconds), not from when this test saw it: under load the first
                    // rotation can reach the test late, which made the renewal look early.
                    let sinceIssue = Date().timeIntervalSince(first.notAfter.addingTimeInterval(-ttl))
                    #expect(second.leaf.serialNumber != first.leaf.serialNumber)
                    #expect(sinceIssue >= ttl * 0.5 - 0.6, "renewed too early: \(sinceIssue) s after issue")
                    // Slack for a loaded machine (timers and the CA call run late under compilers).
                    #expect(elapsed <= ttl * (0.5 + jitter) + 2.0, "renewed too late: \(elapsed) s")
                    #expect(second.notAfter > first.notAfter)
                    // Let the server's context follow the rotation (bounded; a fixed sleep was flaky).
                    let deadline = ContinuousClock.now + .seconds(5)
                    while serverContext.current === firstContext, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(10))
                    }

                    // The connection opened before the rotation still works …
                    try await send("still alive after rotation")
                    // … and one opened after it sees the new certificate.
                    try await withTLSEchoConnection(port: echo.port, context: clientContext, verifier: verifier) { after, send2 in
                        #expect(after.identity == serverID)
                        #expect(after.leafSerial == second.leaf.serialNumber)
                        try await send2("new connection")
                    }
                }
            } catch {
                try await echo.stop()
                throw error
            }
            try await echo.stop()
        }
    }

    @Test("a failing CA is retried with back-off; the current certificate is served until it expires")
    func backoffKeepsServing() async throws {
        let authority = try makeAuthority(configuration: .init(clockSkewAllowance: .seconds(1)))
        let id = spiffe("default", "flaky")
        let requester = FlakyRequester(inner: LocalCertificateRequester(authority: authority, identity: id))
        let identity = WorkloadIdentity(
            identity: id, requester: requester,
            configuration: .init(
                requestedTTL: .seconds(6), jitterFraction: 0, initialBackoff: .milliseconds(100),
                maximumBackoff: .milliseconds(400)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await identity.run() }
            defer { group.cancelAll() }
            let first = try await identity.waitForCertificate()
            requester.failing(true)
            // Past half-life (3 s) the refresh fails, but the certificate is still served.
            try await Task.sleep(for: .seconds(4.5))
            #expect(await identity.certificate == first)
            let calls = requester.calls
            #expect(calls >= 3, "expected retries with back-off, saw \(calls) calls")
            #expect(calls <= 12, "retries should back off, saw \(calls) calls")
            // After expiry nothing is served.
            try await Task.sleep(for: .seconds(2.5))
            #expect(await identity.certificate == nil)
            requester.failing(false)
            let next = try await identity.waitForCertificate()
            #expect(next.leaf.serialNumber != first.leaf.serialNumber)
        }
    }

    @Test("at most 8 CSRs are in flight at once")
    func concurrencyLimit() async throws {
        let authority = try makeAuthority()
        let limiter = CSRLimiter()
        let slow = SlowRequester(authority: authority)
        try await withThrowingTaskGroup(of: WorkloadCertificate.self) { group in
            for index in 0..<20 {
                let id = spiffe("default", "w\(index)")
                let identity = WorkloadIdentity(identity: id, requester: slow, limiter: limiter)
                group.addTask { try await identity.refresh() }
            }
            var count = 0
            for try await certificate in group {
                #expect(certificate.identity.namespace == "default")
                count += 1
            }
            #expect(count == 20)
        }
        #expect(await limiter.maximumObservedConcurrency == 8)
        #expect(slow.maximumConcurrency == 8)
    }

    @Test("a CA answer for another identity or another key is not accepted")
    func responseChecks() async throws {
        let authority = try makeAuthority()
        let id = spiffe("default", "me")
        let other = spiffe("default", "someone-else")
        let (key, csr) = try CSRBuilder.make(for: id)
        let (_, otherCSR) = try CSRBuilder.make(for: other)
        let forOther = try authority.sign(csrPEM: otherCSR, for: other).pemChain
        await #expect(throws: WorkloadCertificateError.self) {
            _ = try await WorkloadCertificate.verifying(caResponse: forOther, privateKey: key, expectedIdentity: id)
        }
        let (_, sameIDOtherKey) = try CSRBuilder.make(for: id)
        let wrongKey = try authority.sign(csrPEM: sameIDOtherKey, for: id).pemChain
        await #expect(throws: WorkloadCertificateError(reason: "the leaf certificate is not for the key that signed the CSR")) {
            _ = try await WorkloadCertificate.verifying(caResponse: wrongKey, privateKey: key, expectedIdentity: id)
        }
        // A chain whose root was swapped for a stranger's does not verify.
        var swapped = try authority.sign(csrPEM: csr, for: id).pemChain
        swapped[swapped.count - 1] = try PEMCodec.pem(try makeAuthority().signer.root)
        await #expect(throws: WorkloadCertificateError.self) {
            _ = try await WorkloadCertificate.verifying(caResponse: swapped, privateKey: key, expectedIdentity: id)
        }
    }

    @Test("SDS adapter serves default and ROOTCA")
    func sdsSecrets() async throws {
        let authority = try makeAuthority()
        let id = spiffe("default", "envoy")
        let identity = WorkloadIdentity(identity: id, requester: LocalCertificateRequester(authority: authority, identity: id))
        let sds = SDSSecretSource(workloadIdentity: identity)
        #expect(try await sds.secret(named: "default") == nil)
        let certificate = try await identity.refresh()
        guard case .tlsCertificate(let name, let chain, let key) = try await sds.secret(named: "default") else {
            Issue.record("no default secret")
            return
        }
        #expect(name == "default")
        #expect(try PEMCodec.certificates(fromPEM: chain, source: "chain")[0] == certificate.leaf)
        #expect(try PEMCodec.privateKey(fromPEM: key, source: "key").publicKey == certificate.leaf.publicKey)
        guard case .validationContext(_, let roots) = try await sds.secret(named: "ROOTCA") else {
            Issue.record("no ROOTCA secret")
            return
        }
        #expect(try PEMCodec.certificates(fromPEM: roots, source: "roots") == authority.trustBundle.roots)
        #expect(try await sds.secret(named: "other") == nil)
    }
}

/// Fails on demand and counts calls.
final class FlakyRequester: CertificateRequesting, Sendable {
    let inner: LocalCertificateRequester
    private let state = Mutex<(failing: Bool, calls: Int)>((false, 0))
    init(inner: LocalCertificateRequester) { self.inner = inner }
    func failing(_ value: Bool) { state.withLock { $0 = (value, 0) } }
    var calls: Int { state.withLock { $0.calls } }
    func requestCertificate(csrPEM: String, validity: Duration, impersonating: SpiffeID?) async throws -> [String] {
        let failing = state.withLock { s -> Bool in
            s.calls += 1
            return s.failing
        }
        if failing { throw CertificateServiceError(code: .internal, message: "CA unavailable") }
        return try await inner.requestCertificate(csrPEM: csrPEM, validity: validity, impersonating: impersonating)
    }
}

/// Signs slowly and records concurrency.
final class SlowRequester: CertificateRequesting, Sendable {
    let authority: CertificateAuthority
    private let state = Mutex<(now: Int, max: Int)>((0, 0))
    init(authority: CertificateAuthority) { self.authority = authority }
    var maximumConcurrency: Int { state.withLock { $0.max } }
    func requestCertificate(csrPEM: String, validity: Duration, impersonating: SpiffeID?) async throws -> [String] {
        state.withLock {
            $0.now += 1
            $0.max = max($0.max, $0.now)
        }
        defer { state.withLock { $0.now -= 1 } }
        try await Task.sleep(for: .milliseconds(50))
        guard let leafID = try CSRInspection.verify(pem: csrPEM).requestedNames.first.flatMap(SpiffeID.init) else {
            throw CertificateServiceError(code: .invalidArgument, message: "CSR names no identity")
        }
        return try authority.sign(csrPEM: csrPEM, for: leafID, ttl: validity).pemChain
    }
}
