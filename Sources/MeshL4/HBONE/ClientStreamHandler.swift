import NIOCore
import NIOHPACK
import NIOHTTP2

/// Sends one CONNECT on a fresh HTTP/2 stream and waits for the answer; after a 200 it passes
/// the stream's frames through (to ``HBONEStreamCodec``).
final class HBONEClientStreamHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private let request: HPACKHeaders
    private var response: EventLoopPromise<Void>?
    private var sent = false
    private var userReadPending = false
    /// The answer's status, once received.
    private(set) var status: Int?

    private let autoReadAfterResponse: Bool

    init(request: HPACKHeaders, response: EventLoopPromise<Void>, autoReadAfterResponse: Bool) {
        self.request = request
        self.response = response
        self.autoReadAfterResponse = autoReadAfterResponse
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { sendRequest(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        sendRequest(context: context)
        context.fireChannelActive()
    }

    private func sendRequest(context: ChannelHandlerContext) {
        guard !sent else { return }
        sent = true
        context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: request))), promise: nil)
        // Reads stay off for the user until the tunnel is joined; the answer is read here.
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let response else {
            context.fireChannelRead(data)
            return
        }
        let payload = unwrapInboundIn(data)
        guard case .headers(let headers) = payload else {
            fail(context: context, .streamFailed(reason: "DATA before the CONNECT response"))
            return
        }
        guard let statusText = headers.headers.first(name: ":status"), let status = Int(statusText) else {
            fail(context: context, .streamFailed(reason: "response without a valid :status"))
            return
        }
        if (100..<200).contains(status) && status != 101 && !headers.endStream {
            context.read()
            return
        }
        self.status = status
        guard status == L4Constants.statusOK, !headers.endStream else {
            fail(context: context, .rejected(status: status == L4Constants.statusOK ? 502 : status))
            return
        }
        self.response = nil
        response.succeed(())
        if autoReadAfterResponse {
            userReadPending = false
            try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
            context.read()
        } else if userReadPending {
            userReadPending = false
            context.read()
        }
    }

    func read(context: ChannelHandlerContext) {
        // Before the answer, reads are driven here; afterwards by the user's handlers.
        if response == nil { context.read() } else { userReadPending = true }
    }

    private func fail(context: ChannelHandlerContext, _ error: HBONEError) {
        if let response {
            self.response = nil
            response.fail(error)
        }
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if response != nil {
            fail(context: context, .streamFailed(reason: "\(error)"))
        } else {
            context.fireErrorCaught(error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let response {
            self.response = nil
            response.fail(HBONEError.streamFailed(reason: "stream closed"))
        }
        context.fireChannelInactive()
    }
}
