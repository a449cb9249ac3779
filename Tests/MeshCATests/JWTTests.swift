import Crypto
import Foundation
import MeshAPI
import Testing
import _CryptoExtras

@testable import MeshCA

@Suite("JWT verification")
struct JWTTests {
    static let issuer = "https://issuer.test"

    func claims(now: Date = Date(), audiences: [String] = ["istio-ca"]) -> JWTClaims {
        .serviceAccountToken(issuer: Self.issuer, namespace: "ns1", serviceAccount: "sa1", audiences: audiences, now: now)
    }

    @Test("ES256 and RS256 tokens we mint verify; claims map to the SPIFFE identity")
    func roundTrip() async throws {
        let es = JWTSigner.es256(P256.Signing.PrivateKey(), keyID: "es")
        let rs = JWTSigner.rs256(try _RSA.Signing.PrivateKey(keySize: .bits2048), keyID: "rs")
        let verifier = JWTVerifier(issuer: Self.issuer, keySet: JSONWebKeySet(keys: [es.verificationKey, rs.verificationKey]))
        let authenticator = KubernetesJWTAuthenticator(verifier: verifier, trustDomain: "cluster.local")
        for signer in [es, rs] {
            let token = try signer.sign(claims())
            let caller = try await authenticator.authenticate(CAFixture.credentials(token: token))
            #expect(caller?.identity == spiffe("ns1", "sa1"))
        }
    }

    @Test("JWKS documents round-trip through JSON")
    func jwksRoundTrip() throws {
        let es = JWTSigner.es256(P256.Signing.PrivateKey(), keyID: "es")
        let rs = JWTSigner.rs256(try _RSA.Signing.PrivateKey(keySize: .bits2048), keyID: "rs")
        let parsed = try JSONWebKeySet(json: JSONWebKeySet(keys: [es.verificationKey, rs.verificationKey]).json())
        let verifier = JWTVerifier(issuer: Self.issuer, keySet: parsed)
        #expect(try verifier.verify(try es.sign(claims())).kubernetes?.namespace == "ns1")
        #expect(try verifier.verify(try rs.sign(claims())).kubernetes?.namespace == "ns1")
    }

