import Foundation
import Testing
@testable import MeshAPI

/// The value checks behind the security policies, against the cases of Istio's own tests.
@Suite struct SecurityRulesTests {
    @Test func ipBlocksFollowGoNetip() {
        for valid in ["10.0.0.1", "10.0.0.0/8", "0.0.0.0/0", "10.1.2.3/32", "::1", "2001:db8::/32", "::ffff:1.2.3.4",
            "fe80::1%eth0", "::/0", "10.1.2.3/24"]
        {
            #expect(SecurityRules.ipBlockProblem(valid) == nil, "\(valid)")
        }
        for invalid in ["", "10.0.0.256", "010.0.0.1", "10.0.0.0/33", "10.0.0.0/08", "10.0.0.0/", "10.0.0.0/-1",
            "2001:db8::/129", "fe80::1%eth0/64", "fe80::1%", "host.example.com", "1.2.3.4/99999999999999999999", "::1::2"]
        {
            #expect(SecurityRules.ipBlockProblem(invalid) != nil, "\(invalid)")
        }
    }

    @Test func portsAreDecimalStringsUpTo65535() {
        #expect(SecurityRules.parsePort("0") == 0)
        #expect(SecurityRules.parsePort("8080") == 8080)
        #expect(SecurityRules.parsePort("000080") == 80)
        #expect(SecurityRules.parsePort("65535") == 65535)
        for invalid in ["", "65536", "-1", "+1", "80a", " 80", "0x50", "99999999999999999999999", "٨٠"] {
            #expect(SecurityRules.parsePort(invalid) == nil, "\(invalid)")
        }
    }

    /// The cases of istio/istio pkg/config/security/security_test.go (CheckValidPathTemplate).
    @Test func pathTemplatesAsIstioChecksThem() {
        for valid in ["/{*}/foo", "/{*}/foo/", "/foo/{**}/bar", "/foo/bar/{**}", "/foo/*", "*/info", "/a.b~c:d@e=f/{*}"] {
            #expect(SecurityRules.pathTemplateProblem(valid) == nil, "\(valid)")
        }
        for invalid in ["/foo/{**}buzz/bar", "/{*}/foo/{}/bar", "/foo/{*}/bar/*", "/foo/{*}/bar/**/buzz", "/foo/{buzz}",
            "/foo/{buzz}/bar/{**}", "/foo/{buzz=*}/bar/{**}", "/{*}/foo/{buzz=**}/bar", "/{*}/foo/{**}bar",
            "/{*}/foo/{*}.txt", "/{*}/foo/{temp", "/{*}/foo/temp}/bar", "/{**}/foo/temp/{*}/bar", "/{**}/{**}",
            "/{**}/foo/temp/{**}/bar", "/{*}/foo/?abc", "/{*}//foo"]
        {
            #expect(SecurityRules.pathTemplateProblem(invalid) != nil, "\(invalid)")
        }
    }

    @Test func conditionKeys() {
        for valid in ["request.headers[x-token]", "source.ip", "remote.ip", "source.namespace", "source.serviceAccount",
            "source.principal", "source.trustDomain", "request.auth.principal", "request.auth.audiences",
            "request.auth.presenter", "request.auth.claims[iss]", "request.auth.claims[a][b]", "destination.ip",
            "destination.port", "connection.sni", "experimental.envoy.filters.a.b[c]"]
        {
            #expect(SecurityRules.conditionKeyProblem(valid) == nil, "\(valid)")
        }
        for invalid in ["", "request.headers", "request.headers[]", "[x]", "request.auth.claims", "source.user",
            "destination.namespace", "destination.labels[app]", "destination.name", "destination.user",
            "experimental.envoy.filters.a", "Source.IP"]
        {
            #expect(SecurityRules.conditionKeyProblem(invalid) != nil, "\(invalid)")
        }
    }

    @Test func serviceAccountsAndTrustDomains() {
        #expect(SecurityRules.serviceAccountProblem("bookinfo/productpage") == nil)
        #expect(SecurityRules.serviceAccountProblem("productpage") == nil)
        for invalid in ["", "*", "ns/*", "a/b/c", "/sa", "ns/", String(repeating: "a", count: 321)] {
            #expect(SecurityRules.serviceAccountProblem(invalid) != nil, "\(invalid)")
        }
        for valid in ["cluster.local", "*.local", "cluster*", "*"] {
            #expect(SecurityRules.trustDomainProblem(valid) == nil, "\(valid)")
        }
        for invalid in ["", "a*b", "**", "*a*", "td/ns"] {
            #expect(SecurityRules.trustDomainProblem(invalid) != nil, "\(invalid)")
        }
    }

