import NIOCore
import NIOEmbedded
import Testing

@testable import MeshL4

@Suite("HBONE DATA bypass")
struct DataBypassTests {
    static func frame(type: UInt8, flags: UInt8 = 0, stream: UInt32, payload: [UInt8]) -> [UInt8] {
        let length = UInt32(payload.count)
        var bytes = [UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff), type, flags]
        bytes += [UInt8(stream >> 24), UInt8(stream >> 16 & 0xff), UInt8(stream >> 8 & 0xff), UInt8(stream & 0xff)]
        return bytes + payload
    }

    static func windowUpdate(stream: UInt32, increment: UInt32) -> [UInt8] {
        frame(type: 0x8, stream: stream, payload: [
            UInt8(increment >> 24), UInt8(increment >> 16 & 0xff), UInt8(increment >> 8 & 0xff), UInt8(increment & 0xff),
        ])
    }

    /// A connection with the bypass (stream window 64, connection window 256, frames up to 200
    /// bytes) and a partner for stream 1.
    struct Rig {
        let loop = EmbeddedEventLoop()
        let connection: EmbeddedChannel
        let partner: EmbeddedChannel
        let stream: EmbeddedChannel
        let bypass: HBONEDataBypass

        init(preface: Bool = false, partnerHandler: (any ChannelHandler)? = nil) throws {
            bypass = HBONEDataBypass(
                streamWindow: 64, connectionWindow: 256, maxFrameSize: 200, expectsClientPreface: preface)
            connection = EmbeddedChannel(handler: bypass, loop: loop)
            partner = EmbeddedChannel(loop: loop)
            if let partnerHandler { try partner.pipeline.syncOperations.addHandler(partnerHandler) }
            stream = EmbeddedChannel(loop: loop)
            try connection.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            bypass.register(streamID: 1, stream: stream, partner: partner, codec: nil)
        }

        func feed(_ bytes: [UInt8], chunk: Int = .max) {
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + chunk)
                connection.pipeline.fireChannelRead(ByteBuffer(bytes: bytes[start..<end]))
                connection.pipeline.fireChannelReadComplete()
                start = end
            }
        }

        func forwarded() throws -> [UInt8] {
            var bytes: [UInt8] = []
            while let buffer = try connection.readInbound(as: ByteBuffer.self) { bytes += Array(buffer.readableBytesView) }
            return bytes
        }

        func upstream() throws -> [UInt8] {
            var bytes: [UInt8] = []
            while let buffer = try partner.readOutbound(as: ByteBuffer.self) { bytes += Array(buffer.readableBytesView) }
            return bytes
        }

        func sentToPeer() throws -> [UInt8] {
            var bytes: [UInt8] = []
            while let buffer = try connection.readOutbound(as: ByteBuffer.self) { bytes += Array(buffer.readableBytesView) }
            return bytes
        }
    }

    @Test(
        "registered DATA goes upstream; every other byte reaches NIOHTTP2 unchanged, however the reads are cut",
        arguments: [1, 2, 5, 9, 10, 24, 64, 1000])
    func splitting(chunk: Int) throws {
        let rig = try Rig(preface: true)
        let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
        let settings = Self.frame(type: 0x4, stream: 0, payload: [0, 3, 0, 0, 0, 100])
        let data = Self.frame(type: 0x0, stream: 1, payload: Array(1...20))
        let otherStream = Self.frame(type: 0x0, stream: 3, payload: [9, 9, 9])
        let moreData = Self.frame(type: 0x0, stream: 1, payload: Array(21...30))
        let end = Self.frame(type: 0x0, flags: 0x1, stream: 1, payload: [31, 32])
        let afterEnd = Self.frame(type: 0x0, stream: 1, payload: [33])
        rig.feed(preface + settings + data + otherStream + moreData + end + afterEnd, chunk: chunk)

        #expect(try rig.forwarded() == preface + settings + otherStream + end + afterEnd)
        #expect(try rig.upstream() == Array(1...30))
        #expect(!rig.bypass.isBypassing(streamID: 1))
    }

    @Test(
        "a padded, empty or oversized DATA frame goes to NIOHTTP2 with everything after it",
        arguments: [
            frame(type: 0x0, flags: 0x8, stream: 1, payload: [2, 7, 7, 0, 0]),
            frame(type: 0x0, stream: 1, payload: []),
            frame(type: 0x0, stream: 1, payload: Array(repeating: 4, count: 201)),
        ])
    func notPlain(odd: [UInt8]) throws {
        let rig = try Rig()
        let before = Self.frame(type: 0x0, stream: 1, payload: [1, 2])
        let after = Self.frame(type: 0x0, stream: 1, payload: [3, 4])
        rig.feed(before + odd + after)
        #expect(try rig.upstream() == [1, 2])
        #expect(try rig.forwarded() == odd + after)
        #expect(!rig.bypass.isBypassing(streamID: 1))
    }

    @Test("RST_STREAM from the peer ends the bypass of its stream")
    func reset() throws {
        let rig = try Rig()
        let rst = Self.frame(type: 0x3, stream: 1, payload: [0, 0, 0, 8])
        let data = Self.frame(type: 0x0, stream: 1, payload: [1, 2, 3])
        rig.feed(rst + data)
        #expect(try rig.forwarded() == rst + data)
        #expect(try rig.upstream() == [])
    }

    @Test("credit goes back a quarter window at a time once the upstream took the bytes")
    func credit() throws {
        let rig = try Rig()
        rig.feed(Self.frame(type: 0x0, stream: 1, payload: Array(repeating: 1, count: 15)))
        #expect(try rig.sentToPeer() == [])  // 15 < 64 / 4: nothing yet
        rig.feed(Self.frame(type: 0x0, stream: 1, payload: [2]))
        #expect(try rig.sentToPeer() == Self.windowUpdate(stream: 1, increment: 16))
        for _ in 0..<3 { rig.feed(Self.frame(type: 0x0, stream: 1, payload: Array(repeating: 3, count: 16))) }
        // The fourth quarter of the stream's credit also completes a quarter of the connection's.
        #expect(
            try rig.sentToPeer()
                == Self.windowUpdate(stream: 1, increment: 16) + Self.windowUpdate(stream: 1, increment: 16)
                + Self.windowUpdate(stream: 1, increment: 16) + Self.windowUpdate(stream: 0, increment: 64))
        #expect(try rig.upstream().count == 64)
    }

    @Test("bytes of a stream that closed mid-frame are dropped but still credit the connection")
    func closedMidFrame() throws {
        let rig = try Rig()
        let frame = Self.frame(type: 0x0, stream: 1, payload: Array(repeating: 5, count: 64))
        rig.feed(Array(frame[0..<20]))
        rig.bypass.unregister(streamID: 1)
        rig.feed(Array(frame[20...]))
        #expect(try rig.upstream() == Array(repeating: 5, count: 11))
        #expect(try rig.forwarded() == [])
        // 11 bytes went upstream before the close (no stream credit after it); all 64 count for the connection.
        #expect(try rig.sentToPeer() == Self.windowUpdate(stream: 0, increment: 64))
    }

    /// Holds every write: an upstream that never drains.
    final class Stall: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var held: [EventLoopPromise<Void>?] = []
        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) { held.append(promise) }
        func flush(context: ChannelHandlerContext) {}
    }

    @Test("a stalled upstream withholds credit, and a peer sending past twice the window is cut off")
    func stalled() throws {
        let stall = Stall()
        let rig = try Rig(partnerHandler: stall)
        defer { for promise in stall.held { promise?.fail(ChannelError.ioOnClosedChannel) } }
        rig.feed(Self.frame(type: 0x0, stream: 1, payload: Array(repeating: 7, count: 128)))
        #expect(try rig.sentToPeer() == [])
        #expect(rig.connection.isActive)
        rig.feed(Self.frame(type: 0x0, stream: 1, payload: [8]))
        #expect(!rig.connection.isActive)
    }
}
