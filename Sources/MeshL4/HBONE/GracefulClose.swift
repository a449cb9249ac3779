import NIOCore
import NIOHTTP2

/// Sits after `NIOHTTP2Handler` on an HBONE server connection and closes it gracefully when a
/// `ChannelShouldQuiesceEvent` arrives: it sends GOAWAY (NO_ERROR) naming the last stream the
/// server accepted, so the client stops opening streams here (NIOHTTP2 ignores any later ones),
/// and closes the connection once its last open stream closed.
///
/// The stream initializer reports streams with ``streamOpened(_:)`` and ``streamClosed()``;
/// everything runs on the connection's event loop.
final class HTTP2GracefulClose: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias InboundOut = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private var context: ChannelHandlerContext?
    private var lastStreamID = HTTP2StreamID.rootStream
    private var openStreams = 0
    private var quiescing = false

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// An inbound stream started.
    func streamOpened(_ id: HTTP2StreamID?) {
        openStreams += 1
        if let id, id > lastStreamID { lastStreamID = id }
    }

    /// A stream reported by ``streamOpened(_:)`` closed.
    func streamClosed() {
        openStreams -= 1
        if quiescing, openStreams == 0 { context?.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        guard !quiescing else { return }
        quiescing = true
        let goAway = HTTP2Frame(
            streamID: .rootStream, payload: .goAway(lastStreamID: lastStreamID, errorCode: .noError, opaqueData: nil))
        context.writeAndFlush(wrapOutboundOut(goAway), promise: nil)
        if openStreams == 0 { context.close(promise: nil) }
    }
}
