import Foundation
import MeshAPI
import NIOCore
import NIOSSL
import Testing
import X509

@testable import MeshCA

@Suite("Workload TLS against OpenSSL")
struct TLSInteropTests {
    @Test("openssl s_client: TLS 1.3 with ALPN h2 and an AES-GCM suite; TLS 1.2 and no client certificate refused",
        .enabled(if: Peers.opensslOrRequired, "openssl not found"))
    func opensslClient() async throws {
        let openssl = try #require(Peers.openssl, "openssl CLI is required")
        let authority = try makeAuthority()
        let serverID = spiffe("default", "server")
        let clientID = spiffe("default", "client")
        let server = try await WorkloadIdentity(
            identity: serverID, requester: LocalCertificateRequester(authority: authority, identity: serverID)
        ).refresh()
        let client = try await WorkloadIdentity(
            identity: clientID, requester: LocalCertificateRequester(authority: authority, identity: clientID)
        ).refresh()
        let context = try NIOSSLContext(configuration: server.makeServerTLSConfiguration())
        let roots = server.roots
        let echo = try await TLSEchoServer.start(
            context: { context },
            verifier: SpiffePeerVerifier(
                trustDomain: "cluster.local", allowedIdentities: [clientID], requiredUsage: .clientAuth,
                trustRoots: { roots }))
        do {
            try await check(openssl: openssl, client: client, port: echo.port)
        } catch {
            try await echo.stop()
            throw error
        }
        try await echo.stop()
    }

    func check(openssl: String, client: WorkloadCertificate, port: Int) async throws {
        try await withTemporaryDirectory { dir in
            let cert = dir.appendingPathComponent("client.pem")
            let key = dir.appendingPathComponent("client-key.pem")
            let ca = dir.appendingPathComponent("roots.pem")
            try client.certificateChainPEM().write(to: cert)
            try client.privateKeyPEM().write(to: key)
            try client.trustBundlePEM().write(to: ca)
            let base = [
                "s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", ca.path, "-verify_return_error", "-brief",
            ]
            let full = ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", ca.path, "-verify_return_error"]
            let ok = try Peers.run(openssl, full + ["-alpn", "h2", "-cert", cert.path, "-key", key.path], stdin: "")
            let text = ok.stdout + ok.stderr
            #expect(text.contains("New, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256")
                || text.contains("New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384"), "\(text)")
            #expect(text.contains("ALPN protocol: h2"), "\(text)")
            #expect(text.contains("Verify return code: 0 (ok)"), "\(text)")

            let tls12 = try Peers.run(openssl, base + ["-tls1_2", "-cert", cert.path, "-key", key.path], stdin: "")
            #expect(!(tls12.stdout + tls12.stderr).contains("CONNECTION ESTABLISHED"), "TLS 1.2 was accepted")

            // Without a client certificate the server ends the handshake (TLS 1.3 reports it
            // after the client's Finished, so look for the alert rather than the exit status).
            let anonymous = try Peers.run(openssl, base + ["-alpn", "h2", "-ign_eof"], stdin: "", timeoutSeconds: 20)
            let anonymousText = anonymous.stdout + anonymous.stderr
            #expect(anonymousText.contains("alert") || anonymous.status != 0, "\(anonymousText)")
        }
    }
}
