import Logging
import MeshAPI
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS
import Synchronization

/// One open HBONE tunnel as a NIO channel of `ByteBuffer`s that behaves like a TCP socket:
/// END_STREAM arrives as `ChannelEvent.inputClosed`, `close(mode: .output)` sends END_STREAM,
/// `close()` resets the stream. Reads are off until you enable them (`autoRead`), e.g. with
/// ``RelayHandler/join(_:_:)``.
public struct HBONEChannel: Sendable {
    /// The stream channel.
    public let channel: any Channel
    /// The server's verified SPIFFE identity.
    public let peerIdentity: SpiffeID
}

/// One open HBONE tunnel as an async byte stream pair. Finishing the outbound writer sends
/// END_STREAM (the other direction stays open).
public struct HBONEStream: Sendable {
    /// Inbound bytes and the outbound writer.
    public let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    /// The server's verified SPIFFE identity.
    public let peerIdentity: SpiffeID
}

/// An HBONE client (the outbound side of ztunnel): opens HTTP/2 CONNECT tunnels over mutual
/// TLS 1.3 to HBONE servers, sharing connections through an ``HBONEConnectionPool``.
///
/// The server's certificate must chain to the trust bundle and carry exactly one SPIFFE URI SAN,
/// equal to one of the expected identities; otherwise opening fails with
/// ``HBONEError/untrustedServerCertificate(reason:)`` or
/// ``HBONEError/serverIdentityMismatch(expected:presented:)``. Requests carry `forwarded`,
/// `baggage` and `traceparent` as ztunnel's do.
public final class HBONEClient: Sendable {
    /// Client settings.
    public struct Configuration: Sendable {
        /// HTTP/2 settings.
        public var http2: HBONEHTTP2Configuration
        /// Pool settings.
        public var pool: HBONEConnectionPool.Configuration
        /// Whether tunnels share connections; when false each tunnel has its own connection
        /// (ztunnel does this for the inner tunnel of double HBONE).
        public var pooling: Bool
        /// TCP connect timeout towards the proxy.
        public var connectTimeout: TimeAmount
        /// `baggage` entries describing the source workload (omitted when empty).
        public var baggage: [(key: String, value: String)]
        /// Largest read from the network at once.
        public var maximumReadSize: Int
        /// Fills metric labels the client cannot know (workload names, services).
        public var metricLabels: (@Sendable (inout TCPMetricLabels) -> Void)?
        /// Diagnostics.
        public var logger: Logger
        /// The access log (`connection complete` per tunnel).
        public var accessLogger: Logger

        /// Creates settings with ztunnel's defaults.
        public init(
            http2: HBONEHTTP2Configuration = .client, pool: HBONEConnectionPool.Configuration = .init(),
            pooling: Bool = true, connectTimeout: TimeAmount = L4Constants.connectTimeout,
            baggage: [(key: String, value: String)] = [], maximumReadSize: Int = 256 * 1024,
            metricLabels: (@Sendable (inout TCPMetricLabels) -> Void)? = nil,
            logger: Logger = Logger(label: "swiftmesh.l4.client"), accessLogger: Logger = Logger(label: "access")
        ) {
            self.http2 = http2
            self.pool = pool
            self.pooling = pooling
            self.connectTimeout = connectTimeout
            self.baggage = baggage
            self.maximumReadSize = maximumReadSize
            self.metricLabels = metricLabels
            self.logger = logger
            self.accessLogger = accessLogger
        }
    }

    /// The settings.
    public let configuration: Configuration
    /// The connection pool.
    public let pool: HBONEConnectionPool
    private let credentials: HBONECredentials
    private let group: any EventLoopGroup
    private let baggageValue: String?

