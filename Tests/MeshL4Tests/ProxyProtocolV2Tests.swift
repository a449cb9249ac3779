import MeshL4
import NIOCore
import Testing

@Suite("PROXY protocol v2")
struct ProxyProtocolV2Tests {
    let v4Source = try! SocketAddress(ipAddress: "10.0.0.1", port: 12345)
    let v4Destination = try! SocketAddress(ipAddress: "10.0.0.2", port: 8080)

    @Test("IPv4 with an identity TLV: the exact bytes of the spec's layout")
    func exactIPv4Bytes() throws {
        let identity = "spiffe://td/ns/a/sa/b"  // 21 bytes
        let encoded = ProxyProtocolV2.encode(.init(source: v4Source, destination: v4Destination, identity: identity))
        let expected: [UInt8] =
            [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]  // signature
            + [0x21]  // version 2, command PROXY
            + [0x11]  // AF_INET, STREAM
            + [0x00, 0x24]  // 12 address bytes + 3 TLV header bytes + 21 value bytes = 36
            + [10, 0, 0, 1] + [10, 0, 0, 2]  // source, destination
            + [0x30, 0x39] + [0x1F, 0x90]  // 12345, 8080
            + [0xD0, 0x00, 0x15] + Array(identity.utf8)
        #expect(Array(encoded.readableBytesView) == expected)
    }

    @Test("round trip: IPv4, IPv6, and mixed families as IPv4-mapped IPv6")
    func roundTrips() throws {
        let v4 = ProxyProtocolV2.Header(
            source: v4Source, destination: v4Destination,
            identity: "spiffe://cluster.local/ns/default/sa/client", service: "reviews.default.svc.cluster.local")
        var buffer = ProxyProtocolV2.encode(v4)
        #expect(try ProxyProtocolV2.parse(&buffer) == v4)
        #expect(buffer.readableBytes == 0)

        let v6 = ProxyProtocolV2.Header(
            source: try SocketAddress(ipAddress: "fd00::1", port: 40000),
            destination: try SocketAddress(ipAddress: "fd00::2:3", port: 15088),
            tlvs: [.init(type: ProxyProtocolV2.identityTLV, value: Array("spiffe://td/ns/x/sa/y".utf8)), .init(type: 0xE0, value: [])])
        buffer = ProxyProtocolV2.encode(v6)
        #expect(buffer.getInteger(at: 13, as: UInt8.self) == 0x21)
        #expect(buffer.getInteger(at: 14, as: UInt16.self).map(Int.init) == 36 + 3 + 21 + 3)
        let parsed = try #require(try ProxyProtocolV2.parse(&buffer))
        #expect(parsed == v6)
        #expect(parsed.identity == "spiffe://td/ns/x/sa/y")
        #expect(parsed.service == nil)

        let mixed = ProxyProtocolV2.Header(source: v4Source, destination: try SocketAddress(ipAddress: "fd00::9", port: 80))
        buffer = ProxyProtocolV2.encode(mixed)
        let decoded = try #require(try ProxyProtocolV2.parse(&buffer))
        #expect(decoded.source == (try SocketAddress(ipAddress: "::ffff:10.0.0.1", port: 12345)))
        #expect(decoded.destination == mixed.destination)
    }

    @Test("incremental: nil until the last byte, then the header, and the application's bytes stay")
    func byteByByte() throws {
        let header = ProxyProtocolV2.Header(source: v4Source, destination: v4Destination, identity: "spiffe://td/ns/a/sa/b")
        let bytes = Array(ProxyProtocolV2.encode(header).readableBytesView) + Array("GET / HTTP/1.1\r\n".utf8)
        let headerLength = bytes.count - 16
        var buffer = ByteBuffer()
        var result: ProxyProtocolV2.Header?
        for (index, byte) in bytes.enumerated() {
            buffer.writeInteger(byte)
            result = try ProxyProtocolV2.parse(&buffer)
            if result != nil {
                #expect(index == headerLength - 1)
                break
            }
            #expect(buffer.readableBytes == index + 1, "an incomplete header must not be consumed")
        }
        #expect(result == header)
        #expect(result?.identity == "spiffe://td/ns/a/sa/b")
        buffer.writeBytes(bytes[headerLength...])
        #expect(buffer.readString(length: buffer.readableBytes) == "GET / HTTP/1.1\r\n")
    }

    @Test("errors: signature (as soon as a byte differs), version, LOCAL, family, lengths")
    func errors() throws {
        var http = ByteBuffer(string: "GE")
        #expect(throws: ProxyProtocolV2.ParseError("not a PROXY protocol v2 header (signature mismatch at byte 0)")) {
            try ProxyProtocolV2.parse(&http)
        }
        #expect(http.readableBytes == 2, "a failed parse leaves the buffer alone")

        let valid = Array(ProxyProtocolV2.encode(.init(source: v4Source, destination: v4Destination)).readableBytesView)
        func parse(patching index: Int, _ value: UInt8, extra: [UInt8] = []) throws -> ProxyProtocolV2.Header? {
            var bytes = valid + extra
            bytes[index] = value
            var buffer = ByteBuffer(bytes: bytes)
            return try ProxyProtocolV2.parse(&buffer)
        }
        #expect(throws: ProxyProtocolV2.ParseError("not a PROXY protocol v2 header (signature mismatch at byte 7)")) {
            try parse(patching: 7, 0x50)
        }
        #expect(throws: ProxyProtocolV2.ParseError("version 1, expected 2")) { try parse(patching: 12, 0x11) }
        #expect(throws: ProxyProtocolV2.ParseError("LOCAL command (no addresses) is not supported")) {
            try parse(patching: 12, 0x20)
        }
        #expect(throws: ProxyProtocolV2.ParseError.self) { try parse(patching: 13, 0x31) }  // UNIX
        #expect(throws: ProxyProtocolV2.ParseError.self) { try parse(patching: 13, 0x12) }  // UDP
        #expect(throws: ProxyProtocolV2.ParseError("length 11 is shorter than the 12-byte address block")) {
            try parse(patching: 15, 11)
        }
        // Length 14 holds two bytes after the addresses: a TLV header needs three.
        #expect(throws: ProxyProtocolV2.ParseError("truncated TLV header at offset 28")) {
            try parse(patching: 15, 14, extra: [0xD0, 0x00])
        }
        // A TLV claiming 5 bytes with only 1 inside the header.
        #expect(throws: ProxyProtocolV2.ParseError("TLV 0xd0 of 5 bytes runs past the header")) {
            try parse(patching: 15, 16, extra: [0xD0, 0x00, 0x05, 0x41])
        }
    }
}
