/// A transport-neutral `IstioCertificateRequest`.
public struct CertificateRequest: Sendable, Hashable {
    /// The PEM CSR (field 1).
    public var csrPEM: String
    /// Requested lifetime in seconds (field 3); ≤ 0 means the default.
    public var validitySeconds: Int64
    /// The string values of the request's `metadata` Struct (field 4), e.g. `ImpersonatedIdentity`.
    /// Non-string values are dropped by the transport adapter.
    public var metadata: [String: String]

    /// Creates a request.
    public init(csrPEM: String, validitySeconds: Int64 = 0, metadata: [String: String] = [:]) {
        self.csrPEM = csrPEM
        self.validitySeconds = validitySeconds
        self.metadata = metadata
    }
}
