import MeshAPI

/// What L4 authorization sees of one inbound connection.
///
/// For HBONE the source is the client address from the `forwarded` header (or the TCP peer),
/// the identity is the peer certificate's SPIFFE ID, and the destination is the real target
/// after unwrapping the CONNECT — not port 15008. Plaintext inbound (15006) has no identity.
public struct L4Connection: Hashable, Sendable, CustomStringConvertible {
    /// Source IP address.
    public var sourceIP: IPAddressBytes
    /// Source port.
    public var sourcePort: UInt16
    /// Destination IP address.
    public var destinationIP: IPAddressBytes
    /// Destination port (the target's, after HBONE unwrapping).
    public var destinationPort: UInt16
    /// The authenticated peer identity; nil for plaintext connections.
    public var sourceIdentity: SpiffeID?

    /// Creates the attributes of one connection. IPv4-mapped IPv6 addresses are stored as IPv4.
    public init(
        sourceIP: IPAddressBytes, sourcePort: UInt16,
        destinationIP: IPAddressBytes, destinationPort: UInt16,
        sourceIdentity: SpiffeID?
    ) {
        self.sourceIP = sourceIP.canonical
        self.sourcePort = sourcePort
        self.destinationIP = destinationIP.canonical
        self.destinationPort = destinationPort
        self.sourceIdentity = sourceIdentity
    }

    /// `src:port(identity)->dst:port`, as ztunnel logs a connection.
    public var description: String {
        let identity = sourceIdentity.map { $0.description } ?? "None"
        return "\(sourceIP.authority(port: sourcePort))(\(identity))->\(destinationIP.authority(port: destinationPort))"
    }
}