    @Test func jwksURIs() {
        for valid in ["https://example.com/jwks.json", "http://jwks.istio-system.svc:8080/keys", "HTTPS://Example.com",
            "https://[2001:db8::1]:8443/jwks", "https://user@example.com/jwks"]
        {
            #expect(SecurityRules.jwksURIProblem(valid) == nil, "\(valid)")
        }
        for invalid in ["", "example.com/jwks", "://example.com", "ftp://example.com/jwks", "https://example.com:http/x",
            "https://[2001:db8::1/x", "https://exa mple.com", "https://" + String(repeating: "a", count: 2048)]
        {
            #expect(SecurityRules.jwksURIProblem(invalid) != nil, "\(invalid)")
        }
        // Accepted by Istio (Go's url.Parse) but not fetchable: a warning.
        for doubtful in ["https://", "https://:443/x", "https://example.com:0/x", "https://example.com:99999999999999999999/x"] {
            #expect(SecurityRules.jwksURIProblem(doubtful) == nil, "\(doubtful)")
            #expect(SecurityRules.jwksURIWarning(doubtful) != nil, "\(doubtful)")
        }
        #expect(SecurityRules.jwksURIWarning("https://example.com:8443/jwks") == nil)
    }

    @Test func inlineJWKS() {
        let publicRSA = #"{"keys": [{"kty": "RSA", "n": "xAE7", "e": "AQAB"}]}"#
        #expect(SecurityRules.inspectJWKS(publicRSA).problem == nil)
        #expect(SecurityRules.inspectJWKS(publicRSA).privateKeys.isEmpty)
        let single = #"{"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "d": "secret"}"#
        #expect(SecurityRules.inspectJWKS(single).problem == nil)
        #expect(SecurityRules.inspectJWKS(single).privateKeys == [0])
        #expect(SecurityRules.inspectJWKS(#"{"keys": []}"#).problem == nil)
        for invalid in ["", "[]", "42", #"{"keys": {}}"#, #"{"keys": [1]}"#, #"{"keys": [{"kty": "XYZ"}]}"#,
            #"{"kty": "RSA", "n": "x"}"#, #"{"kty": "OKP", "x": "a"}"#, String(repeating: "[", count: 10_000)]
        {
            #expect(SecurityRules.inspectJWKS(invalid).problem != nil, "\(invalid.prefix(40))")
        }
    }

    @Test func dryRunAcceptsGoBooleans() {
        for text in ["1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"] {
            #expect(SecurityRules.parseGoBool(text) != nil, "\(text)")
        }
        #expect(SecurityRules.parseGoBool("yes") == nil)
        #expect(SecurityRules.parseGoBool("tRuE") == nil)
    }

    /// Mutated security manifests give diagnostics, never a crash.
    @Test func mutatedSecurityManifestsNeverCrash() {
        var rng = SplitMix64(state: 0x5EC)
        let loader = ManifestLoader(options: .init(strict: true))
        let seeds = [SecurityManifestTests.everyAuthorizationField, SecurityManifestTests.peerAuthentications,
            SecurityManifestTests.requestAuthentications]
        let alphabet = Array("*/{}[]:-\"' 0123456789.%@\n".unicodeScalars)
        for round in 0..<60 {
            var scalars = Array(seeds[round % seeds.count].unicodeScalars)
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let index = Int.random(in: 0..<scalars.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: scalars[index] = alphabet[Int.random(in: 0..<alphabet.count, using: &rng)]
                case 1: scalars.remove(at: index)
                default: scalars.insert(alphabet[Int.random(in: 0..<alphabet.count, using: &rng)], at: index)
                }
            }
            var text = String.UnicodeScalarView()
            text.append(contentsOf: scalars)
            let result = loader.load(text: String(text))
            for d in result.diagnostics { #expect(d.line >= 0 && !d.message.isEmpty) }
        }
    }

    /// A small deterministic generator so a failure can be replayed.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
