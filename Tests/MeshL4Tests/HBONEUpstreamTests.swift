import MeshAPI
import MeshL4
import NIOCore
import NIOPosix
import Synchronization
import Testing

@Suite("HBONE server: upstream preamble, source address, graceful shutdown", .serialized, .timeLimit(.minutes(1)))
struct HBONEUpstreamTests {
    @Test("the upstream's first bytes are a PROXY v2 header with the client's SPIFFE id and forwarded source")
    func proxyProtocolPreamble() async throws {
        try await withPair(backend: .record, server: { config in
            config.upstreamPreamble = { info in
                ProxyProtocolV2.encode(
                    .init(source: info.source, destination: info.destination, identity: info.peerIdentity.description))
            }
        }) { pair in
            let source = try SocketAddress(ipAddress: "10.1.2.3", port: 4444)
            let stream = try await pair.open(source: source)
            let echoed = try await stream.channel.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(string: "hello"))
                outbound.finish()
                return try await readAll(inbound)
            }
            #expect(echoed == "")
            #expect(await eventually { pair.backend.closed.load(ordering: .relaxed) == 1 })
            var recorded = ByteBuffer(bytes: pair.backend.recorded.withLock { $0 })
            let header = try #require(try ProxyProtocolV2.parse(&recorded))
            #expect(header.identity == clientID.description)
            #expect(header.identity == "spiffe://cluster.local/ns/default/sa/client")
            #expect(header.source == source)
            #expect(header.destination == pair.backend.address)
            #expect(recorded.readString(length: recorded.readableBytes) == "hello", "relayed bytes follow the header")
        }
    }

    @Test("upstreamSource 127.0.0.77: the backend sees that remote address; an unbindable one connects unbound")
    func upstreamSource() async throws {
        for (source, seen) in [("127.0.0.77", "127.0.0.77"), ("192.0.2.123", "127.0.0.1")] {
            try await withPair(server: { config in
                config.upstreamSource = { _ in try? SocketAddress(ipAddress: source, port: 0) }
            }) { pair in
                let stream = try await pair.open()
                let (_, count) = try await pump(stream.channel, payload: randomBytes(1000))
                #expect(count == 1000)
                let remote = try #require(pair.backend.remotes.withLock { $0.first })
                #expect(remote.ipAddress == seen, "source \(source)")
            }
        }
    }

    @Test("shutdown: a new connection is refused at once, an open tunnel works through the grace period")
    func gracefulShutdown() async throws {
        try await withPair { pair in
            let stream = try await pair.open()
            let server = pair.server
            let started = ContinuousClock.now
            let shutdown = Task { await server.shutdown(gracePeriod: .seconds(20)) }
            // The listening socket closes at once: plain TCP connects are refused.
            #expect(
                await eventually {
                    (try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                        .connect(to: pair.serverAddress).flatMap { $0.close() }.get()) == nil
                })
            // A new client's connection is refused too.
            let fresh = HBONEClient(
                credentials: try await TestCA.shared.credentials(for: clientID),
                configuration: .init(logger: quietLogger, accessLogger: quietLogger))
            await #expect(throws: HBONEError.self) {
                _ = try await fresh.open(to: pair.backendTarget, via: pair.serverAddress, expectedIdentities: [serverID])
            }
            await fresh.shutdown()
            try await stream.channel.executeThenClose { inbound, outbound in
                var iterator = inbound.makeAsyncIterator()
                for round in 0..<3 {
                    try await outbound.write(ByteBuffer(string: "round \(round)"))
                    var reply = try #require(try await iterator.next())
                    #expect(reply.readString(length: reply.readableBytes) == "round \(round)")
                    try await Task.sleep(for: .milliseconds(100))
                }
                outbound.finish()
                #expect(try await iterator.next() == nil)
            }
            // The connection closes after its last tunnel: shutdown returns long before 20 s.
            await shutdown.value
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }

    @Test("shutdown: tunnels still open when the grace period ends are closed")
    func gracePeriodEnds() async throws {
        try await withPair { pair in
            let stream = try await pair.open()
            let started = ContinuousClock.now
            await pair.server.shutdown(gracePeriod: .milliseconds(300))
            #expect(ContinuousClock.now - started >= .milliseconds(300))
            // The tunnel ends (cleanly or with a reset): reading does not hang.
            try? await stream.channel.executeThenClose { inbound, _ in
                for try await _ in inbound {}
            }
            #expect(await eventually { pair.backend.closed.load(ordering: .relaxed) == 1 })
        }
    }
}
