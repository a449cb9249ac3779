import Crypto
import Foundation
import MeshAPI
import SwiftASN1
import Testing
import X509
import _CryptoExtras

@testable import MeshCA

@Suite("Refusals of the CA service")
struct RefusalTests {
    let fixture: CAFixture
    init() throws { fixture = try CAFixture() }

    func expectRefusal(
        _ request: CertificateRequest, _ credentials: CallerCredentials, code: CertificateServiceError.Code,
        messageContains fragment: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        do {
            let chain = try await fixture.handler.createCertificate(request, credentials: credentials)
            Issue.record("expected \(code) but a chain of \(chain.count) was issued", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(fragment), "message was: \(error.message)", sourceLocation: sourceLocation)
        }
    }

    @Test("a token for the CSR's own identity gets a certificate")
    func happyPath() async throws {
        let id = spiffe("default", "app-a")
        let (key, csr) = try CSRBuilder.make(for: id)
        let chain = try await fixture.handler.createCertificate(
            CertificateRequest(csrPEM: csr, validitySeconds: 600),
            credentials: CAFixture.credentials(token: try fixture.token(namespace: "default", serviceAccount: "app-a")))
        let certificate = try await WorkloadCertificate.verifying(caResponse: chain, privateKey: key, expectedIdentity: id)
        #expect(certificate.identity == id)
    }

    @Test("a CSR without SAN gets the caller's identity")
    func csrWithoutSAN() async throws {
        let key = try KeyAlgorithm.ecdsaP256.generatePrivateKey()
        let csr = try CSRBuilder.pem(sans: [], privateKey: key)
        let chain = try await fixture.handler.createCertificate(
            CertificateRequest(csrPEM: csr),
            credentials: CAFixture.credentials(token: try fixture.token(namespace: "default", serviceAccount: "app-a")))
        let leaf = try PEMCodec.certificates(fromPEM: chain[0], source: "leaf")[0]
        #expect(try leaf.spiffeIdentity() == spiffe("default", "app-a"))
    }

    @Test("a CSR for another identity is refused with permissionDenied")
    func csrForAnotherIdentity() async throws {
        let (_, csr) = try CSRBuilder.make(for: spiffe("kube-system", "admin"))
        await expectRefusal(
            CertificateRequest(csrPEM: csr),
            CAFixture.credentials(token: try fixture.token(namespace: "default", serviceAccount: "app-a")),
            code: .permissionDenied,
            messageContains: "CSR requests spiffe://cluster.local/ns/kube-system/sa/admin but the caller is authorized only for spiffe://cluster.local/ns/default/sa/app-a")
    }

    @Test("a CSR with an extra DNS name is refused")
    func csrWithExtraName() async throws {
        let key = try KeyAlgorithm.ecdsaP256.generatePrivateKey()
        let csr = try CSRBuilder.pem(
            sans: [.uniformResourceIdentifier(spiffe("default", "app-a").description), .dnsName("evil.example")],
            privateKey: key)
        await expectRefusal(
            CertificateRequest(csrPEM: csr),
            CAFixture.credentials(token: try fixture.token(namespace: "default", serviceAccount: "app-a")),
            code: .permissionDenied, messageContains: "DNS:evil.example")
    }

    @Test("a CSR whose signature does not verify is refused with invalidArgument")
    func badCSRSignature() async throws {
        let id = spiffe("default", "app-a")
        let (_, csr) = try CSRBuilder.make(for: id)
        // Flip a bit inside the signature (the last bytes of the DER).
        var document = try PEMDocument(pemString: csr)
        document.derBytes[document.derBytes.count - 3] ^= 0x01
        await expectRefusal(
            CertificateRequest(csrPEM: document.pemString),
            CAFixture.credentials(token: try fixture.token(namespace: "default", serviceAccount: "app-a")),
            code: .invalidArgument, messageContains: "CSR signature does not verify")
    }

