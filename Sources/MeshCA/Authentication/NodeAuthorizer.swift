import MeshAPI

/// The outcome of a node authorization check.
public enum NodeAuthorizationDecision: Sendable, Hashable {
    /// A workload with the identity runs on the caller's node.
    case allowed
    /// It does not, or the caller's node is unknown; the reason says which.
    case denied(reason: String)
}

/// Tells whether a node proxy may obtain a certificate for a workload identity: only when a
/// workload running as that identity is on the caller's own node.
///
/// MeshDiscovery provides an implementation backed by the mesh model; the CA only asks.
public protocol NodeAuthorizer: Sendable {
    /// Decides whether `caller` (already authenticated and in a trusted node account) may act
    /// for `identity`.
    func authorize(caller: CallerIdentity, toImpersonate identity: SpiffeID) async -> NodeAuthorizationDecision
}

/// A fixed table of which identities run on which node, for tests and static setups.
///
/// The caller's node is its token's `kubernetes.io.node.name`, or else the node that its
/// connection's source address belongs to (on one machine, nodes are loopback addresses).
public struct StaticNodeAuthorizer: NodeAuthorizer {
    /// Identities of the workloads on each node.
    public var workloadsByNode: [String: Set<SpiffeID>]
    /// The node of each proxy source address.
    public var nodeByAddress: [String: String]

    /// Creates the table.
    public init(workloadsByNode: [String: Set<SpiffeID>], nodeByAddress: [String: String] = [:]) {
        self.workloadsByNode = workloadsByNode
        self.nodeByAddress = nodeByAddress
    }

    public func authorize(caller: CallerIdentity, toImpersonate identity: SpiffeID) async -> NodeAuthorizationDecision {
        guard let node = caller.nodeName ?? caller.remoteAddress.flatMap({ nodeByAddress[$0] }) else {
            return .denied(reason: "the node of caller \(caller.identity) is unknown")
        }
        guard workloadsByNode[node]?.contains(identity) == true else {
            return .denied(reason: "no workload with identity \(identity) runs on node \(node)")
        }
        return .allowed
    }
}