    /// Creates a client presenting `credentials`.
    public init(
        credentials: HBONECredentials, configuration: Configuration = Configuration(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.credentials = credentials
        self.configuration = configuration
        self.group = group
        self.pool = HBONEConnectionPool(configuration: configuration.pool, eventLoop: group.next(), logger: configuration.logger)
        self.baggageValue = configuration.baggage.isEmpty ? nil : HBONEHeaders.baggage(configuration.baggage)
    }

    /// Opens a tunnel to `destination` through the HBONE proxy at `proxy`, as an async byte
    /// stream pair.
    /// - Parameters:
    ///   - destination: The target (`:authority`).
    ///   - proxy: The HBONE server (normally the destination's IP, port 15008).
    ///   - expectedIdentities: Identities the server may present.
    ///   - source: The original client, sent as `forwarded: for="ip:port"`.
    public func open(
        to destination: HBONETarget, via proxy: SocketAddress, expectedIdentities: [SpiffeID], source: SocketAddress? = nil
    ) async throws(HBONEError) -> HBONEStream {
        let (channel, identity) = try await openStream(
            target: destination, proxy: proxy, expected: expectedIdentities, source: source, autoRead: true
        ) { stream in
            try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                wrappingChannelSynchronously: stream,
                configuration: .init(isOutboundHalfClosureEnabled: true))
        }
        return HBONEStream(channel: channel, peerIdentity: identity)
    }

    /// Opens a tunnel like ``open(to:via:expectedIdentities:source:)`` and returns the stream's
    /// channel itself, with reads off, for relaying without copies through async sequences.
    /// - Parameter metricLabels: fills this tunnel's metric labels (the source and destination
    ///   workloads and service a node proxy knows per connection), after the client's own
    ///   ``Configuration/metricLabels``.
    /// - Parameter eventLoop: run the tunnel's connection on this loop (pooled per loop), e.g. the
    ///   loop of the socket it will be relayed to, so that relaying never hops between threads.
    public func openChannel(
        to destination: HBONETarget, via proxy: SocketAddress, expectedIdentities: [SpiffeID], source: SocketAddress? = nil,
        on eventLoop: (any EventLoop)? = nil, metricLabels: (@Sendable (inout TCPMetricLabels) -> Void)? = nil
    ) async throws(HBONEError) -> HBONEChannel {
        let (channel, identity) = try await openStream(
            target: destination, proxy: proxy, expected: expectedIdentities, source: source, autoRead: false,
            eventLoop: eventLoop, labels: metricLabels
        ) { $0 }
        return HBONEChannel(channel: channel, peerIdentity: identity)
    }

    /// The credentials in use now (tests look at their verified-chain cache).
    var credentialsSnapshot: HBONECredentials.Snapshot? { credentials.current }

    /// Closes every pooled connection; later opens fail with ``HBONEError/shutDown``.
    public func shutdown() async {
        await pool.close()
    }

    func requestHeaders(target: HBONETarget, source: SocketAddress?) -> HPACKHeaders {
        var headers = HPACKHeaders()
        headers.reserveCapacity(5)
        headers.add(name: ":method", value: L4Constants.connectMethod)
        headers.add(name: ":authority", value: target.authority)
        if let source { headers.add(name: L4Constants.forwardedHeader, value: HBONEHeaders.forwarded(for: source)) }
        if let baggageValue { headers.add(name: L4Constants.baggageHeader, value: baggageValue) }
        headers.add(name: L4Constants.traceparentHeader, value: HBONEHeaders.makeTraceparent())
        return headers
    }

