import NIOCore
import NIOHTTP2

/// Sits after `NIOHTTP2Handler` on an HBONE connection: sends keepalive PINGs (closing the
/// connection when one goes unanswered too long) and reports the peer's
/// SETTINGS (with its SETTINGS_MAX_CONCURRENT_STREAMS, if any) and GOAWAY.
final class HTTP2ConnectionMonitor: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private let interval: TimeAmount?
    private let timeout: TimeAmount
    private let onSettings: ((Int?) -> Void)?
    private let onGoAway: (() -> Void)?
    private var task: RepeatedTask?
    private var outstandingPing: (data: UInt64, ticks: Int64)?
    private var nextPing: UInt64 = 1

    init(
        interval: TimeAmount?, timeout: TimeAmount, onSettings: ((Int?) -> Void)? = nil,
        onGoAway: (() -> Void)? = nil
    ) {
        self.interval = interval
        self.timeout = timeout
        self.onSettings = onSettings
        self.onGoAway = onGoAway
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard task == nil, let interval else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        task = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let (handler, context) = loopBound.value
            handler.tick(context: context)
        }
    }

    private func tick(context: ChannelHandlerContext) {
        guard let interval else { return }
        if let outstanding = outstandingPing {
            // Counted in ticks of the event loop's scheduler (not the wall clock).
            let ticks = outstanding.ticks + 1
            outstandingPing = (outstanding.data, ticks)
            if ticks * interval.nanoseconds >= timeout.nanoseconds {
                task?.cancel()
                context.close(promise: nil)
            }
            return
        }
        let data = nextPing
        nextPing &+= 1
        outstandingPing = (data, 0)
        context.writeAndFlush(
            wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .ping(HTTP2PingData(withInteger: data), ack: false))),
            promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.payload {
        case .ping(let ping, ack: true):
            if ping.integer == outstandingPing?.data { outstandingPing = nil }
        case .settings(.settings(let settings)):
            onSettings?(settings.last { $0.parameter == .maxConcurrentStreams }?.value)
        case .goAway:
            onGoAway?()
        default:
            break
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        task?.cancel()
        task = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        task?.cancel()
        task = nil
    }
}
