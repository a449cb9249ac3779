import NIOCore
import NIOEmbedded
import NIOHTTP2
import Testing

@testable import MeshL4

@Suite("HTTP/2 keepalive")
struct KeepaliveTests {
    @Test("PING every interval; an unanswered PING closes the connection after the timeout")
    func unanswered() throws {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(
            handler: HTTP2ConnectionMonitor(interval: L4Constants.keepaliveInterval, timeout: L4Constants.keepaliveTimeout),
            loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        loop.advanceTime(by: .seconds(9))
        #expect(try channel.readOutbound(as: HTTP2Frame.self) == nil)
        loop.advanceTime(by: .seconds(1))
        let ping = try #require(try channel.readOutbound(as: HTTP2Frame.self))
        guard case .ping(_, ack: false) = ping.payload else {
            Issue.record("expected a PING, got \(ping.payload)")
            return
        }
        loop.advanceTime(by: .seconds(10))
        #expect(channel.isActive)
        loop.advanceTime(by: .seconds(10))
        #expect(!channel.isActive)
    }

    @Test("an acknowledged PING keeps the connection open")
    func answered() throws {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(
            handler: HTTP2ConnectionMonitor(interval: .seconds(10), timeout: .seconds(20)), loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        for _ in 0..<5 {
            loop.advanceTime(by: .seconds(10))
            let frame = try #require(try channel.readOutbound(as: HTTP2Frame.self))
            guard case .ping(let data, ack: false) = frame.payload else {
                Issue.record("expected a PING")
                return
            }
            try channel.writeInbound(HTTP2Frame(streamID: .rootStream, payload: .ping(data, ack: true)))
            _ = try channel.readInbound(as: HTTP2Frame.self)
        }
        #expect(channel.isActive)
        _ = try? channel.finish()
    }
}
