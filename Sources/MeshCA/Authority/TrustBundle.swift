import X509

/// The set of root certificates the mesh trusts. During a root rotation it holds the old and the
/// new root, so that certificates from either verify.
public struct TrustBundle: Hashable, Sendable {
    /// The roots, oldest first. No duplicates.
    public private(set) var roots: [Certificate]

    /// Creates a bundle; duplicates are dropped.
    public init(roots: [Certificate]) {
        self.roots = []
        for root in roots { insert(root) }
    }

    /// Parses a PEM bundle of one or more roots.
    public init(pem: String, source: String = "trust bundle") throws(PEMError) {
        self.init(roots: try PEMCodec.certificates(fromPEM: pem, source: source))
    }

    /// Adds a root if it is not already present. Returns whether it was added.
    @discardableResult
    public mutating func insert(_ root: Certificate) -> Bool {
        guard !roots.contains(root) else { return false }
        roots.append(root)
        return true
    }

    /// Removes a root. Returns whether it was present.
    @discardableResult
    public mutating func remove(_ root: Certificate) -> Bool {
        guard let index = roots.firstIndex(of: root) else { return false }
        roots.remove(at: index)
        return true
    }

    /// Whether the bundle holds this exact root.
    public func contains(_ root: Certificate) -> Bool { roots.contains(root) }

    /// The concatenated PEM of every root.
    public func pem() throws(PEMError) -> String { try PEMCodec.pem(roots) }

    /// The roots as a swift-certificates store, for chain verification.
    public var certificateStore: CertificateStore { CertificateStore(roots) }
}
