import Foundation
import MeshL4
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// Runs `body` with a backend, a connector and a SOCKS5 listener; stops them afterwards, also
/// when `body` throws.
func withSOCKS5<T>(
    backend mode: TCPBackend.Mode = .echo, connector: (TCPBackend) -> TCPConnector = { _ in TCPConnector() },
    _ body: (SOCKS5Listener, TCPBackend, TCPConnector) async throws -> T
) async throws -> T {
    let backend = try await TCPBackend.start(mode)
    let dialer = connector(backend)
    let listener: SOCKS5Listener
    do {
        listener = try await SOCKS5Listener.start(host: "127.0.0.1", port: 0, connector: dialer.connector, logger: quietLogger)
    } catch {
        await backend.stop()
        throw error
    }
    do {
        let result = try await body(listener, backend, dialer)
        await listener.close()
        await backend.stop()
        return result
    } catch {
        await listener.close()
        await backend.stop()
        throw error
    }
}

@Suite("SOCKS5 listener", .serialized, .timeLimit(.minutes(1)))
struct SOCKS5ListenerTests {
    static let succeededIPv4Prefix: [UInt8] = [5, 0, 0, 1]

    @Test("greeting and request in one write: succeeded, BND is the upstream's local address, bytes echo")
    func oneWrite() async throws {
        try await withSOCKS5 { listener, backend, dialer in
            let client = try await RawTCPClient(to: listener.localAddress!)
            try await client.run { reader, writer in
                try await writer.write(ByteBuffer(bytes: SOCKS5Bytes.greeting + SOCKS5Bytes.connect(backend.address)))
                #expect(try await reader.read(2) == SOCKS5Bytes.methodSelected)
                let reply = try await reader.read(10)
                #expect(Array(reply.prefix(4)) == Self.succeededIPv4Prefix)
                #expect(Array(reply[4..<8]) == [127, 0, 0, 1])
                #expect(reply[8] != 0 || reply[9] != 0, "BND.PORT is the upstream socket's port")
                try await writer.write(ByteBuffer(string: "ping"))
                #expect(try await reader.read(4) == Array("ping".utf8))
            }
            #expect(dialer.destinations.withLock { $0 } == [backend.address])
            #expect(backend.connections.load(ordering: .relaxed) == 1)
        }
    }

    @Test("greeting, request and data split byte by byte; data pipelined right after the request is not lost")
    func byteByByte() async throws {
        try await withSOCKS5 { listener, backend, _ in
            let client = try await RawTCPClient(to: listener.localAddress!)
            try await client.run { reader, writer in
                for byte in SOCKS5Bytes.greeting + SOCKS5Bytes.connect(backend.address) + Array("early".utf8) {
                    try await writer.write(ByteBuffer(bytes: [byte]))
                    try await Task.sleep(for: .milliseconds(2))
                }
                #expect(try await reader.read(2) == SOCKS5Bytes.methodSelected)
                #expect(Array(try await reader.read(10).prefix(2)) == [5, 0])
                #expect(try await reader.read(5) == Array("early".utf8))
            }
        }
    }

    @Test("half-close: the client's FIN reaches the backend, whose answer still comes back")
    func halfClose() async throws {
        try await withSOCKS5(backend: .countThenReply) { listener, backend, _ in
            let client = try await RawTCPClient(to: listener.localAddress!)
            let answer = try await client.run { reader, writer in
                try await writer.write(ByteBuffer(bytes: SOCKS5Bytes.greeting + SOCKS5Bytes.connect(backend.address)))
                _ = try await reader.read(12)
                try await writer.write(ByteBuffer(bytes: randomBytes(300_000)))
                writer.finish()
                return String(decoding: try await reader.readToEnd(), as: UTF8.self)
            }
            #expect(answer == "got 300000")
        }
    }

