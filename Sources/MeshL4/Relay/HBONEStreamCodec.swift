import NIOCore
import NIOHTTP2

/// Turns an HTTP/2 stream channel into a byte channel that behaves like a TCP socket:
/// inbound DATA frames become `ByteBuffer`s and END_STREAM becomes `ChannelEvent.inputClosed`;
/// outbound `ByteBuffer`s become DATA frames and `close(mode: .output)` sends END_STREAM.
///
/// It also counts the payload bytes each way, for metrics and access logs.
final class HBONEStreamCodec: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = HTTP2Frame.FramePayload

    /// Payload bytes received from the peer.
    private(set) var bytesReceived = 0
    /// Payload bytes written to the peer.
    private(set) var bytesSent = 0
    /// Whether the peer ended its side of the stream.
    private(set) var inputEnded = false
    /// Whether we ended ours.
    private(set) var outputEnded = false
    /// Whether our END_STREAM has been written (not only queued).
    private var outputWritten = false
    /// Whether the peer reset the stream.
    private(set) var peerReset: HTTP2ErrorCode?
    private let onClose: ((HBONEStreamCodec) -> Void)?

    init(onClose: ((HBONEStreamCodec) -> Void)? = nil) {
        self.onClose = onClose
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .data(let frame):
            if case .byteBuffer(let buffer) = frame.data, buffer.readableBytes > 0 {
                bytesReceived &+= buffer.readableBytes
                context.fireChannelRead(wrapInboundOut(buffer))
            }
            if frame.endStream { endInput(context: context) }
        case .headers(let headers):
            // Trailers end the stream; anything else after the response is ignored.
            if headers.endStream { endInput(context: context) }
        case .rstStream(let code):
            peerReset = code
        default:
            break
        }
    }

    /// Counts payload that reached the relay's partner without passing through this handler
    /// (``HBONEDataBypass``).
    func countReceived(_ count: Int) {
        bytesReceived &+= count
    }

    private func endInput(context: ChannelHandlerContext) {
        guard !inputEnded else { return }
        inputEnded = true
        context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = unwrapOutboundIn(data)
        bytesSent &+= buffer.readableBytes
        context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(buffer), endStream: false))), promise: promise)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        switch mode {
        case .output:
            guard !outputEnded else {
                promise?.fail(ChannelError.outputClosed)
                return
            }
            outputEnded = true
            let empty = context.channel.allocator.buffer(capacity: 0)
            let written = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(.data(.init(data: .byteBuffer(empty), endStream: true))), promise: written)
            // A stream channel raises no event for its own half-closure; mirror the socket's, but
            // only once END_STREAM has really gone out. DATA waiting for flow-control window sits
            // in front of it, and a relay that closed the stream on seeing both directions end
            // would otherwise drop that data and reset the stream (Envoy then resets its client).
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            written.futureResult.whenComplete { result in
                guard case .success = result else { return }
                let (codec, context) = bound.value
                codec.outputWritten = true
                context.fireUserInboundEventTriggered(ChannelEvent.outputClosed)
            }
            written.futureResult.cascade(to: promise)
        case .input:
            promise?.fail(ChannelError.operationUnsupported)
        case .all:
            if inputEnded && outputWritten && peerReset == nil {
                // END_STREAM went both ways: HTTP/2 closes the stream, and with it this channel.
                // Closing first (the stream-closed notice can come a moment after our END_STREAM's
                // write completes) would send RST_STREAM on a finished stream; peers count those
                // against a reset-rate limit (NIO: 200 in 30 s) and then close the connection.
                context.channel.closeFuture.cascade(to: promise)
                return
            }
            context.close(mode: .all, promise: promise)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !inputEnded || peerReset != nil {
            // Closed before the peer finished: a reset, to be propagated as one.
            context.fireErrorCaught(StreamResetError(code: peerReset))
        }
        onClose?(self)
        context.fireChannelInactive()
    }
}

/// An HBONE stream ended without END_STREAM from the peer (RST_STREAM, or its connection died).
struct StreamResetError: Error, Hashable, Sendable {
    var code: HTTP2ErrorCode?
}