    @Test("malformed PEM is refused with invalidArgument", arguments: [
        ("", "not a PEM block"),
        ("-----BEGIN CERTIFICATE REQUEST-----\nnot base64!!\n-----END CERTIFICATE REQUEST-----\n", "not a PEM block"),
        ("-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n", "not a PKCS#10 request"),
        ("-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n", "expected \"CERTIFICATE REQUEST\""),
    ])
    func malformedPEM(pem: String, fragment: String) async throws {
        await expectRefusal(
            CertificateRequest(csrPEM: pem),
            CAFixture.credentials(token: try fixture.token(namespace: "default", serviceAccount: "app-a")),
            code: .invalidArgument, messageContains: fragment)
    }

    @Test("no credential at all is unauthenticated")
    func noCredential() async throws {
        let (_, csr) = try CSRBuilder.make(for: spiffe("default", "app-a"))
        await expectRefusal(
            CertificateRequest(csrPEM: csr), CallerCredentials(), code: .unauthenticated, messageContains: "no credential")
    }

    @Test("an expired token is unauthenticated")
    func expiredToken() async throws {
        let (_, csr) = try CSRBuilder.make(for: spiffe("default", "app-a"))
        let token = try fixture.token(
            namespace: "default", serviceAccount: "app-a", now: Date().addingTimeInterval(-7200), lifetime: .seconds(3600))
        await expectRefusal(
            CertificateRequest(csrPEM: csr), CAFixture.credentials(token: token), code: .unauthenticated,
            messageContains: "jwt: token expired")
    }

    @Test("a token signed by an unknown key is unauthenticated")
    func wronglySignedToken() async throws {
        let (_, csr) = try CSRBuilder.make(for: spiffe("default", "app-a"))
        let stranger = JWTSigner.es256(P256.Signing.PrivateKey(), keyID: "k1")
        let token = try fixture.token(namespace: "default", serviceAccount: "app-a", signer: stranger)
        await expectRefusal(
            CertificateRequest(csrPEM: csr), CAFixture.credentials(token: token), code: .unauthenticated,
            messageContains: "jwt: token signature does not verify")
    }

    @Test("a token for another audience is unauthenticated")
    func wrongAudience() async throws {
        let (_, csr) = try CSRBuilder.make(for: spiffe("default", "app-a"))
        let token = try fixture.token(namespace: "default", serviceAccount: "app-a", audiences: ["kubernetes"])
        await expectRefusal(
            CertificateRequest(csrPEM: csr), CAFixture.credentials(token: token), code: .unauthenticated,
            messageContains: "token audience kubernetes does not include the required audience")
    }

    @Test("a token from another issuer is unauthenticated")
    func wrongIssuer() async throws {
        let (_, csr) = try CSRBuilder.make(for: spiffe("default", "app-a"))
        let token = try fixture.token(namespace: "default", serviceAccount: "app-a", issuer: "https://evil")
        await expectRefusal(
            CertificateRequest(csrPEM: csr), CAFixture.credentials(token: token), code: .unauthenticated,
            messageContains: "token issuer https://evil is not trusted")
    }

    @Test("a workload may not impersonate: only trusted node accounts may")
    func impersonationFromUntrustedAccount() async throws {
        let target = spiffe("default", "app-a")
        let (_, csr) = try CSRBuilder.make(for: target)
        let token = try fixture.token(namespace: "default", serviceAccount: "app-b", node: "node-a")
        await expectRefusal(
            CertificateRequest(csrPEM: csr, metadata: ["ImpersonatedIdentity": target.description]),
            CAFixture.credentials(token: token), code: .unauthenticated,
            messageContains: "request impersonation authentication failure: caller spiffe://cluster.local/ns/default/sa/app-b is not a trusted node account")
    }

