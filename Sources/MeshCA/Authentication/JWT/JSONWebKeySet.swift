import Crypto
import Foundation
import _CryptoExtras

/// A public key that verifies token signatures.
public struct JWTVerificationKey: Sendable {
    /// The signature algorithms MeshCA accepts.
    public enum Algorithm: String, Sendable, Hashable {
        /// ECDSA P-256 with SHA-256.
        case es256 = "ES256"
        /// RSASSA-PKCS1-v1_5 with SHA-256.
        case rs256 = "RS256"
    }

    enum Material: Sendable {
        case p256(P256.Signing.PublicKey)
        case rsa(_RSA.Signing.PublicKey)
    }

    /// The key id (`kid`), if any.
    public let keyID: String?
    let material: Material

    /// The algorithm this key verifies.
    public var algorithm: Algorithm {
        switch material {
        case .p256: return .es256
        case .rsa: return .rs256
        }
    }

    /// An ES256 key.
    public static func es256(_ key: P256.Signing.PublicKey, keyID: String? = nil) -> Self {
        Self(keyID: keyID, material: .p256(key))
    }

    /// An RS256 key.
    public static func rs256(_ key: _RSA.Signing.PublicKey, keyID: String? = nil) -> Self {
        Self(keyID: keyID, material: .rsa(key))
    }

    func verify(signature: [UInt8], signingInput: [UInt8]) -> Bool {
        switch material {
        case .p256(let key):
            guard signature.count == 64,
                let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature)
            else { return false }
            return key.isValidSignature(parsed, for: signingInput)
        case .rsa(let key):
            let parsed = _RSA.Signing.RSASignature(rawRepresentation: signature)
            return key.isValidSignature(parsed, for: signingInput, padding: .insecurePKCS1v1_5)
        }
    }

    /// The key as a JWK JSON object.
    public var jwk: [String: String] {
        var object: [String: String] = ["use": "sig", "alg": algorithm.rawValue]
        if let keyID { object["kid"] = keyID }
        switch material {
        case .p256(let key):
            let raw = Array(key.rawRepresentation)
            object["kty"] = "EC"
            object["crv"] = "P-256"
            object["x"] = Base64URL.encode(raw[0..<32])
            object["y"] = Base64URL.encode(raw[32..<64])
        case .rsa(let key):
            object["kty"] = "RSA"
            guard let parts = try? key.getKeyPrimitives() else { return object }
            object["n"] = Base64URL.encode(parts.modulus.drop(while: { $0 == 0 }))
            object["e"] = Base64URL.encode(parts.publicExponent.drop(while: { $0 == 0 }))
        }
        return object
    }
}

/// Why a JWKS document could not be used.
public struct JSONWebKeySetError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public var reason: String
    public var description: String { "invalid JWKS: \(reason)" }
}

/// A set of token verification keys (a JWKS document, RFC 7517).
public struct JSONWebKeySet: Sendable {
    /// The keys.
    public var keys: [JWTVerificationKey]

    /// Creates a set from keys.
    public init(keys: [JWTVerificationKey]) {
        self.keys = keys
    }

    /// Parses a JWKS JSON document. Keys of kinds other than EC P-256 and RSA are refused.
    public init(json: Data) throws(JSONWebKeySetError) {
        struct Document: Decodable { var keys: [Key] }
        struct Key: Decodable {
            var kty: String
            var kid: String?
            var use: String?
            var alg: String?
            var crv: String?
            var x: String?
            var y: String?
            var n: String?
            var e: String?
        }
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: json)
        } catch {
            throw JSONWebKeySetError(reason: "not a JWKS JSON document (\(error))")
        }
        var keys: [JWTVerificationKey] = []
        for (index, key) in document.keys.enumerated() {
            let name = "keys[\(index)]" + (key.kid.map { " (kid \($0))" } ?? "")
            if let use = key.use, use != "sig" { throw JSONWebKeySetError(reason: "\(name): use is \(use), expected sig") }
            switch key.kty {
            case "EC":
                guard key.crv == "P-256", key.alg == nil || key.alg == "ES256" else {
                    throw JSONWebKeySetError(reason: "\(name): only P-256 (ES256) EC keys are supported")
                }
                guard let x = key.x.flatMap(Base64URL.decode), let y = key.y.flatMap(Base64URL.decode),
                    x.count == 32, y.count == 32,
                    let publicKey = try? P256.Signing.PublicKey(rawRepresentation: x + y)
                else { throw JSONWebKeySetError(reason: "\(name): x/y are not a P-256 point") }
                keys.append(.es256(publicKey, keyID: key.kid))
            case "RSA":
                guard key.alg == nil || key.alg == "RS256" else {
                    throw JSONWebKeySetError(reason: "\(name): only RS256 RSA keys are supported")
                }
                guard let n = key.n.flatMap(Base64URL.decode), let e = key.e.flatMap(Base64URL.decode),
                    let publicKey = try? _RSA.Signing.PublicKey(n: n, e: e)
                else { throw JSONWebKeySetError(reason: "\(name): n/e are not an RSA public key of at least 2048 bits") }
                keys.append(.rs256(publicKey, keyID: key.kid))
            default:
                throw JSONWebKeySetError(reason: "\(name): key type \(key.kty) is not supported")
            }
        }
        self.keys = keys
    }

    /// The set as a JWKS JSON document.
    public func json() -> Data {
        let document = ["keys": keys.map(\.jwk)]
        return (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data()
    }
}
