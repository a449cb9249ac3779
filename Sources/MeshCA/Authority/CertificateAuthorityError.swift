import MeshAPI

/// Why the authority could not load its keys or issue a certificate. Each case says what to fix.
public enum CertificateAuthorityError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A file or directory of CA material could not be read or written.
    case storage(path: String, reason: String)
    /// CA certificates or keys are inconsistent (key does not match, not a CA, chain broken).
    case invalidCAMaterial(String)
    /// The CSR is not parseable PEM/DER.
    case malformedCSR(String)
    /// The CSR's signature does not verify with the public key it carries.
    case invalidCSRSignature
    /// The CSR's public key is of a kind or size the CA does not sign.
    case unsupportedCSRKey(String)
    /// The CSR asks for names other than the identity the caller is authorized for.
    case identityMismatch(requested: [String], authorized: SpiffeID)
    /// The identity belongs to another trust domain than the one this CA serves.
    case foreignTrustDomain(SpiffeID, expected: String)
    /// Building or signing the certificate failed.
    case signingFailed(String)
    /// A root rotation step was refused.
    case rootRotation(String)

    public var description: String {
        switch self {
        case .storage(let path, let reason): return "\(path): \(reason)"
        case .invalidCAMaterial(let reason): return "invalid CA material: \(reason)"
        case .malformedCSR(let reason): return "malformed CSR: \(reason)"
        case .invalidCSRSignature: return "CSR signature does not verify with the CSR's public key"
        case .unsupportedCSRKey(let reason): return "unsupported CSR key: \(reason)"
        case .identityMismatch(let requested, let authorized):
            return "CSR requests \(requested.joined(separator: ", ")) but the caller is authorized only for \(authorized)"
        case .foreignTrustDomain(let id, let expected):
            return "identity \(id) is not in this CA's trust domain \(expected)"
        case .signingFailed(let reason): return "signing failed: \(reason)"
        case .rootRotation(let reason): return "root rotation: \(reason)"
        }
    }
}
