import Logging
import NIOCore
import NIOPosix

/// ztunnel's explicit outbound listener (port 15080): applications connect through SOCKS5
/// (RFC 1928; no authentication, `CONNECT` only) instead of being redirected.
///
/// For each connection it reads the greeting and request (``SOCKS5``), resolves a domain-name
/// destination off the event loop (the first address the system resolver returns), asks the
/// ``OutboundConnector``, answers `succeeded` with the upstream channel's local address as
/// `BND.ADDR`, and relays bytes both ways with ``RelayHandler``; bytes the client sent right
/// after the request are forwarded first. A connector failure is answered with the reply of its
/// ``OutboundFailure/Kind-swift.enum`` (denied 0x02, unreachable 0x04, refused 0x05, general
/// 0x01) and the connection is closed. The listener only logs (at debug); metrics belong to the
/// connector.
public final class SOCKS5Listener: Sendable {
    private let listener: OutboundListener

    private init(listener: OutboundListener) {
        self.listener = listener
    }

    /// Starts listening on `host:port` (port 0: ephemeral).
    public static func start(
        host: String, port: Int, connector: @escaping OutboundConnector,
        logger: Logger = Logger(label: "swiftmesh.l4.socks5"),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> SOCKS5Listener {
        let listener = try await OutboundListener.start(
            host: host, port: port, connector: connector, logger: logger, group: group
        ) { channel, context in
            try channel.pipeline.syncOperations.addHandler(SOCKS5Handshake(outbound: context))
        }
        logger.info("SOCKS5 listener started", metadata: ["address": "\(listener.listeners.localAddress.map { "\($0)" } ?? "?")"])
        return SOCKS5Listener(listener: listener)
    }

    /// The bound address (read the port from here after binding port 0).
    public var localAddress: SocketAddress? { listener.listeners.localAddress }

    /// Accepted connections still open (negotiating, connecting or relaying).
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
