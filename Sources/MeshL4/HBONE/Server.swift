import Logging
import MeshAPI
import NIOCore
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// An HBONE server (the inbound side of ztunnel, port 15008): mutual TLS 1.3 with ALPN `h2`,
/// HTTP/2 with ztunnel's settings, one CONNECT stream per tunnelled TCP connection.
///
/// For each CONNECT it parses `:authority`, resolves the target through
/// ``Configuration/resolver``, asks ``Configuration/authorizer``, connects upstream and answers
/// 200, then relays bytes both ways with end-to-end flow control. It answers 400 for a request
/// that is not a valid CONNECT, 401 when authorization denies, 503 when the target is unknown or
/// the upstream connect fails.
///
/// The client must present a certificate that chains to the trust bundle of the server's
/// ``HBONECredentials`` and carries exactly one SPIFFE identity in the server's trust domain.
public final class HBONEServer: Sendable {
    /// Server settings.
    public struct Configuration: Sendable {
        /// Address to listen on.
        public var host: String
        /// Port to listen on (0: ephemeral).
        public var port: Int
        /// HTTP/2 settings.
        public var http2: HBONEHTTP2Configuration
        /// Maps a CONNECT target to the upstream address.
        public var resolver: HBONETargetResolver
        /// Decides whether a tunnel may proceed; nil allows all (identity is still required).
        public var authorizer: HBONEAuthorizer?
        /// Fills metric labels the server cannot know (workload names, services).
        public var metricLabels: (@Sendable (HBONEConnectionInfo, inout TCPMetricLabels) -> Void)?
        /// Upstream TCP connect timeout.
        public var upstreamConnectTimeout: TimeAmount
        /// Bytes written to the upstream socket before any relayed byte, per tunnel; nil (or a nil
        /// result) writes nothing. ztunnel writes a PROXY v2 header (``ProxyProtocolV2``) with the
        /// peer's identity for workloads whose application tunnel is PROXY.
        public var upstreamPreamble: (@Sendable (HBONEConnectionInfo) -> ByteBuffer?)?
        /// The local address to bind the upstream socket to before connecting (its port is
        /// ignored: the kernel picks one), per tunnel; nil (or a nil result) leaves the socket
        /// unbound. This is source-IP preservation, which ztunnel does by spoofing the client's IP
        /// (`IP_TRANSPARENT`); here only local addresses can be bound, without privileges (on Linux
        /// all of 127.0.0.0/8 is local). When the bind fails (e.g. the address is not local) it is
        /// logged at debug and the socket connects unbound.
        public var upstreamSource: (@Sendable (HBONEConnectionInfo) -> SocketAddress?)?
        /// Largest read from the network at once.
        public var maximumReadSize: Int
        /// One listening socket per event loop with `SO_REUSEPORT` (Envoy's `enable_reuse_port`,
        /// default true on Linux), so each connection is served on the loop that accepted it; see
        /// ``LoopListeners``. False: one socket, and binding an address in use fails.
        public var reusePort: Bool
        /// Diagnostics.
        public var logger: Logger
        /// The access log (`connection complete` per tunnel, at info; failures at error).
        public var accessLogger: Logger

        /// Creates a configuration with ztunnel's defaults.
        public init(
            host: String = "0.0.0.0", port: Int = L4Constants.hbonePort, http2: HBONEHTTP2Configuration = .server,
            resolver: @escaping HBONETargetResolver = HBONEResolvers.direct, authorizer: HBONEAuthorizer? = nil,
            metricLabels: (@Sendable (HBONEConnectionInfo, inout TCPMetricLabels) -> Void)? = nil,
            upstreamConnectTimeout: TimeAmount = L4Constants.connectTimeout,
            upstreamPreamble: (@Sendable (HBONEConnectionInfo) -> ByteBuffer?)? = nil,
            upstreamSource: (@Sendable (HBONEConnectionInfo) -> SocketAddress?)? = nil,
            maximumReadSize: Int = 256 * 1024, reusePort: Bool = true,
            logger: Logger = Logger(label: "swiftmesh.l4.server"), accessLogger: Logger = Logger(label: "access")
        ) {
            self.host = host
            self.port = port
            self.http2 = http2
            self.resolver = resolver
            self.authorizer = authorizer
            self.metricLabels = metricLabels
            self.upstreamConnectTimeout = upstreamConnectTimeout
            self.upstreamPreamble = upstreamPreamble
            self.upstreamSource = upstreamSource
            self.maximumReadSize = maximumReadSize
            self.reusePort = reusePort
            self.logger = logger
            self.accessLogger = accessLogger
        }
    }

    /// Counters of what the server accepted, for tests and diagnostics.
    public final class Statistics: Sendable {
        private let connections = Atomic<Int>(0)
        private let handshakes = Atomic<Int>(0)
        private let streams = Atomic<Int>(0)
        private let upstreams = Atomic<Int>(0)
        private let bypassed = Atomic<Int>(0)

