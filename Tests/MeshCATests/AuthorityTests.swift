import Foundation
import MeshAPI
import Testing
import X509

@testable import MeshCA

@Suite("Certificate authority")
struct AuthorityTests {
    @Test("a self-signed root is created once and kept across restarts")
    func selfSignedRootPersists() async throws {
        try await withTemporaryDirectory { dir in
            let first = try CertificateAuthority.selfSigned(directory: dir)
            let second = try CertificateAuthority.selfSigned(directory: dir)
            #expect(first.signer.root == second.signer.root)
            #expect(first.trustBundle == second.trustBundle)
            let keyPath = dir.appendingPathComponent("ca-key.pem").path
            let attributes = try FileManager.default.attributesOfItem(atPath: keyPath)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("root-cert.pem").path))
        }
    }

    @Test("a directory with a certificate but no key is an error, not overwritten")
    func partialDirectoryRefused() async throws {
        try await withTemporaryDirectory { dir in
            let root = try SigningAuthority.makeSelfSignedRoot(trustDomain: "cluster.local")
            try PEMCodec.pem(root.certificate).write(to: dir.appendingPathComponent("ca-cert.pem"))
            #expect(throws: CertificateAuthorityError.self) {
                _ = try CertificateAuthority.selfSigned(directory: dir)
            }
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("ca-key.pem").path))
        }
    }

    @Test("issued chain: leaf, root; SPIFFE SAN from the caller identity; checked by openssl and Python",
        .enabled(if: Peers.opensslOrRequired && Peers.pythonOrRequired, "openssl or python3+cryptography not found"))
    func issuedLeafVerifiesExternally() async throws {
        let authority = try makeAuthority()
        let id = spiffe("default", "foo")
        let (_, csr) = try CSRBuilder.make(for: id)
        let before = Date()
        let issued = try authority.sign(csrPEM: csr, for: id, ttl: .seconds(3600))
        #expect(issued.pemChain.count == 2)
        #expect(issued.pemChain.allSatisfy { $0.components(separatedBy: "BEGIN CERTIFICATE").count == 2 })
        #expect(issued.pemChain.allSatisfy { $0.hasSuffix("\n") })
        try await withTemporaryDirectory { dir in
            let files = try ExternalChecks.writeChain(issued.pemChain, rootCount: 1, to: dir)
            try ExternalChecks.opensslVerify(leaf: files.leaf, untrusted: files.untrusted, roots: files.roots)
            let text = try ExternalChecks.opensslText(files.leaf)
            #expect(text.contains("URI:spiffe://cluster.local/ns/default/sa/foo"))
            #expect(text.contains("Digital Signature, Key Encipherment"))
            #expect(text.contains("TLS Web Server Authentication, TLS Web Client Authentication"))
            #expect(text.contains("CA:FALSE"))
            #expect(text.contains("X509v3 Subject Alternative Name: critical"))
            #expect(text.contains("ecdsa-with-SHA256"))
            let report = try ExternalChecks.pythonVerify(leaf: files.leaf, untrusted: files.untrusted, roots: files.roots)
            #expect(report.chain_length == 2)
            #expect(report.uris == ["spiffe://cluster.local/ns/default/sa/foo"])
            #expect(report.dns.isEmpty)
            #expect(report.subject == "")
            #expect(report.san_critical)
            #expect(report.digital_signature && report.key_encipherment && !report.key_cert_sign)
            #expect(report.server_auth && report.client_auth && !report.is_ca)
            // Back-dated by the clock-skew allowance (60 s), lifetime as requested.
            let skew = MeshCAConstants.defaultClockSkewAllowance.timeInterval
            #expect(abs(report.not_before - (before.timeIntervalSince1970 - skew)) < 5)
            #expect(abs(report.not_after - (before.timeIntervalSince1970 + 3600)) < 5)
        }
    }

    @Test("a plugged-in CA made by openssl signs as an intermediate; chain verifies",
        .enabled(if: Peers.opensslOrRequired && Peers.pythonOrRequired, "openssl or python3+cryptography not found"))
    func pluggedInIntermediate() async throws {
        try await withTemporaryDirectory { dir in
            try OpenSSLCA.makeCACerts(in: dir)
            let authority = try CertificateAuthority.pluggedIn(directory: dir)
            #expect(!authority.signer.isRoot)
            #expect(authority.signer.intermediates.count == 1)
            let id = spiffe("bookinfo", "reviews")
            let (_, csr) = try CSRBuilder.make(for: id)
            let issued = try authority.sign(csrPEM: csr, for: id)
            #expect(issued.pemChain.count == 3)
            let out = dir.appendingPathComponent("out")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let files = try ExternalChecks.writeChain(issued.pemChain, rootCount: 1, to: out)
            try ExternalChecks.opensslVerify(leaf: files.leaf, untrusted: files.untrusted, roots: files.roots)
            let report = try ExternalChecks.pythonVerify(leaf: files.leaf, untrusted: files.untrusted, roots: files.roots)
            #expect(report.chain_length == 3)
            #expect(report.uris == [id.description])
            // Default TTL: 24 h.
            #expect(abs(report.not_after - Date().timeIntervalSince1970 - 86400) < 10)
        }
    }

    @Test("a plugged-in CA whose key does not match its certificate is refused")
    func pluggedInKeyMismatch() async throws {
        try await withTemporaryDirectory { dir in
            let root = try SigningAuthority.makeSelfSignedRoot(trustDomain: "cluster.local")
            let other = try KeyAlgorithm.ecdsaP256.generatePrivateKey()
            try PEMCodec.pem(root.certificate).write(to: dir.appendingPathComponent("ca-cert.pem"))
            try PEMCodec.pem(other).write(to: dir.appendingPathComponent("ca-key.pem"))
            try PEMCodec.pem(root.certificate).write(to: dir.appendingPathComponent("root-cert.pem"))
            #expect {
                _ = try CertificateAuthority.pluggedIn(directory: dir)
            } throws: { error in
                guard case .invalidCAMaterial(let reason) = error as? CertificateAuthorityError else { return false }
                return reason.contains("private key does not belong")
            }
        }
    }

    @Test("RSA-2048 root signs P-256 workload keys with sha256WithRSAEncryption",
        .enabled(if: Peers.opensslOrRequired, "openssl not found"))
    func rsaRoot() async throws {
        let authority = try makeAuthority(algorithm: .rsa2048)
        let id = spiffe("default", "rsa")
        let (_, csr) = try CSRBuilder.make(for: id)
        let issued = try authority.sign(csrPEM: csr, for: id)
        try await withTemporaryDirectory { dir in
            let files = try ExternalChecks.writeChain(issued.pemChain, rootCount: 1, to: dir)
            try ExternalChecks.opensslVerify(leaf: files.leaf, untrusted: files.untrusted, roots: files.roots)
            #expect(try ExternalChecks.opensslText(files.leaf).contains("sha256WithRSAEncryption"))
        }
    }

    @Test("TTL above the maximum is capped, not refused; zero means the default")
    func ttlCapping() throws {
        let config = CertificateAuthority.Configuration(defaultTTL: .seconds(600), maximumTTL: .seconds(3600))
        let authority = try makeAuthority(configuration: config)
        let id = spiffe("default", "ttl")
        let now = Date()
        let capped = try authority.sign(csrPEM: try CSRBuilder.make(for: id).csrPEM, for: id, ttl: .seconds(999_999), now: now)
        #expect(abs(capped.leaf.notValidAfter.timeIntervalSince(now) - 3600) < 2)
        let defaulted = try authority.sign(csrPEM: try CSRBuilder.make(for: id).csrPEM, for: id, ttl: .zero, now: now)
        #expect(abs(defaulted.leaf.notValidAfter.timeIntervalSince(now) - 600) < 2)
    }

    @Test("a leaf never outlives its issuer")
    func ttlCappedByIssuer() throws {
        let root = try SigningAuthority.makeSelfSignedRoot(trustDomain: "cluster.local", validity: .seconds(7200))
        let authority = try CertificateAuthority(signer: root)
        let id = spiffe("default", "short")
        let issued = try authority.sign(csrPEM: try CSRBuilder.make(for: id).csrPEM, for: id, ttl: .seconds(86400))
        #expect(issued.leaf.notValidAfter <= root.certificate.notValidAfter)
    }

    @Test("identities of another trust domain are not issued")
    func foreignTrustDomain() throws {
        let authority = try makeAuthority()
        let id = spiffe("default", "foo", td: "other.domain")
        #expect(throws: CertificateAuthorityError.foreignTrustDomain(id, expected: "cluster.local")) {
            _ = try authority.sign(csrPEM: try CSRBuilder.make(for: id).csrPEM, for: id)
        }
    }

    @Test("serving certificate for the CA endpoint carries DNS and IP SANs",
        .enabled(if: Peers.opensslOrRequired, "openssl not found"))
    func servingCertificate() async throws {
        let authority = try makeAuthority()
        let (chain, _) = try authority.issueServingCertificate(
            dnsNames: ["istiod.istio-system.svc"], ipAddresses: ["127.0.0.1"])
        try await withTemporaryDirectory { dir in
            let leaf = dir.appendingPathComponent("leaf.pem")
            try PEMCodec.pem(chain[0]).write(to: leaf)
            let text = try ExternalChecks.opensslText(leaf)
            #expect(text.contains("DNS:istiod.istio-system.svc"))
            #expect(text.contains("IP Address:127.0.0.1"))
        }
    }
}

