import Crypto
import _CryptoExtras
import X509

/// The kind of key a CA or a workload generates.
public enum KeyAlgorithm: String, Hashable, Sendable, CaseIterable {
    /// ECDSA on P-256 with SHA-256 signatures: Istio's and ztunnel's default.
    case ecdsaP256 = "ecdsa-p256"
    /// RSA with a 2048-bit modulus and SHA-256 PKCS#1 v1.5 signatures.
    case rsa2048 = "rsa-2048"
    /// RSA with a 4096-bit modulus and SHA-256 PKCS#1 v1.5 signatures.
    case rsa4096 = "rsa-4096"

    /// Generates a new private key of this kind.
    public func generatePrivateKey() throws -> Certificate.PrivateKey {
        switch self {
        case .ecdsaP256:
            return Certificate.PrivateKey(P256.Signing.PrivateKey())
        case .rsa2048:
            return Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        case .rsa4096:
            return Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .bits4096))
        }
    }

    /// The SHA-256 signature algorithm used with keys of this kind.
    public var signatureAlgorithm: Certificate.SignatureAlgorithm {
        switch self {
        case .ecdsaP256: return .ecdsaWithSHA256
        case .rsa2048, .rsa4096: return .sha256WithRSAEncryption
        }
    }
}

extension Certificate.PrivateKey {
    /// SHA-256 signatures for every key kind MeshCA uses (swift-certificates would pick
    /// SHA-512 for some keys, which older peers reject).
    var sha256SignatureAlgorithm: Certificate.SignatureAlgorithm {
        if supportedSignatureAlgorithms.contains(.ecdsaWithSHA256) { return .ecdsaWithSHA256 }
        if supportedSignatureAlgorithms.contains(.sha256WithRSAEncryption) { return .sha256WithRSAEncryption }
        return .ed25519
    }
}