    /// Opens a tunnel like ``openChannel(to:via:expectedIdentities:source:on:metricLabels:)``,
    /// as a future on `eventLoop`. When a pooled connection on that loop has a free stream, or
    /// pooling is off, the whole open runs on event loops, with no hop through Swift
    /// concurrency: the cheapest way for a proxy that relays accepted sockets (pass the
    /// socket's loop). Only a pooled open that must wait for or make a dial goes async.
    public func openChannelFuture(
        to destination: HBONETarget, via proxy: SocketAddress, expectedIdentities: [SpiffeID], source: SocketAddress? = nil,
        on eventLoop: any EventLoop, metricLabels: (@Sendable (inout TCPMetricLabels) -> Void)? = nil
    ) -> EventLoopFuture<HBONEChannel> {
        let prepared: (HBONEConnectionPool.Key, HBONECredentials.Snapshot)
        do {
            prepared = try prepare(proxy: proxy, expected: expectedIdentities, eventLoop: eventLoop)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let connection: EventLoopFuture<HBONEConnection>
        if !configuration.pooling {
            connection = dialFuture(key: prepared.0, id: 0, snapshot: prepared.1, pooled: false, on: eventLoop)
        } else if let available = pool.checkoutIfAvailable(prepared.0) {
            connection = eventLoop.makeSucceededFuture(available)
        } else {
            return eventLoop.makeFutureWithTask {
                try await self.openChannel(
                    to: destination, via: proxy, expectedIdentities: expectedIdentities, source: source, on: eventLoop,
                    metricLabels: metricLabels)
            }
        }
        let pooled = configuration.pooling
        let snapshot = prepared.1
        return connection.flatMap { connection in
            self.startStream(
                on: connection, pooled: pooled, snapshot: snapshot, target: destination, source: source, autoRead: false,
                labels: metricLabels
            ) { $0 }
        }.map { HBONEChannel(channel: $0.0, peerIdentity: $0.1) }.hop(to: eventLoop)
    }

    private func prepare(
        proxy: SocketAddress, expected: [SpiffeID], eventLoop preferred: (any EventLoop)?
    ) throws(HBONEError) -> (HBONEConnectionPool.Key, HBONECredentials.Snapshot) {
        guard let snapshot = credentials.current else { throw .noCertificate }
        guard !expected.isEmpty else {
            throw .serverIdentityMismatch(expected: [], presented: "(no expected identity was given)")
        }
        let key = HBONEConnectionPool.Key(
            source: snapshot.certificate.identity, expected: expected, proxy: proxy,
            eventLoop: preferred.map { ObjectIdentifier($0) })
        return (key, snapshot)
    }

    private func openStream<Output: Sendable>(
        target: HBONETarget, proxy: SocketAddress, expected: [SpiffeID], source: SocketAddress?, autoRead: Bool,
        eventLoop preferred: (any EventLoop)? = nil, labels fill: (@Sendable (inout TCPMetricLabels) -> Void)? = nil,
        initializer: @escaping @Sendable (any Channel) throws -> Output
    ) async throws(HBONEError) -> (Output, SpiffeID) {
        let (key, snapshot) = try prepare(proxy: proxy, expected: expected, eventLoop: preferred)
        let pooled = configuration.pooling
        let connection: HBONEConnection
        do {
            if pooled {
                connection = try await pool.checkout(key) { id in
                    try await self.dial(key: key, id: id, snapshot: snapshot, pooled: true, on: preferred)
                }
            } else {
                connection = try await dial(key: key, id: 0, snapshot: snapshot, pooled: false, on: preferred)
            }
        } catch {
            throw Self.typed(error)
        }
        do {
            return try await startStream(
                on: connection, pooled: pooled, snapshot: snapshot, target: target, source: source, autoRead: autoRead,
                labels: fill, initializer: initializer
            ).get()
        } catch {
            throw Self.typed(error)
        }
    }

    /// Sends the CONNECT on a new stream of `connection` (whose slot the caller holds) and
    /// completes, on the connection's loop, once the server answered 200.
    private func startStream<Output: Sendable>(
        on connection: HBONEConnection, pooled: Bool, snapshot: HBONECredentials.Snapshot, target: HBONETarget,
        source: SocketAddress?, autoRead: Bool, labels fill: (@Sendable (inout TCPMetricLabels) -> Void)?,
        initializer: @escaping @Sendable (any Channel) throws -> Output
    ) -> EventLoopFuture<(Output, SpiffeID)> {
        let proxy = connection.key.proxy
        let pool = self.pool
        let release = ReleaseOnce {
            if pooled { pool.release(connection) } else { connection.channel.close(promise: nil) }
        }
        let eventLoop = connection.channel.eventLoop
        let response = eventLoop.makePromise(of: Void.self)
        let request = requestHeaders(target: target, source: source)
        var labels = TCPMetricLabels(reporter: .source)
        labels.setIdentities(source: snapshot.certificate.identity, destination: connection.peerIdentity)
        configuration.metricLabels?(&labels)
        fill?(&labels)
        let metricLabels = labels
        let accessLogger = configuration.accessLogger
        let peerIdentity = connection.peerIdentity
        let streamFuture = connection.multiplexer.createStreamChannel { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
                let handler = HBONEClientStreamHandler(
                    request: request, response: response, autoReadAfterResponse: autoRead)
                let openedAt = NIODeadline.now()
                TCPMetrics.opened(metricLabels)
                let codec = HBONEStreamCodec { codec in
                    let flags: TCPResponseFlags =
                        switch handler.status {
                        case L4Constants.statusOK?: .none
                        case L4Constants.statusUnauthorized?: .deny
                        default: .connect
                        }
                    TCPMetrics.closed(
                        metricLabels, flags: flags, requestBytes: codec.bytesSent, responseBytes: codec.bytesReceived)
                    accessLogger.info(
                        "connection complete",
                        metadata: [
                            "src.addr": "\(source.map(HBONETarget.authority(of:)) ?? "-")",
                            "dst.addr": "\(HBONETarget.authority(of: proxy))", "dst.hbone_addr": "\(target)",
                            "dst.identity": "\(peerIdentity)", "direction": "outbound",
                            "bytes_sent": "\(codec.bytesSent)", "bytes_recv": "\(codec.bytesReceived)",
                            "duration": "\((NIODeadline.now() - openedAt).nanoseconds / 1_000_000)ms",
                        ])
                }
                try stream.pipeline.syncOperations.addHandler(handler)
                try stream.pipeline.syncOperations.addHandler(codec)
                stream.closeFuture.whenComplete { _ in release.run() }
            }
        }
        // One chain, so an async caller resumes once, not once per step. The caller's view of
        // the stream (e.g. an async channel, which must be finished once made) is made only
        // after the 200, synchronously as it arrives, before the stream reads any further.
        return streamFuture.flatMap { stream in
            response.futureResult.flatMapThrowing {
                do {
                    return (try initializer(stream), peerIdentity)
                } catch {
                    stream.close(promise: nil)
                    throw error
                }
            }
        }.flatMapErrorThrowing { error in
            release.run()
            response.fail(error)
            throw Self.typed(error)
        }
    }

