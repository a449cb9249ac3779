import Foundation
import Testing

/// Checks issued chains with tools we did not write.
enum ExternalChecks {
    /// Writes leaf / intermediates / roots of a CA response to files in `dir`.
    /// - Returns: paths of leaf, untrusted chain (intermediates, may be empty) and root bundle.
    static func writeChain(_ pemChain: [String], rootCount: Int, to dir: URL) throws -> (leaf: URL, untrusted: URL, roots: URL) {
        let leaf = dir.appendingPathComponent("leaf.pem")
        let untrusted = dir.appendingPathComponent("untrusted.pem")
        let roots = dir.appendingPathComponent("roots.pem")
        try pemChain[0].write(to: leaf)
        try pemChain.dropFirst().dropLast(rootCount).joined().write(to: untrusted)
        try pemChain.suffix(rootCount).joined().write(to: roots)
        return (leaf, untrusted, roots)
    }

    /// `openssl verify -CAfile roots -untrusted chain leaf` for both TLS purposes.
    static func opensslVerify(leaf: URL, untrusted: URL, roots: URL) throws {
        let openssl = try #require(Peers.openssl, "openssl CLI is required (MESH_REQUIRE_PEERS=1)")
        let hasUntrusted = ((try? String(contentsOf: untrusted, encoding: .utf8)) ?? "").contains("BEGIN")
        for purpose in ["sslclient", "sslserver"] {
            var args = ["verify", "-purpose", purpose, "-CAfile", roots.path]
            if hasUntrusted { args += ["-untrusted", untrusted.path] }
            args.append(leaf.path)
            let result = try Peers.run(openssl, args)
            #expect(result.status == 0, "openssl verify (\(purpose)) failed: \(result.stdout) \(result.stderr)")
            #expect(result.stdout.contains("\(leaf.path): OK"))
        }
    }

    /// `openssl x509 -text` of a PEM file.
    static func opensslText(_ file: URL) throws -> String {
        let openssl = try #require(Peers.openssl, "openssl CLI is required (MESH_REQUIRE_PEERS=1)")
        let result = try Peers.run(openssl, ["x509", "-in", file.path, "-noout", "-text"])
        #expect(result.status == 0, "openssl x509 failed: \(result.stderr)")
        return result.stdout
    }

    /// Verifies with Python `cryptography`'s X.509 path validation (client and server verifiers
    /// accept SPIFFE leaves only with their extension policy relaxed for the critical SAN and
    /// the empty subject, so the chain is checked with the permissive policy and the leaf
    /// fields are reported separately).
    static let pythonScript = #"""
    import json, sys, datetime
    from cryptography import x509
    from cryptography.x509.oid import ExtensionOID, ExtendedKeyUsageOID
    from cryptography.x509.verification import PolicyBuilder, Store, ExtensionPolicy, Criticality

    def load(path):
        data = open(path, "rb").read()
        return x509.load_pem_x509_certificates(data) if b"BEGIN" in data else []

    leaf = load(sys.argv[1])[0]
    untrusted = load(sys.argv[2])
    roots = load(sys.argv[3])
    now = datetime.datetime.now(datetime.timezone.utc)

    ee = ExtensionPolicy.permit_all()
    ca = ExtensionPolicy.webpki_defaults_ca()
    verifier = (PolicyBuilder().store(Store(roots)).time(now)
                .extension_policies(ca_policy=ca, ee_policy=ee).build_client_verifier())
    verified = verifier.verify(leaf, untrusted)

    san = leaf.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    ku = leaf.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE).value
    eku = leaf.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE).value
    bc = leaf.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value
    print(json.dumps({
        "chain_length": len(verified.chain),
        "uris": san.value.get_values_for_type(x509.UniformResourceIdentifier),
        "dns": san.value.get_values_for_type(x509.DNSName),
        "san_critical": san.critical,
        "subject": leaf.subject.rfc4514_string(),
        "digital_signature": ku.digital_signature,
        "key_encipherment": ku.key_encipherment,
        "key_cert_sign": ku.key_cert_sign,
        "server_auth": ExtendedKeyUsageOID.SERVER_AUTH in eku,
        "client_auth": ExtendedKeyUsageOID.CLIENT_AUTH in eku,
        "is_ca": bc.ca,
        "not_before": leaf.not_valid_before_utc.timestamp(),
        "not_after": leaf.not_valid_after_utc.timestamp(),
    }))
    """#

    struct PythonReport: Decodable {
        var chain_length: Int
        var uris: [String]
        var dns: [String]
        var san_critical: Bool
        var subject: String
        var digital_signature: Bool
        var key_encipherment: Bool
        var key_cert_sign: Bool
        var server_auth: Bool
        var client_auth: Bool
        var is_ca: Bool
        var not_before: Double
        var not_after: Double
    }

    static func pythonVerify(leaf: URL, untrusted: URL, roots: URL) throws -> PythonReport {
        let python = try #require(Peers.python, "python3 with cryptography is required (MESH_REQUIRE_PEERS=1)")
        let result = try Peers.run(python, ["-c", pythonScript, leaf.path, untrusted.path, roots.path])
        try #require(result.status == 0, "python cryptography verification failed: \(result.stderr)")
        return try JSONDecoder().decode(PythonReport.self, from: Data(result.stdout.utf8))
    }
}
