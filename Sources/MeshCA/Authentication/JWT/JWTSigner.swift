import Crypto
import Foundation
import _CryptoExtras

/// Mints ES256 or RS256 tokens: a local stand-in for the Kubernetes token issuer, for demos
/// and tests (istiod's demo mode hands these to ztunnels).
public struct JWTSigner: Sendable {
    enum Key: Sendable {
        case p256(P256.Signing.PrivateKey)
        case rsa(_RSA.Signing.PrivateKey)
    }

    let key: Key
    /// The `kid` written into headers.
    public let keyID: String?

    /// An ES256 signer.
    public static func es256(_ key: P256.Signing.PrivateKey, keyID: String? = nil) -> JWTSigner {
        JWTSigner(key: .p256(key), keyID: keyID)
    }

    /// An RS256 signer.
    public static func rs256(_ key: _RSA.Signing.PrivateKey, keyID: String? = nil) -> JWTSigner {
        JWTSigner(key: .rsa(key), keyID: keyID)
    }

    /// The key that verifies this signer's tokens.
    public var verificationKey: JWTVerificationKey {
        switch key {
        case .p256(let key): return .es256(key.publicKey, keyID: keyID)
        case .rsa(let key): return .rs256(key.publicKey, keyID: keyID)
        }
    }

    /// Signs `claims` into a compact JWS.
    public func sign(_ claims: JWTClaims) throws -> String {
        let alg: String
        switch key {
        case .p256: alg = "ES256"
        case .rsa: alg = "RS256"
        }
        var header: [String: String] = ["alg": alg, "typ": "JWT"]
        if let keyID { header["kid"] = keyID }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let headerPart = Base64URL.encode(try encoder.encode(header))
        let claimsPart = Base64URL.encode(try encoder.encode(claims))
        let signingInput = Array("\(headerPart).\(claimsPart)".utf8)
        let signature: [UInt8]
        switch key {
        case .p256(let key):
            signature = Array(try key.signature(for: signingInput).rawRepresentation)
        case .rsa(let key):
            signature = Array(try key.signature(for: signingInput, padding: .insecurePKCS1v1_5).rawRepresentation)
        }
        return "\(headerPart).\(claimsPart).\(Base64URL.encode(signature))"
    }
}