    @Test("ztunnel may impersonate a workload on its own node")
    func impersonationOnOwnNode() async throws {
        let target = spiffe("default", "app-a")
        let (key, csr) = try CSRBuilder.make(for: target)
        let token = try fixture.token(namespace: "istio-system", serviceAccount: "ztunnel", node: "node-a")
        let chain = try await fixture.handler.createCertificate(
            CertificateRequest(csrPEM: csr, metadata: ["ImpersonatedIdentity": target.description]),
            credentials: CAFixture.credentials(token: token))
        let certificate = try await WorkloadCertificate.verifying(caResponse: chain, privateKey: key, expectedIdentity: target)
        #expect(certificate.identity == target)
    }

    @Test("ztunnel may not impersonate a workload on another node")
    func impersonationOnOtherNode() async throws {
        let target = spiffe("default", "app-b")
        let (_, csr) = try CSRBuilder.make(for: target)
        let token = try fixture.token(namespace: "istio-system", serviceAccount: "ztunnel", node: "node-a")
        await expectRefusal(
            CertificateRequest(csrPEM: csr, metadata: ["ImpersonatedIdentity": target.description]),
            CAFixture.credentials(token: token), code: .unauthenticated,
            messageContains: "no workload with identity spiffe://cluster.local/ns/default/sa/app-b runs on node node-a")
    }

    @Test("impersonation of a malformed identity is refused")
    func impersonationMalformed() async throws {
        let (_, csr) = try CSRBuilder.make(for: spiffe("default", "app-a"))
        let token = try fixture.token(namespace: "istio-system", serviceAccount: "ztunnel", node: "node-a")
        await expectRefusal(
            CertificateRequest(csrPEM: csr, metadata: ["ImpersonatedIdentity": "spiffe://cluster.local/ns/default"]),
            CAFixture.credentials(token: token), code: .unauthenticated,
            messageContains: "request impersonation authentication failure: invalid SPIFFE ID")
    }

    @Test("ztunnel's CSR must still name the impersonated identity, not a third one")
    func impersonationCSRMismatch() async throws {
        let (_, csr) = try CSRBuilder.make(for: spiffe("default", "app-b"))
        let token = try fixture.token(namespace: "istio-system", serviceAccount: "ztunnel", node: "node-a")
        await expectRefusal(
            CertificateRequest(csrPEM: csr, metadata: ["ImpersonatedIdentity": spiffe("default", "app-a").description]),
            CAFixture.credentials(token: token), code: .permissionDenied, messageContains: "authorized only for")
    }

    @Test("a client certificate from this CA authenticates its own renewal")
    func mtlsRenewal() async throws {
        let id = spiffe("default", "app-a")
        let (key, csr) = try CSRBuilder.make(for: id)
        let first = try fixture.authority.sign(csrPEM: csr, for: id)
        let (_, renewal) = try CSRBuilder.make(for: id)
        let chain = try await fixture.handler.createCertificate(
            CertificateRequest(csrPEM: renewal), credentials: CallerCredentials(peerCertificateChain: [first.leaf]))
        #expect(try PEMCodec.certificates(fromPEM: chain[0], source: "leaf")[0].spiffeIdentity() == id)
        _ = key
    }

    @Test("a client certificate from another CA does not authenticate")
    func mtlsForeignCA() async throws {
        let id = spiffe("default", "app-a")
        let other = try makeAuthority()
        let (_, csr) = try CSRBuilder.make(for: id)
        let foreign = try other.sign(csrPEM: csr, for: id)
        await expectRefusal(
            CertificateRequest(csrPEM: csr), CallerCredentials(peerCertificateChain: [foreign.leaf]),
            code: .unauthenticated, messageContains: "mtls: certificate")
    }

    @Test("an expired client certificate does not authenticate")
    func mtlsExpired() async throws {
        let id = spiffe("default", "app-a")
        let (_, csr) = try CSRBuilder.make(for: id)
        let old = try fixture.authority.sign(
            csrPEM: csr, for: id, ttl: .seconds(60), now: Date().addingTimeInterval(-3600))
        await expectRefusal(
            CertificateRequest(csrPEM: csr), CallerCredentials(peerCertificateChain: [old.leaf]),
            code: .unauthenticated, messageContains: "mtls:")
    }
}