/// Makes an Istio `cacerts` directory with the OpenSSL CLI: an EC root and an intermediate.
enum OpenSSLCA {
    static func makeCACerts(in dir: URL) throws {
        let openssl = try #require(Peers.openssl, "openssl CLI is required")
        let rootConfig = """
            [req]
            distinguished_name=dn
            x509_extensions=v3_ca
            prompt=no
            [dn]
            O=Test Org
            CN=Test Root CA
            [v3_ca]
            basicConstraints=critical,CA:TRUE
            keyUsage=critical,keyCertSign,cRLSign
            subjectKeyIdentifier=hash

            """
        let intermediateExtensions = """
            basicConstraints=critical,CA:TRUE,pathlen:0
            keyUsage=critical,keyCertSign,cRLSign,digitalSignature
            subjectKeyIdentifier=hash
            authorityKeyIdentifier=keyid

            """
        try rootConfig.write(to: dir.appendingPathComponent("root.cnf"))
        try intermediateExtensions.write(to: dir.appendingPathComponent("int.ext"))
        func run(_ args: [String]) throws {
            let result = try Peers.run(openssl, args)
            try #require(result.status == 0, "openssl \(args.joined(separator: " ")): \(result.stderr)")
        }
        let p = { (name: String) in dir.appendingPathComponent(name).path }
        try run([
            "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", p("root-key.pem"), "-out", p("root-cert.pem"), "-config", p("root.cnf"), "-days", "30",
        ])
        try run([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", p("ca-key.pem"), "-out", p("ca.csr"), "-subj", "/O=Test Org/CN=Test Intermediate CA",
        ])
        try run([
            "x509", "-req", "-in", p("ca.csr"), "-CA", p("root-cert.pem"), "-CAkey", p("root-key.pem"),
            "-CAcreateserial", "-out", p("ca-cert.pem"), "-days", "20", "-extfile", p("int.ext"),
        ])
        let chain = try String(contentsOfFile: p("ca-cert.pem"), encoding: .utf8)
            + String(contentsOfFile: p("root-cert.pem"), encoding: .utf8)
        try chain.write(to: dir.appendingPathComponent("cert-chain.pem"))
    }
}
