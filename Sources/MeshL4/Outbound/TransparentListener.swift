import Logging
import NIOCore
import NIOPosix

/// ztunnel's transparent outbound listener (port 15001): connections redirected to it by
/// netfilter NAT (iptables `REDIRECT` in the pod's network namespace) are sent where they were
/// originally going, read from the accepted socket's `SO_ORIGINAL_DST` (`SOL_IP` for IPv4,
/// `SOL_IPV6`/`IP6T_SO_ORIGINAL_DST` for IPv6; Linux only).
///
/// A connection whose original destination cannot be read, or equals the socket's own local
/// address (it reached the listener directly, without a redirect), is logged at debug and
/// closed. Otherwise the ``OutboundConnector`` is asked and bytes are relayed both ways with
/// ``RelayHandler``; a connector failure closes the connection. The listener only logs;
/// metrics belong to the connector.
public final class TransparentListener: Sendable {
    private let listener: OutboundListener

    private init(listener: OutboundListener) {
        self.listener = listener
    }

    /// Starts listening on `host:port` (port 0: ephemeral).
    public static func start(
        host: String, port: Int, connector: @escaping OutboundConnector,
        logger: Logger = Logger(label: "swiftmesh.l4.transparent"),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> TransparentListener {
        let listener = try await OutboundListener.start(
            host: host, port: port, connector: connector, logger: logger, group: group
        ) { channel, context in
            try channel.pipeline.syncOperations.addHandler(TransparentAccept(outbound: context))
        }
        logger.info(
            "transparent listener started", metadata: ["address": "\(listener.listeners.localAddress.map { "\($0)" } ?? "?")"])
        return TransparentListener(listener: listener)
    }

    /// The bound address (read the port from here after binding port 0).
    public var localAddress: SocketAddress? { listener.listeners.localAddress }

    /// Accepted connections still open (connecting or relaying).
    public var openConnections: Int { listener.accepted.count }

    /// Stops accepting now, waits for open connections to finish until `gracePeriod` ends, then
    /// closes what is left.
    public func shutdown(gracePeriod: Duration) async {
        await listener.shutdown(gracePeriod: gracePeriod)
    }

    /// Stops accepting and closes every connection now.
    public func close() async {
        await listener.close()
    }
}

/// Reads a redirected connection's original destination, connects it, then removes itself and
/// hands the connection to a relay. Reads stay off until then; what NIO reads anyway (at the
/// client's EOF) passes on to the ``RelayInputHold`` after this handler.
final class TransparentAccept: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let outbound: OutboundContext

    init(outbound: OutboundContext) {
        self.outbound = outbound
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        let channel = context.channel
        let logger = outbound.logger
        let outbound = outbound
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        OriginalDestination.read(from: channel).whenComplete { result in
            let local = channel.localAddress
            guard case .success(let destination) = result, let source = channel.remoteAddress,
                destination != local
            else {
                let reason: String
                switch result {
                case .failure(let error): reason = "SO_ORIGINAL_DST unavailable: \(error)"
                case .success: reason = "not redirected (original destination is the listener itself)"
                }
                logger.debug(
                    "closing outbound connection", metadata: ["reason": "\(reason)", "source": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
                channel.close(promise: nil)
                return
            }
            outbound.connect(OutboundRequest(source: source, destination: destination, eventLoop: channel.eventLoop))
                .whenSuccess { outcome in
                    let (handler, context) = loopBound.value
                    handler.connected(context: context, outcome: outcome, destination: destination)
                }
        }
    }

    private func connected(context: ChannelHandlerContext, outcome: Result<any Channel, OutboundFailure>, destination: SocketAddress) {
        switch outcome {
        case .failure(let failure):
            outbound.logger.debug("outbound connect failed", metadata: ["destination": "\(destination)", "error": "\(failure)"])
            context.close(promise: nil)
        case .success(let upstream):
            let channel = context.channel
            guard channel.isActive else {
                upstream.close(promise: nil)
                return
            }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            outbound.relay(accepted: channel, upstream: upstream)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        outbound.logger.debug("outbound connection failed", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
