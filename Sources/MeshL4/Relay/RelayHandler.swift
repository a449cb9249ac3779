import NIOCore
import NIOPosix

/// Copies bytes between two byte channels (a TCP socket, or an HBONE stream behind
/// ``HBONEStreamCodec``) with end-to-end flow control:
///
/// - **Backpressure.** A side reads only while the other side is writable: when the partner's
///   outbound buffer passes its high watermark (a socket's send buffer, a stream's flow-control
///   window), reading stops, so a slow reader slows the writer and nothing is buffered without
///   bound. The partner's becoming writable resumes reading.
/// - **Half-close.** EOF (FIN, or END_STREAM) on one side becomes a half-close of the other's
///   output; the opposite direction keeps flowing. A channel closes once both directions ended.
/// - **Reset.** An error on one side (a TCP reset, RST_STREAM) aborts the other: a socket is
///   closed with a TCP reset (SO_LINGER 0), a stream with RST_STREAM.
///
/// The two channels may live on different event loops; every call to the partner goes through
/// its `Channel`, which hops when needed.
public final class RelayHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private let partner: any Channel
    private var inputClosed = false
    private var outputClosed = false
    private var failed = false
    private var closing = false

    /// Creates the handler for one side; `partner` is the other side's channel.
    public init(partner: any Channel) {
        self.partner = partner
    }

    /// Joins two active byte channels: installs a relay handler on each and starts reading.
    /// Reads should be off (`autoRead` false) on both until now, so no byte arrives unhandled;
    /// a socket that may see its peer's EOF before the join should end its pipeline with a
    /// ``RelayInputHold``, whose bytes and EOF are relayed first.
    public static func join(_ first: any Channel, _ second: any Channel) -> EventLoopFuture<Void> {
        if first.eventLoop.inEventLoop, second.eventLoop.inEventLoop, let firstOptions = first.syncOptions,
            let secondOptions = second.syncOptions
        {
            // Both on this thread (as a node proxy relays): join now, without a task per step.
            do {
                try install(on: first, partner: second)
                try install(on: second, partner: first)
                try startReadingNow(first, options: firstOptions)
                try startReadingNow(second, options: secondOptions)
                return first.eventLoop.makeSucceededVoidFuture()
            } catch {
                return first.eventLoop.makeFailedFuture(error)
            }
        }
        let a = first.eventLoop.submit { try install(on: first, partner: second) }
        let b = second.eventLoop.submit { try install(on: second, partner: first) }
        return a.and(b).flatMap { _ in
            startReading(first).and(startReading(second)).map { _ in }
        }
    }

    /// Turns `autoRead` on and asks for the first read, on the channel's own loop.
    ///
    /// An accepted socket can be joined before its registration with the event loop completes
    /// (its tunnel opened faster than the acceptor's hop). A read asked of it then is only marked
    /// pending and, because it is pending, activation does not ask again: the socket would never
    /// be watched. So an inactive channel is left to start reading when it becomes active,
    /// which `autoRead` does.
    private static func startReading(_ channel: any Channel) -> EventLoopFuture<Void> {
        channel.setOption(ChannelOptions.autoRead, value: true).hop(to: channel.eventLoop).map {
            if channel.isActive { channel.read() }
        }
    }

    /// ``startReading(_:)`` on the channel's loop, now.
    private static func startReadingNow(_ channel: any Channel, options: any NIOSynchronousChannelOptions) throws {
        try options.setOption(ChannelOptions.autoRead, value: true)
        if channel.isActive { channel.read() }
    }

    /// Adds the relay handler to `channel`, then releases a ``RelayInputHold`` in front of it.
    private static func install(on channel: any Channel, partner: any Channel) throws {
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(RelayHandler(partner: partner))
        if let hold = try? sync.handler(type: RelayInputHold.self) {
            sync.removeHandler(hold, promise: nil)
        }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A write fails when the partner died abruptly (a reset while flushing: NIO then closes it
        // without an error event). Reset this side too, so the abort is not mistaken for an
        // orderly end and turned into a FIN / END_STREAM.
        let own = context.channel
        partner.write(unwrapInboundIn(data)).whenFailure { _ in Self.abort(own) }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        partner.flush()
        context.fireChannelReadComplete()
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            // The partner may have stopped reading for us; let it try again.
            partner.read()
        }
        context.fireChannelWritabilityChanged()
    }

    public func read(context: ChannelHandlerContext) {
        // Read only what the partner can take now; its writability change calls read() again.
        if partner.isWritable { context.read() }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case ChannelEvent.inputClosed:
            inputClosed = true
            halfClosePartner()
            closeIfDone(context: context)
        case ChannelEvent.outputClosed:
            outputClosed = true
            closeIfDone(context: context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failed = true
        context.close(promise: nil)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        if failed {
            Self.abort(partner)
        } else if !inputClosed {
            // A socket that had shut its output closes at EOF without an inputClosed event:
            // that is still an orderly end of this direction.
            inputClosed = true
            halfClosePartner()
        }
        context.fireChannelInactive()
    }

    private func halfClosePartner() {
        let partner = self.partner
        guard partner is any SocketOptionProvider else {
            // A stream queues END_STREAM behind its pending DATA.
            Self.closeOutput(partner)
            return
        }
        // A socket whose input already ended turns close(mode: .output) into a full close that
        // drops pending writes: wait until every earlier write is out (writes complete in order).
        partner.writeAndFlush(ByteBuffer()).whenComplete { _ in Self.closeOutput(partner) }
    }

    private static func closeOutput(_ partner: any Channel) {
        partner.close(mode: .output).whenFailure { error in
            // A peer that cannot half-close (or is gone) is closed once its writes are out.
            if let channelError = error as? ChannelError, channelError == .outputClosed { return }
            partner.close(promise: nil)
        }
    }

    private func closeIfDone(context: ChannelHandlerContext) {
        guard inputClosed, outputClosed, !closing else { return }
        closing = true
        context.close(promise: nil)
    }

    /// Closes `channel` abruptly: a TCP reset for sockets, RST_STREAM for HTTP/2 streams.
    static func abort(_ channel: any Channel) {
        guard let socket = channel as? any SocketOptionProvider else {
            channel.close(promise: nil)
            return
        }
        socket.setSoLinger(NIOLinger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
    }
}