    @Test("request, data and FIN in one write: the data and the FIN both reach the backend")
    func finBeforeConnect() async throws {
        try await withSOCKS5(backend: .countThenReply) { listener, backend, _ in
            let client = try await RawTCPClient(to: listener.localAddress!)
            let answer = try await client.run { reader, writer in
                try await writer.write(
                    ByteBuffer(bytes: SOCKS5Bytes.greeting + SOCKS5Bytes.connect(backend.address) + randomBytes(1000)))
                writer.finish()
                _ = try await reader.read(12)
                return String(decoding: try await reader.readToEnd(), as: UTF8.self)
            }
            #expect(answer == "got 1000")
        }
    }

    @Test("a backend that greets and half-closes at once: its bytes and FIN reach the client, which still sends")
    func upstreamEOFBeforeJoin() async throws {
        try await withSOCKS5(backend: .greetThenCount("banner")) { listener, backend, _ in
            let client = try await RawTCPClient(to: listener.localAddress!)
            try await client.run { reader, writer in
                try await writer.write(ByteBuffer(bytes: SOCKS5Bytes.greeting + SOCKS5Bytes.connect(backend.address)))
                _ = try await reader.read(12)
                #expect(String(decoding: try await reader.readToEnd(), as: UTF8.self) == "banner")
                try await writer.write(ByteBuffer(bytes: randomBytes(5000)))
                writer.finish()
            }
            #expect(await eventually { backend.received.load(ordering: .relaxed) == 5000 })
        }
    }

    @Test("connector failures map to replies (denied 0x02, unreachable 0x04, refused 0x05, general 0x01); no backend connection")
    func failures() async throws {
        let cases: [(OutboundFailure.Kind, UInt8)] = [(.denied, 0x02), (.unreachable, 0x04), (.refused, 0x05), (.general, 0x01)]
        for (kind, code) in cases {
            try await withSOCKS5(connector: { _ in TCPConnector(failing: OutboundFailure(kind, "test")) }) { listener, backend, dialer in
                let client = try await RawTCPClient(to: listener.localAddress!)
                let rest = try await client.run { reader, writer in
                    try await writer.write(ByteBuffer(bytes: SOCKS5Bytes.greeting + SOCKS5Bytes.connect(backend.address)))
                    #expect(try await reader.read(2) == SOCKS5Bytes.methodSelected)
                    #expect(try await reader.read(10) == [5, code, 0, 1, 0, 0, 0, 0, 0, 0], "\(kind)")
                    return try await reader.readToEnd()
                }
                #expect(rest.isEmpty, "closed after the reply")
                #expect(dialer.calls == 1)
                #expect(backend.connections.load(ordering: .relaxed) == 0)
            }
        }
    }

    @Test("a domain destination (localhost) is resolved before the connector sees it")
    func domain() async throws {
        // The connector dials the backend's IPv4 address whatever localhost resolves to first.
        try await withSOCKS5(connector: { TCPConnector(fixed: $0.address) }) { listener, backend, dialer in
            let client = try await RawTCPClient(to: listener.localAddress!)
            try await client.run { reader, writer in
                try await writer.write(ByteBuffer(bytes: SOCKS5Bytes.greeting + SOCKS5Bytes.connect(domain: "localhost", port: backend.port)))
                _ = try await reader.read(2)
                #expect(Array(try await reader.read(10).prefix(2)) == [5, 0])
                try await writer.write(ByteBuffer(string: "x"))
                #expect(try await reader.read(1) == [0x78])
            }
            let destination = try #require(dialer.destinations.withLock { $0.first })
            #expect(["127.0.0.1", "::1"].contains(destination.ipAddress ?? ""), "\(destination)")
            #expect(destination.port == backend.port)
        }
    }

    @Test("an unresolvable domain gets host unreachable (0x04) without calling the connector")
    func unresolvable() async throws {
        try await withSOCKS5 { listener, _, dialer in
            let client = try await RawTCPClient(to: listener.localAddress!)
            try await client.run { reader, writer in
                try await writer.write(ByteBuffer(bytes: SOCKS5Bytes.greeting + SOCKS5Bytes.connect(domain: "no-such-host.invalid", port: 80)))
                _ = try await reader.read(2)
                #expect(Array(try await reader.read(10).prefix(2)) == [5, 0x04])
            }
            #expect(dialer.calls == 0)
        }
    }