        /// TCP connections accepted.
        public var connectionsAccepted: Int { connections.load(ordering: .relaxed) }
        /// Connections whose mutual TLS handshake succeeded.
        public var handshakesCompleted: Int { handshakes.load(ordering: .relaxed) }
        /// CONNECT (or other) requests received.
        public var streamsReceived: Int { streams.load(ordering: .relaxed) }
        /// Upstream connections made.
        public var upstreamConnections: Int { upstreams.load(ordering: .relaxed) }
        /// Tunnel payload bytes that went straight from the TLS reads to an upstream socket,
        /// past NIOHTTP2 (see `HBONEDataBypass`).
        public var bytesBypassed: Int { bypassed.load(ordering: .relaxed) }

        func recordConnection() { connections.add(1, ordering: .relaxed) }
        func recordHandshake() { handshakes.add(1, ordering: .relaxed) }
        func recordStream() { streams.add(1, ordering: .relaxed) }
        func recordUpstream() { upstreams.add(1, ordering: .relaxed) }
        func recordBypassed(_ count: Int) { bypassed.add(count, ordering: .relaxed) }
    }

    /// What every connection and stream handler reads.
    struct Shared: Sendable {
        let configuration: Configuration
        let credentials: HBONECredentials
        let statistics: Statistics
        let tunnels: LiveTunnels
        var logger: Logger { configuration.logger }
        var accessLogger: Logger { configuration.accessLogger }

        /// A bootstrap for upstream sockets; `source`, when given, is bound before connecting
        /// (with port 0), and a failed bind leaves the socket unbound.
        func upstreamBootstrap(on eventLoop: any EventLoop, source: SocketAddress? = nil) -> ClientBootstrap {
            var bootstrap = ClientBootstrap(group: eventLoop)
            if let source {
                let local = (try? SocketAddress(ipAddress: source.ipAddress ?? "", port: 0)) ?? source
                let logger = logger
                bootstrap = bootstrap.channelInitializer { channel in
                    channel.bind(to: local).flatMapError { error in
                        logger.debug(
                            "upstream source bind failed; connecting unbound",
                            metadata: ["source": "\(local)", "error": "\(error)"])
                        return channel.eventLoop.makeSucceededVoidFuture()
                    }
                }
            }
            return bootstrap
                .connectTimeout(configuration.upstreamConnectTimeout)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelOption(.autoRead, value: false)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelOption(
                    .recvAllocator,
                    value: AdaptiveRecvByteBufferAllocator(
                        minimum: 1024, initial: 16 * 1024, maximum: configuration.maximumReadSize))
        }
    }

    private let listeners: LoopListeners
    private let connections: ChannelRegistry
    private let tunnels: LiveTunnels
    private let configuration: Configuration
    private let credentials: HBONECredentials
    /// What the server accepted so far.
    public let statistics: Statistics

    /// The credentials in use now (tests look at their verified-chain cache).
    var credentialsSnapshot: HBONECredentials.Snapshot? { credentials.current }

    /// The bound address (read the port from here after binding port 0).
    public var localAddress: SocketAddress? { listeners.localAddress }

    private init(
        listeners: LoopListeners, connections: ChannelRegistry, tunnels: LiveTunnels, configuration: Configuration,
        credentials: HBONECredentials, statistics: Statistics
    ) {
        self.credentials = credentials
        self.listeners = listeners
        self.connections = connections
        self.tunnels = tunnels
        self.configuration = configuration
        self.statistics = statistics
    }

    /// How many tunnels are established now.
    public var openTunnels: Int { tunnels.all.count }

    /// Asks the authorizer again about every established tunnel and resets the ones it now
    /// denies (after a policy change, as ztunnel does), closing their upstream connections.
    /// - Returns: how many tunnels were closed.
    @discardableResult
    public func reauthorize() async -> Int {
        guard let authorizer = configuration.authorizer else { return 0 }
        var closed = 0
        for entry in tunnels.all where entry.stream.isActive {
            guard case .deny(let reason) = await authorizer(entry.info) else { continue }
            closed += 1
            configuration.logger.info(
                "closing tunnel: authorization no longer allows it",
                metadata: ["peer": "\(entry.info.peerIdentity)", "target": "\(entry.info.target)", "reason": "\(reason)"])
            entry.stream.pipeline.fireUserInboundEventTriggered(TunnelAuthorizationRevoked(reason: reason))
        }
        return closed
    }