    static func typed(_ error: any Error) -> HBONEError {
        if let error = error as? HBONEError { return error }
        return .streamFailed(reason: "\(error)")
    }

    private func dial(
        key: HBONEConnectionPool.Key, id: Int, snapshot: HBONECredentials.Snapshot, pooled: Bool,
        on preferred: (any EventLoop)? = nil
    ) async throws(HBONEError) -> HBONEConnection {
        do {
            return try await dialFuture(key: key, id: id, snapshot: snapshot, pooled: pooled, on: preferred).get()
        } catch {
            throw Self.typed(error)
        }
    }

    /// Connects, completes TLS (the server's identity verified) and HTTP/2's preface. A pooled
    /// connection also waits for the server's first SETTINGS (its stream limit caps the slots);
    /// a connection for one tunnel sends its CONNECT at once.
    private func dialFuture(
        key: HBONEConnectionPool.Key, id: Int, snapshot: HBONECredentials.Snapshot, pooled: Bool,
        on preferred: (any EventLoop)?
    ) -> EventLoopFuture<HBONEConnection> {
        let eventLoop = preferred ?? group.next()
        let multiplexerReady = eventLoop.makePromise(of: NIOHTTP2Handler.StreamMultiplexer.self)
        let handshake = eventLoop.makePromise(of: SpiffeID.self)
        let settings = eventLoop.makePromise(of: Int?.self)
        let outcome = PeerVerificationOutcome()
        let http2 = configuration.http2
        let pool = self.pool
        let roots = snapshot.certificate.roots
        let verifiedChains = snapshot.verifiedChains
        let expected = key.expected
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(
                .recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16 * 1024, maximum: configuration.maximumReadSize))
        return bootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                let sync = channel.pipeline.syncOperations
                try sync.addHandler(
                    NIOSSLClientHandler(
                        context: snapshot.clientContext, serverHostname: nil,
                        customVerificationCallbackWithMetadata: PeerVerification.serverCallback(
                            roots: roots, expected: expected, cache: verifiedChains, outcome: outcome)))
                try sync.addHandler(ClientHandshakeGate(outcome: outcome, promise: handshake))
                let multiplexer = try sync.configureHTTP2Pipeline(
                    mode: .client, connectionConfiguration: http2.connectionConfiguration(isServer: false),
                    streamConfiguration: http2.streamConfiguration()
                ) { pushed in pushed.close() }
                var sawSettings = false
                try sync.addHandler(
                    HTTP2ConnectionMonitor(
                        interval: http2.keepaliveInterval, timeout: http2.keepaliveTimeout,
                        onSettings: { value in
                            if !sawSettings {
                                sawSettings = true
                                settings.succeed(value)
                            } else if pooled {
                                pool.updatePeerMaxStreams(key: key, id: id, value)
                            }
                        },
                        onGoAway: { if pooled { pool.goAway(key: key, id: id, channel: channel) } }))
                channel.closeFuture.whenComplete { _ in
                    handshake.fail(outcome.failure ?? HBONEError.tlsHandshakeFailed(reason: "connection closed"))
                    settings.fail(HBONEError.streamFailed(reason: "connection closed before the server's SETTINGS"))
                }
                multiplexerReady.succeed(multiplexer)
            }
        }.connect(to: key.proxy).flatMapError { error in
            handshake.fail(error)
            settings.fail(error)
            multiplexerReady.fail(error)
            return eventLoop.makeFailedFuture(HBONEError.connectFailed(proxy: "\(key.proxy)", reason: "\(error)"))
        }.flatMap { channel in
            let peerMax: EventLoopFuture<Int?> = pooled ? settings.futureResult : eventLoop.makeSucceededFuture(nil)
            return multiplexerReady.futureResult.and(handshake.futureResult).and(peerMax).map { ready, peerMax in
                HBONEConnection(
                    id: id, key: key, channel: channel, multiplexer: ready.0, peerIdentity: ready.1,
                    initialPeerMaxStreams: peerMax)
            }.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw Self.typed(outcome.failure ?? error)
            }
        }
    }
}

