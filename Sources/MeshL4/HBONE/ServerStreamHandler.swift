import Logging
import MeshAPI
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix

/// Per-connection facts the stream handlers share.
struct HBONEServerConnectionContext: Sendable {
    var peerIdentity: SpiffeID
    var peerAddress: SocketAddress
    var localIdentity: SpiffeID?
}

/// Serves one CONNECT stream: validates the request, resolves and authorizes the target,
/// connects upstream, answers, then hands the stream to a ``RelayHandler``.
final class HBONEServerStreamHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private enum State {
        case awaitingHeaders
        case connecting(buffered: [HTTP2Frame.FramePayload])
        case established
        case finished
    }

    private let shared: HBONEServer.Shared
    private let connection: HBONEServerConnectionContext
    private let codec: HBONEStreamCodec
    private var state = State.awaitingHeaders
    private var readHeld = false
    private var labels = TCPMetricLabels(reporter: .destination)
    private var opened = false
    private var flags = TCPResponseFlags.none
    private var info: HBONEConnectionInfo?
    private var openedAt = NIODeadline.now()
    private var failureReason: String?

    init(shared: HBONEServer.Shared, connection: HBONEServerConnectionContext, codec: HBONEStreamCodec) {
        self.shared = shared
        self.connection = connection
        self.codec = codec
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let payload = unwrapInboundIn(data)
        switch state {
        case .awaitingHeaders:
            guard case .headers(let headers) = payload else {
                respond(context: context, status: L4Constants.statusBadRequest, reason: "stream did not start with HEADERS")
                return
            }
            handleRequest(context: context, headers: headers.headers, endStream: headers.endStream)
        case .connecting(var buffered):
            buffered.append(payload)
            state = .connecting(buffered: buffered)
        case .established:
            context.fireChannelRead(data)
        case .finished:
            break
        }
    }

    func read(context: ChannelHandlerContext) {
        switch state {
        case .awaitingHeaders, .established: context.read()
        case .connecting, .finished: readHeld = true
        }
    }

    private func handleRequest(context: ChannelHandlerContext, headers: HPACKHeaders, endStream: Bool) {
        shared.statistics.recordStream()
        guard headers.first(name: ":method") == L4Constants.connectMethod, !headers.contains(name: ":protocol") else {
            respond(context: context, status: L4Constants.statusBadRequest, reason: "method is not CONNECT")
            return
        }
        guard let authority = headers.first(name: ":authority") else {
            respond(context: context, status: L4Constants.statusBadRequest, reason: "no :authority")
            return
        }
        let target: HBONETarget
        do {
            target = try HBONETarget(authority: authority)
        } catch {
            respond(context: context, status: L4Constants.statusBadRequest, reason: error.description)
            return
        }
        let destination: SocketAddress
        switch shared.configuration.resolver(target) {
        case .connect(let address):
            destination = address
        case .unknown:
            respond(context: context, status: L4Constants.statusServiceUnavailable, reason: "unknown target \(target)")
            return
        case .badRequest(let reason):
            respond(context: context, status: L4Constants.statusBadRequest, reason: reason)
            return
        }
        let source = headers.first(name: L4Constants.forwardedHeader).flatMap(HBONEHeaders.forwardedFor)
            ?? connection.peerAddress
        let baggage = headers.first(name: L4Constants.baggageHeader).map(HBONEHeaders.parseBaggage) ?? [:]
        let info = HBONEConnectionInfo(
            peerIdentity: connection.peerIdentity, source: source, peerAddress: connection.peerAddress,
            destination: destination, target: target, baggage: baggage)
        self.info = info
        labels.setIdentities(source: connection.peerIdentity, destination: connection.localIdentity)
        labels.setSource(baggage: baggage)
        if let labeler = shared.configuration.metricLabels { labeler(info, &labels) }
        opened = true
        openedAt = .now()
        TCPMetrics.opened(labels)
        state = .connecting(buffered: [])

        guard let authorizer = shared.configuration.authorizer else {
            connectUpstream(context: context, destination: destination)
            return
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.makeFutureWithTask { await authorizer(info) }.whenComplete { result in
            let (handler, context) = loopBound.value
            switch result {
            case .success(.allow):
                handler.connectUpstream(context: context, destination: destination)
            case .success(.deny(let reason)):
                handler.flags = .deny
                handler.respond(context: context, status: L4Constants.statusUnauthorized, reason: reason)
            case .failure(let error):
                handler.flags = .deny
                handler.respond(context: context, status: L4Constants.statusUnauthorized, reason: "authorization failed: \(error)")
            }
        }
    }

    private func connectUpstream(context: ChannelHandlerContext, destination: SocketAddress) {
        guard case .connecting = state else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let source = info.flatMap { info in shared.configuration.upstreamSource?(info) }
        shared.upstreamBootstrap(on: context.eventLoop, source: source).connect(to: destination).whenComplete { result in
            let (handler, context) = loopBound.value
            switch result {
            case .success(let upstream):
                handler.established(context: context, upstream: upstream)
            case .failure(let error):
                handler.flags = .connect
                handler.respond(
                    context: context, status: L4Constants.statusServiceUnavailable,
                    reason: "upstream connect to \(destination) failed: \(error)")
            }
        }
    }

    private func established(context: ChannelHandlerContext, upstream: any Channel) {
        guard case .connecting(let buffered) = state, context.channel.isActive else {
            upstream.close(promise: nil)
            return
        }
        shared.statistics.recordUpstream()
        // The preamble goes out before any relayed byte: the buffered stream data below is
        // written after it on the same event loop.
        if let info, let preamble = shared.configuration.upstreamPreamble?(info) {
            upstream.writeAndFlush(preamble, promise: nil)
        }
        let stream = context.channel
        do {
            try stream.pipeline.syncOperations.addHandler(RelayHandler(partner: upstream))
            try upstream.pipeline.syncOperations.addHandler(RelayHandler(partner: stream))
        } catch {
            upstream.close(promise: nil)
            flags = .connect
            respond(context: context, status: L4Constants.statusServiceUnavailable, reason: "relay setup failed: \(error)")
            return
        }
        // The upstream closes when the stream does (the relay handles orderly ends and resets).
        state = .established
        if let info { shared.tunnels.add(info, stream: stream) }
        let response = HPACKHeaders([(":status", "200")])
        context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: response))), promise: nil)
        for payload in buffered { context.fireChannelRead(wrapInboundOut(payload)) }
        if !buffered.isEmpty { context.fireChannelReadComplete() }
        upstream.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in upstream.read() }
        if readHeld {
            readHeld = false
            context.read()
        }
        // From now on the stream's DATA goes straight upstream. NIOHTTP2 holds nothing of it:
        // what arrived while connecting was relayed above, and the read just asked delivered
        // what the stream channel had queued.
        if let parent = stream.parent,
            let id = try? stream.syncOptions?.getOption(HTTP2StreamChannelOptions.streamID),
            let bypass = try? parent.pipeline.syncOperations.handler(type: HBONEDataBypass.self)
        {
            bypass.register(streamID: Int(id), stream: stream, partner: upstream, codec: codec)
            let bound = NIOLoopBound(bypass, eventLoop: stream.eventLoop)
            stream.closeFuture.whenComplete { _ in bound.value.unregister(streamID: Int(id)) }
        }
    }

    private func respond(context: ChannelHandlerContext, status: Int, reason: String) {
        if case .finished = state { return }
        state = .finished
        failureReason = reason
        if status == L4Constants.statusServiceUnavailable, flags == .none { flags = .connect }
        shared.logger.debug(
            "HBONE request refused",
            metadata: ["status": "\(status)", "reason": "\(reason)", "peer": "\(connection.peerIdentity)"])
        let response = HPACKHeaders([(":status", String(status))])
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: response, endStream: true)))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let revoked = event as? TunnelAuthorizationRevoked {
            flags = .deny
            failureReason = "authorization revoked: \(revoked.reason)"
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if opened {
            opened = false
            TCPMetrics.closed(labels, flags: flags, requestBytes: codec.bytesReceived, responseBytes: codec.bytesSent)
            logAccess()
        }
        context.fireChannelInactive()
    }

    private func logAccess() {
        let logger = shared.accessLogger
        // The metadata is built only when the line will be written (the access log is often off).
        guard logger.logLevel <= (failureReason == nil ? .info : .error) else { return }
        let elapsed = (NIODeadline.now() - openedAt).nanoseconds / 1_000_000
        var metadata: Logger.Metadata = [
            "src.addr": "\(info.map { HBONETarget.authority(of: $0.source) } ?? "-")",
            "src.identity": "\(connection.peerIdentity)",
            "dst.addr": "\(info.map { HBONETarget.authority(of: $0.destination) } ?? "-")",
            "dst.hbone_addr": "\(info?.target.authority ?? "-")",
            "direction": "inbound",
            "bytes_sent": "\(codec.bytesSent)",
            "bytes_recv": "\(codec.bytesReceived)",
            "duration": "\(elapsed)ms",
        ]
        if let identity = connection.localIdentity { metadata["dst.identity"] = "\(identity)" }
        if let failureReason {
            metadata["error"] = "\(failureReason)"
            logger.error("connection complete", metadata: metadata)
        } else {
            logger.info("connection complete", metadata: metadata)
        }
    }
}
