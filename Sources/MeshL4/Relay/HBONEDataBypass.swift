import NIOCore

/// Takes the DATA frames of established HBONE tunnels out of an HBONE server connection's
/// plaintext before NIOHTTP2 sees them, and writes their payload (a slice of the TLS read, not a
/// copy) straight to each tunnel's upstream socket.
///
/// Why: NIOHTTP2's frame decoder copies every byte it is given into its own buffer. For a relay
/// that is a third user-space copy of each byte after BoringSSL's two, and with the stream
/// channel's per-frame work it was the largest cost of a terminator after AES-GCM. Bypassing it
/// cut the pair's CPU per byte by about 6% (see issue 6's notes).
///
/// Sits between the TLS handler and the HTTP/2 handler. Everything else goes on to NIOHTTP2
/// byte for byte: the client preface, every frame that is not DATA, and DATA of streams not
/// registered. A stream is registered once its relay is established
/// (``register(streamID:stream:partner:codec:)``) and forgotten when it closes, when the peer
/// resets it, or at its first DATA frame that is not plain (END_STREAM, padded, empty or over
/// the frame size limit): that frame and all after it go through NIOHTTP2, so no byte
/// overtakes another and the half-close follows the bytes.
///
/// Flow control: NIOHTTP2 never sees a bypassed frame, so its windows do not move for them and
/// this handler returns the credit itself: WINDOW_UPDATE frames for the stream and for the
/// connection, once the upstream socket has taken the bytes. A slow upstream therefore still
/// slows the peer, as the relay's backpressure does for bytes that go through NIOHTTP2. The
/// bytes received and not yet credited are bounded: past twice the stream's (or the
/// connection's) window the peer is breaking flow control and the connection is closed. (Twice,
/// because NIOHTTP2 may still grant credit for bytes it took before the stream was registered.)
final class HBONEDataBypass: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// One registered stream.
    final class Sink {
        let id: UInt32
        let stream: any Channel
        let partner: any Channel
        let codec: HBONEStreamCodec?
        var open = true
        /// Written to the partner since the last flush.
        var dirty = false
        /// Received and not yet credited to the peer.
        var outstanding = 0
        /// Written upstream and not yet credited to the peer.
        var creditable = 0

        init(id: UInt32, stream: any Channel, partner: any Channel, codec: HBONEStreamCodec?) {
            self.id = id
            self.stream = stream
            self.partner = partner
            self.codec = codec
        }
    }

    private enum Parse {
        case frameHeader
        case forwarding(remaining: Int)
        case bypassing(Sink, remaining: Int)
    }

    static let frameHeaderLength = 9
    static let clientPrefaceLength = 24
    private static let dataFrame: UInt8 = 0x0
    private static let rstStreamFrame: UInt8 = 0x3
    private static let windowUpdateFrame: UInt8 = 0x8
    private static let endStreamFlag: UInt8 = 0x1
    private static let paddedFlag: UInt8 = 0x8

    private let streamWindow: Int
    private let connectionWindow: Int
    private let maxFrameSize: Int
    private let statistics: HBONEServer.Statistics?
    private var sinks: [UInt32: Sink] = [:]
    private var prefaceRemaining: Int
    private var header = ByteBuffer()
    private var parse = Parse.frameHeader
    private var dirty: [Sink] = []
    private var connectionOutstanding = 0
    private var connectionCreditable = 0
    private var context: ChannelHandlerContext?

    /// - Parameters:
    ///   - streamWindow: the stream window this side advertises (SETTINGS_INITIAL_WINDOW_SIZE).
    ///   - connectionWindow: the connection window this side grants.
    ///   - maxFrameSize: the largest frame this side accepts (SETTINGS_MAX_FRAME_SIZE); a longer
    ///     DATA frame is left to NIOHTTP2, which refuses it.
    ///   - expectsClientPreface: true on the server side, where the byte stream starts with the
    ///     24-byte client preface rather than a frame.
    ///   - statistics: where bypassed bytes are counted.
    init(
        streamWindow: Int, connectionWindow: Int, maxFrameSize: Int, expectsClientPreface: Bool = true,
        statistics: HBONEServer.Statistics? = nil
    ) {
        self.streamWindow = streamWindow
        self.connectionWindow = connectionWindow
        self.maxFrameSize = maxFrameSize
        self.statistics = statistics
        self.prefaceRemaining = expectsClientPreface ? Self.clientPrefaceLength : 0
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        header = context.channel.allocator.buffer(capacity: Self.frameHeaderLength)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Sends the DATA of `streamID` from now on straight to `partner`, counting it in `codec`.
    /// Call on the connection's event loop once the stream's relay is established, with
    /// nothing of the stream left unread in NIOHTTP2 (bypassed bytes must not overtake it).
    func register(streamID: Int, stream: any Channel, partner: any Channel, codec: HBONEStreamCodec?) {
        let id = UInt32(truncatingIfNeeded: streamID)
        sinks[id] = Sink(id: id, stream: stream, partner: partner, codec: codec)
    }

    /// Stops bypassing `streamID`; its later frames, if any, go to NIOHTTP2.
    func unregister(streamID: Int) {
        sinks.removeValue(forKey: UInt32(truncatingIfNeeded: streamID))?.open = false
    }

    /// Whether `streamID` is bypassed now (for tests).
    func isBypassing(streamID: Int) -> Bool { sinks[UInt32(truncatingIfNeeded: streamID)] != nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        while buffer.readableBytes > 0 {
            if prefaceRemaining > 0 {
                let count = min(prefaceRemaining, buffer.readableBytes)
                prefaceRemaining -= count
                context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: count)!))
                continue
            }
            switch parse {
            case .forwarding(let remaining):
                let count = min(remaining, buffer.readableBytes)
                parse = count == remaining ? .frameHeader : .forwarding(remaining: remaining - count)
                context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: count)!))
            case .bypassing(let sink, let remaining):
                let count = min(remaining, buffer.readableBytes)
                parse = count == remaining ? .frameHeader : .bypassing(sink, remaining: remaining - count)
                deliver(buffer.readSlice(length: count)!, to: sink, context: context)
                if context.channel.isActive == false { return }
            case .frameHeader:
                var part = buffer.readSlice(length: min(Self.frameHeaderLength - header.readableBytes, buffer.readableBytes))!
                header.writeBuffer(&part)
                if header.readableBytes == Self.frameHeaderLength { startFrame(context: context) }
            }
        }
    }

    /// Decides what to do with the frame whose header is complete in `header`.
    private func startFrame(context: ChannelHandlerContext) {
        let start = header.readerIndex
        let length = Int(header.getInteger(at: start, as: UInt32.self)! >> 8)
        let type = header.getInteger(at: start + 3, as: UInt8.self)!
        let flags = header.getInteger(at: start + 4, as: UInt8.self)!
        let streamID = header.getInteger(at: start + 5, as: UInt32.self)! & 0x7fff_ffff
        if let sink = sinks[streamID], type == Self.dataFrame {
            if flags & (Self.endStreamFlag | Self.paddedFlag) == 0, length > 0, length <= maxFrameSize {
                header.clear()
                parse = .bypassing(sink, remaining: length)
                return
            }
            // Any other DATA goes through NIOHTTP2, and so must the stream's later DATA: bypassed
            // bytes would overtake it while the stream channel holds it back.
            unregister(streamID: Int(streamID))
        } else if type == Self.rstStreamFrame {
            unregister(streamID: Int(streamID))
        }
        let frameHeader = header
        header = context.channel.allocator.buffer(capacity: Self.frameHeaderLength)
        parse = length > 0 ? .forwarding(remaining: length) : .frameHeader
        context.fireChannelRead(wrapInboundOut(frameHeader))
    }

    private func deliver(_ payload: ByteBuffer, to sink: Sink, context: ChannelHandlerContext) {
        let count = payload.readableBytes
        sink.outstanding += count
        connectionOutstanding += count
        guard sink.outstanding <= 2 * streamWindow, connectionOutstanding <= 2 * connectionWindow else {
            // The peer sent far past the credit it was given.
            context.close(promise: nil)
            return
        }
        guard sink.open else {
            // The stream is gone (its close is on its way to the peer): drop the bytes, but give
            // the connection its credit back.
            written(count, for: nil)
            return
        }
        sink.codec?.countReceived(count)
        statistics?.recordBypassed(count)
        if !sink.dirty {
            sink.dirty = true
            dirty.append(sink)
        }
        let promise = context.eventLoop.makePromise(of: Void.self)
        sink.partner.write(payload, promise: promise)
        let bound = NIOLoopBound((self, sink), eventLoop: context.eventLoop)
        promise.futureResult.whenComplete { result in
            let (handler, sink) = bound.value
            if case .failure = result {
                // The upstream died abruptly: reset the stream too, as the relay does.
                RelayHandler.abort(sink.stream)
            }
            handler.written(count, for: sink)
        }
    }

    /// `count` bytes (of `sink`, if it is still there) are consumed: the upstream took them, or
    /// they were dropped. Credits the peer once a quarter of a window has gathered.
    private func written(_ count: Int, for sink: Sink?) {
        guard let context, context.channel.isActive else { return }
        connectionCreditable += count
        // Most completions credit nothing yet: the buffer is only made when a frame is due.
        var frames: ByteBuffer?
        if let sink, sink.open {
            sink.creditable += count
            if sink.creditable >= streamWindow / 4 {
                Self.appendWindowUpdate(to: &frames, streamID: sink.id, increment: sink.creditable, context: context)
                sink.outstanding -= sink.creditable
                sink.creditable = 0
            }
        }
        if connectionCreditable >= connectionWindow / 4 {
            Self.appendWindowUpdate(to: &frames, streamID: 0, increment: connectionCreditable, context: context)
            connectionOutstanding -= connectionCreditable
            connectionCreditable = 0
        }
        if let frames { context.writeAndFlush(wrapOutboundOut(frames), promise: nil) }
    }

    /// Appends a WINDOW_UPDATE frame to `frames` (a new buffer if nil).
    private static func appendWindowUpdate(
        to frames: inout ByteBuffer?, streamID: UInt32, increment: Int, context: ChannelHandlerContext
    ) {
        var buffer = frames.take() ?? context.channel.allocator.buffer(capacity: 2 * (frameHeaderLength + 4))
        buffer.writeInteger(UInt32(4) << 8 | UInt32(windowUpdateFrame))  // 24-bit length 4, then the type
        buffer.writeInteger(UInt8(0))  // flags
        buffer.writeInteger(streamID)
        buffer.writeInteger(UInt32(increment))
        frames = buffer
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // As the relay does: what was written upstream during the read goes out now.
        let flushing = dirty
        dirty.removeAll(keepingCapacity: true)
        for sink in flushing {
            sink.dirty = false
            sink.partner.flush()
        }
        context.fireChannelReadComplete()
    }
}
