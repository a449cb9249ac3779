import MeshAPI
import NIOCore
import Testing

@testable import MeshL4

@Suite("SOCKS5 codec")
struct SOCKS5Tests {
    @Test func greetingIsIncrementalAndNeedsNoAuthentication() throws {
        var buffer = ByteBuffer(bytes: [5, 2])
        #expect(try SOCKS5.parseGreeting(&buffer) == nil)
        buffer.writeBytes([0x02, 0x00])
        #expect(try SOCKS5.parseGreeting(&buffer) == true)
        #expect(buffer.readableBytes == 0)
        var userPassOnly = ByteBuffer(bytes: [5, 1, 0x02])
        #expect(try SOCKS5.parseGreeting(&userPassOnly) == false)
        #expect(Array(SOCKS5.methodSelection(acceptable: false).readableBytesView) == [5, 0xFF])
        var socks4 = ByteBuffer(bytes: [4, 1, 0, 80])
        #expect(throws: SOCKS5.ProtocolError.self) { try SOCKS5.parseGreeting(&socks4) }
    }

    @Test func connectRequestsForEachAddressType() throws {
        var v4 = ByteBuffer(bytes: [5, 1, 0, 1, 10, 96, 0, 10, 0x00, 0x50])
        #expect(try SOCKS5.parseRequest(&v4) == .address(IPAddressBytes("10.96.0.10")!, port: 80))
        var v6 = ByteBuffer(bytes: [5, 1, 0, 4] + IPAddressBytes("fd00::1")!.bytes + [0x1F, 0x90])
        #expect(try SOCKS5.parseRequest(&v6)?.description == "[fd00::1]:8080")
        let name = Array("web.shop.svc.cluster.local".utf8)
        var domain = ByteBuffer(bytes: [5, 1, 0, 3, UInt8(name.count)] + name)
        #expect(try SOCKS5.parseRequest(&domain) == nil)  // port not there yet
        domain.writeBytes([0, 80])
        #expect(try SOCKS5.parseRequest(&domain) == .domain("web.shop.svc.cluster.local", port: 80))
        // Trailing application bytes stay in the buffer.
        var withData = ByteBuffer(bytes: [5, 1, 0, 1, 127, 0, 0, 1, 0, 22, 0x53, 0x53])
        _ = try SOCKS5.parseRequest(&withData)
        #expect(Array(withData.readableBytesView) == [0x53, 0x53])
    }

    @Test func unsupportedRequestsCarryTheirReply() {
        var bind = ByteBuffer(bytes: [5, 2, 0, 1, 10, 0, 0, 1, 0, 80])
        #expect(throws: SOCKS5.ProtocolError(reply: .commandNotSupported, reason: "command 2 is not supported (CONNECT only)")) {
            try SOCKS5.parseRequest(&bind)
        }
        var badType = ByteBuffer(bytes: [5, 1, 0, 9, 0, 0])
        #expect(throws: SOCKS5.ProtocolError(reply: .addressTypeNotSupported, reason: "address type 9 is not supported")) {
            try SOCKS5.parseRequest(&badType)
        }
    }

    @Test func replies() {
        #expect(Array(SOCKS5.reply(.succeeded, bound: (IPAddressBytes("127.0.0.1")!, 15080)).readableBytesView)
            == [5, 0, 0, 1, 127, 0, 0, 1, 0x3A, 0xE8])
        #expect(Array(SOCKS5.reply(.connectionRefused).readableBytesView) == [5, 5, 0, 1, 0, 0, 0, 0, 0, 0])
    }
}
