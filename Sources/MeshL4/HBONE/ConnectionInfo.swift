import MeshAPI
import NIOCore

/// What the HBONE server knows about one tunnel when it asks for an authorization decision.
public struct HBONEConnectionInfo: Sendable, Hashable {
    /// The client's SPIFFE identity, from its verified certificate.
    public var peerIdentity: SpiffeID
    /// The original client: the `forwarded` header's `for="ip:port"`, else the TCP peer.
    public var source: SocketAddress
    /// The TCP peer of the HBONE connection (the sending proxy).
    public var peerAddress: SocketAddress
    /// The resolved destination the tunnel will connect to.
    public var destination: SocketAddress
    /// The `:authority` as requested.
    public var target: HBONETarget
    /// The request's `baggage`, parsed (empty when absent).
    public var baggage: [String: String]

    /// Creates a value.
    public init(
        peerIdentity: SpiffeID, source: SocketAddress, peerAddress: SocketAddress, destination: SocketAddress,
        target: HBONETarget, baggage: [String: String] = [:]
    ) {
        self.peerIdentity = peerIdentity
        self.source = source
        self.peerAddress = peerAddress
        self.destination = destination
        self.target = target
        self.baggage = baggage
    }
}

/// An authorization decision for one tunnel.
public enum HBONEAuthorizationResult: Sendable, Hashable {
    /// The tunnel may proceed.
    case allow
    /// The tunnel is refused with 401; `reason` is logged (e.g. `explicitly denied by: ns/name`).
    case deny(reason: String)
}

/// Decides whether a tunnel is allowed. MeshL4's L4 policy evaluator plugs in here; any other
/// decision source can too.
public typealias HBONEAuthorizer = @Sendable (HBONEConnectionInfo) async -> HBONEAuthorizationResult

/// Where a tunnel's target resolves to.
public enum HBONEResolution: Sendable, Hashable {
    /// Connect to this address.
    case connect(SocketAddress)
    /// The target is not served here: answer 503.
    case unknown
    /// The target is not acceptable here (e.g. not this pod): answer 400.
    case badRequest(reason: String)
}

/// Maps a requested target to the upstream address (ztunnel: the local pod, service port to
/// target port). Called on the event loop for every CONNECT; must not block.
public typealias HBONETargetResolver = @Sendable (HBONETarget) -> HBONEResolution

/// Ready-made resolvers.
public enum HBONEResolvers {
    /// IP targets are connected to as given; host names are unknown.
    public static let direct: HBONETargetResolver = { target in
        switch target {
        case .address(let address): return .connect(address)
        case .hostname: return .unknown
        }
    }

    /// Only the listed targets; every other one is unknown.
    public static func table(_ entries: [HBONETarget: SocketAddress]) -> HBONETargetResolver {
        { target in entries[target].map { .connect($0) } ?? .unknown }
    }
}