/// Runs a closure once, from whichever caller comes first.
final class ReleaseOnce: Sendable {
    private let body: Mutex<(@Sendable () -> Void)?>
    init(_ body: @escaping @Sendable () -> Void) { self.body = Mutex(body) }
    func run() {
        let body = self.body.withLock { value -> (@Sendable () -> Void)? in
            defer { value = nil }
            return value
        }
        body?()
    }
}

/// Completes the client's handshake promise: the server's identity once TLS finished with ALPN
/// `h2`, or a typed error.
final class ClientHandshakeGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let outcome: PeerVerificationOutcome
    private let promise: EventLoopPromise<SpiffeID>

    init(outcome: PeerVerificationOutcome, promise: EventLoopPromise<SpiffeID>) {
        self.outcome = outcome
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted(let negotiated) = event {
            if negotiated != L4Constants.alpnH2 {
                promise.fail(HBONEError.http2NotNegotiated(negotiated: negotiated))
                context.close(promise: nil)
            } else if let identity = outcome.identity {
                promise.succeed(identity)
                context.fireUserInboundEventTriggered(event)
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            } else {
                promise.fail(outcome.failure ?? HBONEError.tlsHandshakeFailed(reason: "server identity not verified"))
                context.close(promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(outcome.failure ?? HBONEError.tlsHandshakeFailed(reason: "\(error)"))
        context.close(promise: nil)
    }
}
