import Logging
import MeshAPI
import NIOCore
import Synchronization

/// L4 authorization for an inbound proxy: the current ``L4PolicySet`` (replaced as xDS
/// updates arrive) and a lookup of the destination workload, answering the HBONE server's
/// authorization hook with ztunnel's decision.
public final class L4Authorizer: Sendable {
    private let policies: Mutex<L4PolicySet>
    private let destination: @Sendable (IPAddressBytes) -> L4Destination?
    private let logger: Logger

    /// Creates an authorizer.
    /// - Parameters:
    ///   - policies: the initial policies.
    ///   - destination: the workload behind a destination IP (its namespace and selected
    ///     policies); nil when unknown, in which case only GLOBAL policies apply.
    public init(
        policies: L4PolicySet = L4PolicySet(),
        destination: @escaping @Sendable (IPAddressBytes) -> L4Destination?,
        logger: Logger = Logger(label: "swiftmesh.l4.authorization")
    ) {
        self.policies = Mutex(policies)
        self.destination = destination
        self.logger = logger
    }

    /// Changes the policies (e.g. after an xDS update).
    public func update(_ body: (inout L4PolicySet) -> Void) {
        policies.withLock { body(&$0) }
    }

    /// The policies now.
    public var currentPolicies: L4PolicySet { policies.withLock { $0 } }

    /// The decision for one connection.
    public func decide(_ connection: L4Connection) -> L4Decision {
        let target = destination(connection.destinationIP) ?? L4Destination(namespace: "")
        let decision = policies.withLock { $0.evaluate(connection, to: target, logger: logger) }
        if !decision.isAllowed {
            logger.info("connection denied", metadata: ["connection": "\(connection)", "reason": "\(decision.reason)"])
        }
        return decision
    }

    /// The hook for ``HBONEServer``: the source is the `forwarded` client (or the peer), the
    /// destination the resolved target, the identity the peer certificate's.
    public var hboneAuthorizer: HBONEAuthorizer {
        { [self] info in
            guard let connection = L4Connection(info) else {
                return .deny(reason: "connection addresses are not IP addresses")
            }
            let decision = decide(connection)
            return decision.isAllowed ? .allow : .deny(reason: decision.reason)
        }
    }
}

extension L4Connection {
    /// The attributes of an HBONE tunnel; nil when an address is not an IP (a Unix socket).
    public init?(_ info: HBONEConnectionInfo) {
        guard let sourceIP = info.source.ipAddress.flatMap(IPAddressBytes.init), let sourcePort = info.source.port,
            let destinationIP = info.destination.ipAddress.flatMap(IPAddressBytes.init),
            let destinationPort = info.destination.port
        else { return nil }
        self.init(
            sourceIP: sourceIP, sourcePort: UInt16(truncatingIfNeeded: sourcePort),
            destinationIP: destinationIP, destinationPort: UInt16(truncatingIfNeeded: destinationPort),
            sourceIdentity: info.peerIdentity)
    }
}
