/// A refusal of the CA service, with the gRPC status it maps to.
public struct CertificateServiceError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The gRPC status class of the refusal.
    public enum Code: String, Sendable, Hashable {
        /// No valid credential, or impersonation not allowed (istiod's semantics).
        case unauthenticated
        /// Authenticated, but the CSR asks for an identity the caller may not have.
        case permissionDenied
        /// The request itself is malformed: PEM, CSR signature, key, metadata.
        case invalidArgument
        /// The CA failed while signing.
        case `internal`
    }

    /// The status class.
    public var code: Code
    /// What went wrong, for the caller.
    public var message: String

    /// Creates an error.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