    @Test("tokens minted by Python cryptography (ES256 and RS256) verify against its JWKS",
        .enabled(if: Peers.pythonOrRequired, "python3 with cryptography not found"))
    func pythonMintedTokens() throws {
        let python = try #require(Peers.python, "python3 with cryptography is required")
        let now = Int(Date().timeIntervalSince1970)
        let script = #"""
            import base64, json, sys
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import ec, rsa, padding
            from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
            b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
            num = lambda n: b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))
            now = int(sys.argv[1])
            claims = {"iss": "https://issuer.test", "aud": ["istio-ca"], "exp": now + 600, "iat": now, "nbf": now,
                      "sub": "system:serviceaccount:ns1:sa1",
                      "kubernetes.io": {"namespace": "ns1", "serviceaccount": {"name": "sa1", "uid": "u"},
                                        "node": {"name": "node-7", "uid": "n"}}}
            def token(alg, kid, sign):
                head = b64(json.dumps({"alg": alg, "kid": kid, "typ": "JWT"}).encode())
                body = b64(json.dumps(claims).encode())
                return head + "." + body + "." + b64(sign((head + "." + body).encode()))
            eck = ec.generate_private_key(ec.SECP256R1())
            def es_sign(data):
                r, s = decode_dss_signature(eck.sign(data, ec.ECDSA(hashes.SHA256())))
                return r.to_bytes(32, "big") + s.to_bytes(32, "big")
            rsk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            rs_sign = lambda data: rsk.sign(data, padding.PKCS1v15(), hashes.SHA256())
            ecn = eck.public_key().public_numbers()
            rsn = rsk.public_key().public_numbers()
            jwks = {"keys": [
                {"kty": "EC", "crv": "P-256", "kid": "py-ec", "use": "sig", "alg": "ES256",
                 "x": b64(ecn.x.to_bytes(32, "big")), "y": b64(ecn.y.to_bytes(32, "big"))},
                {"kty": "RSA", "kid": "py-rsa", "use": "sig", "alg": "RS256", "n": num(rsn.n), "e": num(rsn.e)}]}
            print(json.dumps({"jwks": jwks, "es256": token("ES256", "py-ec", es_sign), "rs256": token("RS256", "py-rsa", rs_sign)}))
            """#
        let result = try Peers.run(python, ["-c", script, String(now)])
        try #require(result.status == 0, "python failed: \(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let jwks = try JSONSerialization.data(withJSONObject: try #require(object["jwks"]))
        let verifier = JWTVerifier(issuer: Self.issuer, keySet: try JSONWebKeySet(json: jwks))
        for name in ["es256", "rs256"] {
            let token = try #require(object[name] as? String)
            let claims = try verifier.verify(token)
            #expect(claims.kubernetes?.serviceAccount?.name == "sa1")
            #expect(claims.kubernetes?.node?.name == "node-7")
        }
        // And the same tokens with one signature byte changed fail.
        let token = try #require(object["es256"] as? String)
        var parts = token.split(separator: ".").map(String.init)
        var signature = try #require(Base64URL.decode(parts[2]))
        signature[10] ^= 0x40
        parts[2] = Base64URL.encode(signature)
        #expect(throws: JWTError.badSignature) { try verifier.verify(parts.joined(separator: ".")) }
    }

    @Test("alg none, HS256 and algorithm confusion are refused")
    func algorithmAttacks() throws {
        let es = JWTSigner.es256(P256.Signing.PrivateKey(), keyID: "k")
        let verifier = JWTVerifier(issuer: Self.issuer, keySet: JSONWebKeySet(keys: [es.verificationKey]))
        let body = Base64URL.encode(try JSONEncoder().encode(claims()))
        let none = Base64URL.encode(Array(#"{"alg":"none"}"#.utf8)) + "." + body + "."
        #expect(throws: JWTError.unsupportedAlgorithm("none")) { try verifier.verify(none) }
        let hs = Base64URL.encode(Array(#"{"alg":"HS256","kid":"k"}"#.utf8)) + "." + body + "." + Base64URL.encode([1, 2, 3])
        #expect(throws: JWTError.unsupportedAlgorithm("HS256")) { try verifier.verify(hs) }
        // An RS256 token cannot be checked with the EC key.
        let rs = JWTSigner.rs256(try _RSA.Signing.PrivateKey(keySize: .bits2048), keyID: "k")
        #expect(throws: JWTError.unknownKey("alg RS256, kid k")) { try verifier.verify(try rs.sign(claims())) }
    }

    @Test("tampered claims, bad encoding and time bounds")
    func tamperingAndTime() throws {
        let es = JWTSigner.es256(P256.Signing.PrivateKey())
        let verifier = JWTVerifier(issuer: Self.issuer, keySet: JSONWebKeySet(keys: [es.verificationKey]))
        let token = try es.sign(claims())
        var parts = token.split(separator: ".").map(String.init)
        var other = claims()
        other.kubernetes?.serviceAccount?.name = "admin"
        parts[1] = Base64URL.encode(try JSONEncoder().encode(other))
        #expect(throws: JWTError.badSignature) { try verifier.verify(parts.joined(separator: ".")) }
        #expect(throws: JWTError.malformed("expected 3 dot-separated parts, found 2")) { try verifier.verify("a.b") }
        #expect(throws: JWTError.malformed("a part is not unpadded base64url")) { try verifier.verify(token + "=") }
        let future = try es.sign(claims(now: Date().addingTimeInterval(3600)))
        #expect(throws: JWTError.self) { try verifier.verify(future) }
        let oversized = String(repeating: "a", count: MeshCAConstants.maximumTokenSize + 1)
        #expect(throws: JWTError.self) { try verifier.verify(oversized) }
    }

    @Test("a token without kubernetes.io claims or with a disagreeing sub is refused")
    func kubernetesClaims() async throws {
        let es = JWTSigner.es256(P256.Signing.PrivateKey())
        let verifier = JWTVerifier(issuer: Self.issuer, keySet: JSONWebKeySet(keys: [es.verificationKey]))
        let authenticator = KubernetesJWTAuthenticator(verifier: verifier, trustDomain: "cluster.local")
        var bare = claims()
        bare.kubernetes = nil
        await #expect(throws: AuthenticationError(authenticator: "jwt", reason: "token lacks claim kubernetes.io.namespace")) {
            _ = try await authenticator.authenticate(CAFixture.credentials(token: try es.sign(bare)))
        }
        var lying = claims()
        lying.subject = "system:serviceaccount:kube-system:admin"
        await #expect(throws: AuthenticationError.self) {
            _ = try await authenticator.authenticate(CAFixture.credentials(token: try es.sign(lying)))
        }
        // A malformed authorization header is an error, not "no credential".
        await #expect(throws: AuthenticationError.self) {
            _ = try await authenticator.authenticate(CallerCredentials(metadata: ["authorization": ["Basic abc"]]))
        }
    }

    @Test("base64url is strict and round-trips")
    func base64url() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
        #expect(Base64URL.decode("QQ==") == nil)
        #expect(Base64URL.decode("QR") == nil)  // non-zero trailing bits
        #expect(Base64URL.decode("Q") == nil)
        #expect(Base64URL.decode("a+b/") == nil)
    }
}

@Suite("Token review authenticator")
struct TokenReviewTests {
    struct FakeReviewer: TokenReviewer {
        func review(token: String, audiences: [String], clusterID: String?) async throws -> TokenReviewResult {
            token == "good"
                ? TokenReviewResult(
                    authenticated: true, username: "system:serviceaccount:ns2:sa2", audiences: audiences,
                    extra: ["authentication.kubernetes.io/node-name": ["node-9"]])
                : TokenReviewResult(authenticated: false, error: "token has expired")
        }
    }

    @Test("maps the reviewed user to the identity and node; rejection carries the API server's reason")
    func review() async throws {
        let authenticator = TokenReviewAuthenticator(reviewer: FakeReviewer(), trustDomain: "cluster.local")
        let caller = try await authenticator.authenticate(CallerCredentials(metadata: ["Authorization": ["Bearer good"]]))
        #expect(caller?.identity == spiffe("ns2", "sa2"))
        #expect(caller?.nodeName == "node-9")
        await #expect(throws: AuthenticationError(authenticator: "tokenreview", reason: "token rejected: token has expired")) {
            _ = try await authenticator.authenticate(CallerCredentials(metadata: ["authorization": ["Bearer bad"]]))
        }
    }
}