    @Test("a malformed greeting closes the connection; an unsupported command gets 0x07")
    func protocolErrors() async throws {
        try await withSOCKS5 { listener, backend, dialer in
            let socks4 = try await RawTCPClient(to: listener.localAddress!)
            let nothing = try await socks4.run { reader, writer in
                try await writer.write(ByteBuffer(bytes: [4, 1, 0, 80, 127, 0, 0, 1, 0]))
                return try await reader.readToEnd()
            }
            #expect(nothing.isEmpty)
            let bind = try await RawTCPClient(to: listener.localAddress!)
            let reply = try await bind.run { reader, writer in
                var request = SOCKS5Bytes.connect(backend.address)
                request[1] = 2  // BIND
                try await writer.write(ByteBuffer(bytes: SOCKS5Bytes.greeting + request))
                _ = try await reader.read(2)
                return try await reader.readToEnd()
            }
            #expect(Array(reply.prefix(2)) == [5, 0x07])
            #expect(dialer.calls == 0)
        }
    }

    @Test("curl --socks5 and --socks5-hostname fetch from an HTTP backend through the listener")
    func curl() async throws {
        guard let curl = findTool("curl") else {
            if EnvoyPeer.required { Issue.record("curl is required (MESH_REQUIRE_PEERS=1) but was not found") }
            return
        }
        try await withSOCKS5(backend: .http(body: "hello from the backend")) { listener, backend, dialer in
            let proxy = "127.0.0.1:\(listener.localAddress!.port!)"
            for (flag, host) in [("--socks5", "127.0.0.1"), ("--socks5-hostname", "localhost")] {
                let out = try await runTool(curl, ["-sS", "--max-time", "10", flag, proxy, "http://\(host):\(backend.port)/"])
                #expect(out.status == 0, "curl \(flag): \(out.stderr)")
                #expect(out.stdout == "hello from the backend", "curl \(flag)")
            }
            #expect(dialer.calls == 2)
        }
    }

    @Test("shutdown: new connections are refused at once, an open relay keeps working until it ends")
    func shutdown() async throws {
        try await withSOCKS5 { listener, backend, _ in
            let address = listener.localAddress!
            let client = try await RawTCPClient(to: address)
            try await client.run { reader, writer in
                try await writer.write(ByteBuffer(bytes: SOCKS5Bytes.greeting + SOCKS5Bytes.connect(backend.address)))
                _ = try await reader.read(12)
                #expect(listener.openConnections == 1)
                let started = ContinuousClock.now
                let shutdown = Task { await listener.shutdown(gracePeriod: .seconds(20)) }
                #expect(
                    await eventually {
                        (try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                            .connect(to: address).flatMap { $0.close() }.get()) == nil
                    })
                for round in 0..<3 {
                    try await writer.write(ByteBuffer(string: "r\(round)"))
                    #expect(try await reader.read(2) == Array("r\(round)".utf8))
                    try await Task.sleep(for: .milliseconds(100))
                }
                writer.finish()
                #expect(try await reader.readToEnd().isEmpty)
                await shutdown.value
                #expect(ContinuousClock.now - started < .seconds(10))
                #expect(listener.openConnections == 0)
            }
        }
    }

    @Test("shutdown: a relay still open when the grace period ends is closed, upstream included")
    func shutdownGraceEnds() async throws {
        try await withSOCKS5 { listener, backend, _ in
            let client = try await RawTCPClient(to: listener.localAddress!)
            try await client.run { reader, writer in
                try await writer.write(ByteBuffer(bytes: SOCKS5Bytes.greeting + SOCKS5Bytes.connect(backend.address)))
                _ = try await reader.read(12)
                await listener.shutdown(gracePeriod: .milliseconds(200))
                _ = try? await reader.readToEnd()
            }
            #expect(listener.openConnections == 0)
            #expect(await eventually { backend.closed.load(ordering: .relaxed) == 1 })
        }
    }
}
