import NIOCore

/// Keeps what a byte channel receives before ``RelayHandler/join(_:_:)`` starts relaying it.
///
/// Turning `autoRead` off does not stop every read: when the peer closes (FIN), NIO reads the
/// socket to its EOF at once and delivers the bytes and `ChannelEvent.inputClosed` down the
/// pipeline. On a channel not yet joined they would be lost. Put this handler at the end of the
/// pipeline of a socket that will be joined later (a connector's upstream socket, or an accepted
/// socket while its destination is being connected): it keeps those bytes, the EOF and any
/// error, and `join` replays them, in order, to the relay when it removes the hold.
///
/// A socket whose peer closes before the join keeps its bytes only if it allows remote
/// half-closure (`ChannelOptions.allowRemoteHalfClosure`); otherwise NIO closes it at EOF.
///
/// ```swift
/// let upstream = try await ClientBootstrap(group: request.eventLoop)
///     .channelOption(.autoRead, value: false)
///     .channelOption(.allowRemoteHalfClosure, value: true)
///     .channelInitializer { channel in
///         channel.eventLoop.makeCompletedFuture {
///             try channel.pipeline.syncOperations.addHandler(RelayInputHold())
///         }
///     }
///     .connect(to: request.destination).get()
/// ```
public final class RelayInputHold: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    private var pending: [ByteBuffer] = []
    private var inputClosed = false
    private var error: (any Error)?

    /// Creates the handler.
    public init() {}

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending.append(unwrapInboundIn(data))
    }

    public func channelReadComplete(context: ChannelHandlerContext) {}

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            inputClosed = true
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if self.error == nil { self.error = error }
    }

    /// Replays what it kept to the handlers after it, then leaves the pipeline.
    public func removeHandler(context: ChannelHandlerContext, removalToken: ChannelHandlerContext.RemovalToken) {
        let pending = self.pending
        self.pending = []
        for buffer in pending { context.fireChannelRead(wrapInboundOut(buffer)) }
        if !pending.isEmpty { context.fireChannelReadComplete() }
        if inputClosed { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        if let error { context.fireErrorCaught(error) }
        context.leavePipeline(removalToken: removalToken)
    }
}
