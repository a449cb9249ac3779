import Logging
import NIOCore
import NIOPosix

/// What each accepted connection of an outbound listener needs once it knows where it goes:
/// the connector, and the registry of upstream channels (so the listener can close them).
struct OutboundContext: Sendable {
    let connector: OutboundConnector
    let logger: Logger
    let upstreams: ChannelRegistry

    /// Runs the connector; the future succeeds on `request.eventLoop` with its outcome.
    func connect(_ request: OutboundRequest) -> EventLoopFuture<Result<any Channel, OutboundFailure>> {
        let connector = connector
        return request.eventLoop.makeFutureWithTask {
            do throws(OutboundFailure) {
                return .success(try await connector(request))
            } catch {
                return .failure(error)
            }
        }
    }

    /// Relays `accepted` (reads off, its pipeline ending in a ``RelayInputHold`` with whatever the
    /// client sent before the upstream existed) and `upstream` (from the connector) with
    /// ``RelayHandler/join(_:_:)``. Call on `accepted`'s event loop.
    func relay(accepted: any Channel, upstream: any Channel) {
        guard accepted.isActive, upstreams.add(upstream) else {
            logger.debug("client left (or the listener closed) before the upstream connected")
            upstream.close(promise: nil)
            accepted.close(promise: nil)
            return
        }
        let logger = logger
        RelayHandler.join(accepted, upstream).whenFailure { error in
            logger.debug("relay setup failed", metadata: ["error": "\(error)"])
            upstream.close(promise: nil)
            accepted.close(promise: nil)
        }
    }
}

/// What both outbound listeners share: the listening socket, the accepted connections and the
/// upstreams they relay to, and stopping them.
final class OutboundListener: Sendable {
    let listeners: LoopListeners
    let accepted: ChannelRegistry
    let upstreams: ChannelRegistry

    private init(listeners: LoopListeners, accepted: ChannelRegistry, upstreams: ChannelRegistry) {
        self.listeners = listeners
        self.accepted = accepted
        self.upstreams = upstreams
    }

    /// Listens; every accepted socket has reads off (`autoRead` false) and remote half-closure
    /// allowed, and gets its handlers from `configure`, followed by a ``RelayInputHold``.
    static func start(
        host: String, port: Int, connector: @escaping OutboundConnector, logger: Logger, group: any EventLoopGroup,
        configure: @escaping @Sendable (any Channel, OutboundContext) throws -> Void
    ) async throws -> OutboundListener {
        let accepted = ChannelRegistry()
        let upstreams = ChannelRegistry()
        let context = OutboundContext(connector: connector, logger: logger, upstreams: upstreams)
        let listeners = try await LoopListeners.bind(host: host, port: port, group: group) { bootstrap in
            bootstrap
                .childChannelOption(.autoRead, value: false)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        guard accepted.add(channel) else { throw ChannelError.ioOnClosedChannel }  // shutting down
                        try configure(channel, context)
                        try channel.pipeline.syncOperations.addHandler(RelayInputHold())
                    }
                }
        }
        return OutboundListener(listeners: listeners, accepted: accepted, upstreams: upstreams)
    }

    func shutdown(gracePeriod: Duration) async {
        accepted.stopAccepting()
        await listeners.close()
        await accepted.drain(gracePeriod: gracePeriod)
        upstreams.stopAccepting()
        await upstreams.closeAll()
    }

    func close() async {
        accepted.stopAccepting()
        upstreams.stopAccepting()
        await listeners.close()
        await accepted.closeAll()
        await upstreams.closeAll()
    }
}
