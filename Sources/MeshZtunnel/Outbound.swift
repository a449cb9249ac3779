import Logging
import MeshAPI
import MeshL4
import MeshProto
import NIOCore
import NIOPosix

/// ztunnel's outbound decision for one application connection: find the source workload by
/// its IP (it must run on this node), route the destination through ``ProxyState``, then open
/// an HBONE tunnel with the source's identity, a plain TCP connection, or a passthrough.
struct OutboundConnectorFactory: Sendable {
    let nodeName: String
    let state: ZtunnelState
    let workloads: LocalWorkloads
    let logger: Logger

    var connector: OutboundConnector {
        { [self] request throws(OutboundFailure) in try await connect(request) }
    }

    func connect(_ request: OutboundRequest) async throws(OutboundFailure) -> any Channel {
        guard let sourceIP = request.source.ipAddress.flatMap(IPAddressBytes.init),
            let destinationIP = request.destination.ipAddress.flatMap(IPAddressBytes.init),
            let port = request.destination.port
        else { throw OutboundFailure(.general, "not an IP connection") }
        let destination = OutboundRoute.Endpoint(ip: destinationIP, port: UInt16(truncatingIfNeeded: port))
        // Everything this connection needs from the state, under one lock.
        let (source, route, service, destinationWorkload) = state.read { proxy in
            let source = proxy.workload(ip: sourceIP)
            let route = proxy.route(from: source, to: destination)
            var target: Istio_Workload_Workload?
            if case .hbone(_, _, _, let uid?) = route { target = proxy.workload(uid: uid) }
            return (source, route, proxy.service(vip: destinationIP), target)
        }
        guard let source, source.node == nodeName else {
            throw OutboundFailure(.general, "source \(sourceIP) is not a workload on node \(nodeName)")
        }
        logger.debug("outbound", metadata: ["source": "\(source.uid)", "route": "\(route)"])
        switch route {
        case .hbone(let proxy, let target, let identities, _):
            guard let identity = ProxyState.identity(of: source), let client = await workloads.client(for: identity) else {
                throw OutboundFailure(.general, "no HBONE client for \(source.uid) yet")
            }
            do {
                let tunnel = try await client.openChannel(
                    to: .address(try Self.socketAddress(target)), via: try Self.socketAddress(proxy),
                    expectedIdentities: identities, source: request.source, on: request.eventLoop
                ) { labels in
                    MetricLabeling.source(source, into: &labels)
                    if let destinationWorkload { MetricLabeling.destination(destinationWorkload, into: &labels) }
                    if let service { MetricLabeling.service(service, into: &labels) }
                }
                return tunnel.channel
            } catch let error as HBONEError {
                throw Self.failure(error)
            } catch {
                throw OutboundFailure(.general, "\(error)")
            }
        case .direct(let endpoint, _), .passthrough(let endpoint):
            return try await Self.connectTCP(endpoint, on: request.eventLoop)
        case .unavailable(let service, let port):
            throw OutboundFailure(.unreachable, "no healthy endpoint for \(service):\(port)")
        }
    }

    static func socketAddress(_ endpoint: OutboundRoute.Endpoint) throws -> SocketAddress {
        try SocketAddress(ipAddress: endpoint.ip.description, port: Int(endpoint.port))
    }

    static func connectTCP(_ endpoint: OutboundRoute.Endpoint, on eventLoop: any EventLoop) async throws(OutboundFailure)
        -> any Channel
    {
        do {
            return try await ClientBootstrap(group: eventLoop)
                .connectTimeout(L4Constants.connectTimeout)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelOption(.autoRead, value: false)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    // Keeps what arrives (a server greeting, an early close) until the relay joins.
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(RelayInputHold()) }
                }
                .connect(to: try socketAddress(endpoint)).get()
        } catch {
            throw OutboundFailure(.refused, "connect to \(endpoint) failed: \(error)")
        }
    }

    static func failure(_ error: HBONEError) -> OutboundFailure {
        switch error {
        case .rejected(let status) where status == 401: OutboundFailure(.denied, error.description)
        case .rejected(let status) where status == 503: OutboundFailure(.unreachable, error.description)
        case .connectFailed: OutboundFailure(.refused, error.description)
        default: OutboundFailure(.general, error.description)
        }
    }
}

/// The plaintext inbound path (15006, after an iptables REDIRECT): a connection without mTLS
/// to a local workload, allowed only if L4 policy allows a caller without identity (so STRICT
/// PeerAuthentication refuses it).
struct PlaintextInbound: Sendable {
    let nodeName: String
    let state: ZtunnelState

    var connector: OutboundConnector {
        { [self] request throws(OutboundFailure) in try await connect(request) }
    }

    func connect(_ request: OutboundRequest) async throws(OutboundFailure) -> any Channel {
        guard let sourceIP = request.source.ipAddress.flatMap(IPAddressBytes.init), let sourcePort = request.source.port,
            let destinationIP = request.destination.ipAddress.flatMap(IPAddressBytes.init),
            let port = request.destination.port
        else { throw OutboundFailure(.general, "not an IP connection") }
        guard let workload = state.read({ $0.workload(ip: destinationIP) }), workload.node == nodeName else {
            throw OutboundFailure(.unreachable, "\(destinationIP) is not a workload on node \(nodeName)")
        }
        let decision = state.authorizer.decide(L4Connection(
            sourceIP: sourceIP, sourcePort: UInt16(truncatingIfNeeded: sourcePort), destinationIP: destinationIP,
            destinationPort: UInt16(truncatingIfNeeded: port), sourceIdentity: nil))
        guard decision.isAllowed else { throw OutboundFailure(.denied, decision.reason) }
        return try await OutboundConnectorFactory.connectTCP(
            .init(ip: destinationIP, port: UInt16(truncatingIfNeeded: port)), on: request.eventLoop)
    }
}
