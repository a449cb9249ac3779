import Foundation
import MeshAPI
import NIOCore
import NIOSSL
import Testing
import X509

@testable import MeshCA

@Suite("Root rotation")
struct RootRotationTests {
    /// TLS from `client` to `server`, each trusting only the roots in its own certificate.
    func handshake(client: WorkloadCertificate, server: WorkloadCertificate) async throws -> SpiffeID {
        let serverContext = try NIOSSLContext(configuration: server.makeServerTLSConfiguration())
        let serverRoots = server.roots
        let clientRoots = client.roots
        let echo = try await TLSEchoServer.start(
            context: { serverContext },
            verifier: SpiffePeerVerifier(
                trustDomain: "cluster.local", allowedIdentities: [client.identity], requiredUsage: .clientAuth,
                trustRoots: { serverRoots }))
        do {
            let clientContext = try NIOSSLContext(configuration: client.makeClientTLSConfiguration())
            let verifier = SpiffePeerVerifier(
                trustDomain: "cluster.local", allowedIdentities: [server.identity], requiredUsage: .serverAuth,
                trustRoots: { clientRoots })
            let seen = try await withTLSEchoConnection(port: echo.port, context: clientContext, verifier: verifier) {
                view, send in
                try await send("across roots")
                return view.identity
            }
            try await echo.stop()
            return seen
        } catch {
            try await echo.stop()
            throw error
        }
    }

    func fetch(_ id: SpiffeID, from authority: CertificateAuthority) async throws -> WorkloadCertificate {
        try await WorkloadIdentity(identity: id, requester: LocalCertificateRequester(authority: authority, identity: id))
            .refresh()
    }

    @Test("old-root and new-root workloads talk during the overlap; the old root is dropped afterwards",
        .enabled(if: Peers.opensslOrRequired, "openssl not found"))
    func overlap() async throws {
        let authority = try makeAuthority()
        let oldRoot = authority.signer.root
        let alice = spiffe("default", "alice")
        let bob = spiffe("default", "bob")
        let carol = spiffe("default", "carol")

        // Before the rotation: carol holds a certificate and a bundle with the old root only.
        let carolOld = try await fetch(carol, from: authority)
        #expect(carolOld.roots == [oldRoot])

        // Step 1: distribute the new root; certificates are still signed by the old one.
        let newSigner = try SigningAuthority.makeSelfSignedRoot(trustDomain: "cluster.local")
        try authority.addTrustedRoot(newSigner.root)
        let aliceOld = try await fetch(alice, from: authority)
        #expect(aliceOld.roots.count == 2)
        #expect(aliceOld.leaf.issuer == oldRoot.subject)

        // Step 2: sign with the new root.
        try authority.activate(newSigner)
        let bobNew = try await fetch(bob, from: authority)
        #expect(bobNew.leaf.issuer == newSigner.root.subject)
        #expect(Set(bobNew.roots) == Set([oldRoot, newSigner.root]))

        // The response lists both roots, one per string, the signing root last; openssl agrees.
        let (_, csr) = try CSRBuilder.make(for: bob)
        let response = try authority.sign(csrPEM: csr, for: bob).pemChain
        #expect(response.count == 3)
        #expect(try PEMCodec.certificates(fromPEM: response[2], source: "last") == [newSigner.root])
        try await withTemporaryDirectory { dir in
            let files = try ExternalChecks.writeChain(response, rootCount: 2, to: dir)
            try ExternalChecks.opensslVerify(leaf: files.leaf, untrusted: files.untrusted, roots: files.roots)
        }

        // Old-root and new-root workloads talk, both directions.
        #expect(try await handshake(client: aliceOld, server: bobNew) == bob)
        #expect(try await handshake(client: bobNew, server: aliceOld) == alice)

        // Carol never refreshed her bundle: she cannot verify bob (new root) …
        await #expect(throws: (any Error).self) { _ = try await handshake(client: carolOld, server: bobNew) }

        // Step 3: the active root cannot be dropped; the old one can once everyone rotated.
        #expect(throws: CertificateAuthorityError.self) { try authority.removeTrustedRoot(newSigner.root) }
        try authority.removeTrustedRoot(oldRoot)
        #expect(authority.trustBundle.roots == [newSigner.root])
        let aliceNew = try await fetch(alice, from: authority)
        #expect(aliceNew.roots == [newSigner.root])
        #expect(try await handshake(client: aliceNew, server: bobNew) == bob)
        // A workload still on the old root is no longer trusted by new-bundle peers.
        await #expect(throws: (any Error).self) { _ = try await handshake(client: aliceOld, server: aliceNew) }
    }

    @Test("concatenated root encoding puts every root in the last entry")
    func concatenatedEncoding() async throws {
        let authority = try makeAuthority(configuration: .init(rootEncoding: .concatenatedInLastEntry))
        try authority.rotateToNewSelfSignedRoot()
        let id = spiffe("default", "zt")
        let (key, csr) = try CSRBuilder.make(for: id)
        let response = try authority.sign(csrPEM: csr, for: id).pemChain
        #expect(response.count == 2)
        #expect(try PEMCodec.certificates(fromPEM: response[1], source: "roots").count == 2)
        let certificate = try await WorkloadCertificate.verifying(caResponse: response, privateKey: key, expectedIdentity: id)
        #expect(certificate.roots.count == 2)
    }
}