    /// Starts listening.
    public static func start(
        credentials: HBONECredentials, configuration: Configuration = Configuration(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> HBONEServer {
        let statistics = Statistics()
        let tunnels = LiveTunnels()
        let shared = Shared(configuration: configuration, credentials: credentials, statistics: statistics, tunnels: tunnels)
        let registry = ChannelRegistry()
        let listeners = try await LoopListeners.bind(
            host: configuration.host, port: configuration.port, group: group, perLoop: configuration.reusePort
        ) { bootstrap in
            bootstrap
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelOption(
                    .recvAllocator,
                    value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16 * 1024, maximum: configuration.maximumReadSize))
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        guard registry.add(channel) else { throw ChannelError.ioOnClosedChannel }  // shutting down
                        statistics.recordConnection()
                        try Self.configure(connection: channel, shared: shared)
                    }
                }
        }
        let server = HBONEServer(
            listeners: listeners, connections: registry, tunnels: tunnels, configuration: configuration, credentials: credentials,
            statistics: statistics)
        configuration.logger.info("HBONE server listening", metadata: ["address": "\(listeners.localAddress.map { "\($0)" } ?? "?")"])
        return server
    }

    static func configure(connection channel: any Channel, shared: Shared) throws {
        guard let snapshot = shared.credentials.current else {
            shared.logger.warning("refusing HBONE connection: no workload certificate yet")
            throw HBONEError.noCertificate
        }
        let outcome = PeerVerificationOutcome()
        let ownIdentity = snapshot.certificate.identity
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(
            NIOSSLServerHandler(
                context: snapshot.serverContext,
                customVerificationCallbackWithMetadata: PeerVerification.clientCallback(
                    roots: snapshot.certificate.roots, trustDomain: ownIdentity.trustDomain,
                    cache: snapshot.verifiedChains, outcome: outcome)))
        try sync.addHandler(HandshakeGate(outcome: outcome, logger: shared.logger, statistics: shared.statistics))
        let gracefulClose = HTTP2GracefulClose()
        let streams = NIOLoopBound(gracefulClose, eventLoop: channel.eventLoop)
        let http2 = shared.configuration.http2
        try sync.addHandler(
            HBONEDataBypass(
                streamWindow: http2.streamWindowSize, connectionWindow: http2.connectionWindowSize,
                maxFrameSize: http2.maxFrameSize, statistics: shared.statistics))
        _ = try sync.configureHTTP2Pipeline(
            mode: .server, connectionConfiguration: http2.connectionConfiguration(isServer: true),
            streamConfiguration: http2.streamConfiguration()
        ) { stream in
            stream.eventLoop.makeCompletedFuture {
                streams.value.streamOpened(try? stream.syncOptions?.getOption(HTTP2StreamChannelOptions.streamID))
                stream.closeFuture.whenComplete { _ in streams.value.streamClosed() }
                guard let identity = outcome.identity, let peer = channel.remoteAddress else {
                    throw HBONEError.tlsHandshakeFailed(reason: "stream before a verified handshake")
                }
                let connection = HBONEServerConnectionContext(
                    peerIdentity: identity, peerAddress: peer, localIdentity: ownIdentity)
                let codec = HBONEStreamCodec()
                try stream.pipeline.syncOperations.addHandler(
                    HBONEServerStreamHandler(shared: shared, connection: connection, codec: codec))
                try stream.pipeline.syncOperations.addHandler(codec)
            }
        }
        try sync.addHandler(HTTP2ConnectionMonitor(interval: http2.keepaliveInterval, timeout: http2.keepaliveTimeout))
        try sync.addHandler(gracefulClose)
    }

    /// Stops accepting and closes every open connection (and so every tunnel).
    public func close() async {
        connections.stopAccepting()
        await listeners.close()
        await connections.closeAll()
    }

    /// Shuts down gracefully: stops accepting connections at once, sends HTTP/2 GOAWAY on every
    /// open connection (so clients open no more tunnels on it; each connection closes when its
    /// last tunnel ends), waits for open tunnels until `gracePeriod` ends, then closes what is
    /// left. Returns when every connection is closed.
    public func shutdown(gracePeriod: Duration) async {
        connections.stopAccepting()
        await listeners.close()
        for connection in connections.channels {
            connection.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        await connections.drain(gracePeriod: gracePeriod)
    }
}

/// Closes a connection whose TLS handshake failed or did not negotiate `h2`.
final class HandshakeGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let outcome: PeerVerificationOutcome
    private let logger: Logger
    private let statistics: HBONEServer.Statistics

    init(outcome: PeerVerificationOutcome, logger: Logger, statistics: HBONEServer.Statistics) {
        self.outcome = outcome
        self.logger = logger
        self.statistics = statistics
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted(let negotiated) = event {
            guard negotiated == L4Constants.alpnH2, outcome.identity != nil else {
                logger.debug("closing HBONE connection: ALPN is not h2", metadata: ["alpn": "\(negotiated ?? "none")"])
                context.close(promise: nil)
                return
            }
            statistics.recordHandshake()
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug(
            "HBONE connection failed",
            metadata: ["error": "\(outcome.failure.map { "\($0)" } ?? "\(error)")", "peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")"])
        context.close(promise: nil)
    }
}
