import MeshAPI
import X509

/// How the roots are laid out at the end of a CA response.
public enum RootEncoding: Sendable, Hashable {
    /// One certificate per string, every trusted root, the signing root last (the default).
    case onePerString
    /// Every trusted root concatenated into the last string: what ztunnel reads as its root store,
    /// so that it trusts all roots during a rotation.
    case concatenatedInLastEntry
}

/// A certificate the authority issued, with the chain that goes with it.
public struct IssuedCertificate: Sendable, Hashable {
    /// The workload certificate.
    public let leaf: Certificate
    /// From the issuing CA up to, excluding, the root.
    public let intermediates: [Certificate]
    /// Every root the mesh trusts, the one the leaf chains to last.
    public let roots: [Certificate]
    /// The identity in the leaf's URI SAN.
    public let identity: SpiffeID
    /// The PEM strings of the CA response: leaf first, intermediates, roots last.
    public let pemChain: [String]
}
