import MeshL4
import NIOCore
import NIOPosix
import Synchronization
import Testing

@Suite("Listening sockets per event loop", .serialized, .timeLimit(.minutes(1)))
struct LoopListenersTests {
    /// Records, per accepted connection, whether it is served on the loop of the socket that
    /// accepted it.
    final class Acceptance: Sendable {
        let accepted = Atomic<Int>(0)
        let onAcceptingLoop = Atomic<Int>(0)
        let loopsUsed = Mutex<Set<ObjectIdentifier>>([])

        func configure(_ bootstrap: ServerBootstrap) -> ServerBootstrap {
            bootstrap.childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    self.accepted.add(1, ordering: .relaxed)
                    if let parent = child.parent, parent.eventLoop === child.eventLoop {
                        self.onAcceptingLoop.add(1, ordering: .relaxed)
                    }
                    _ = self.loopsUsed.withLock { $0.insert(ObjectIdentifier(child.eventLoop)) }
                }
            }
        }
    }

    /// Runs `body` with a group of `threads` loops, shut down afterwards (also when it throws).
    static func withGroup(threads: Int, _ body: (MultiThreadedEventLoopGroup) async throws -> Void)
        async throws
    {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        do {
            try await body(group)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }

    static func connectAndClose(_ address: SocketAddress, count: Int) async throws {
        for _ in 0..<count {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(
                to: address
            ).get()
            try await channel.close()
        }
    }

    @Test(
        "one socket per loop on one ephemeral port; each connection is served on the loop that accepted it"
    )
    func perLoop() async throws {
        try await Self.withGroup(threads: 3) { group in
            let acceptance = Acceptance()
            let listeners = try await LoopListeners.bind(
                host: "127.0.0.1", port: 0, group: group, configure: acceptance.configure)
            #expect(listeners.channels.count == 3)
            let port = try #require(listeners.localAddress?.port)
            #expect(port != 0)
            #expect(listeners.channels.allSatisfy { $0.localAddress?.port == port })
            #expect(Set(listeners.channels.map { ObjectIdentifier($0.eventLoop) }).count == 3)

            try await Self.connectAndClose(try #require(listeners.localAddress), count: 60)
            #expect(await eventually { acceptance.accepted.load(ordering: .relaxed) == 60 })
            #expect(acceptance.onAcceptingLoop.load(ordering: .relaxed) == 60)
            // The kernel spreads connections by their addresses: 60 of them reach more than one socket.
            #expect(acceptance.loopsUsed.withLock { $0.count } > 1)
            await listeners.close()
            #expect(listeners.channels.allSatisfy { !$0.isActive })
        }
    }

    @Test("perLoop false binds one socket, and an address in use then fails to bind")
    func single() async throws {
        try await Self.withGroup(threads: 2) { group in
            let acceptance = Acceptance()
            let listeners = try await LoopListeners.bind(
                host: "127.0.0.1", port: 0, group: group, perLoop: false, configure: acceptance.configure)
            #expect(listeners.channels.count == 1)
            let address = try #require(listeners.localAddress)
            try await Self.connectAndClose(address, count: 4)
            #expect(await eventually { acceptance.accepted.load(ordering: .relaxed) == 4 })

            await #expect(throws: (any Error).self) {
                _ = try await LoopListeners.bind(
                    host: "127.0.0.1", port: address.port!, group: group, perLoop: false,
                    configure: acceptance.configure)
            }
            // A per-loop bind cannot join a socket bound without SO_REUSEPORT either.
            await #expect(throws: (any Error).self) {
                _ = try await LoopListeners.bind(
                    host: "127.0.0.1", port: address.port!, group: group, configure: acceptance.configure)
            }
            await listeners.close()
        }
    }

    @Test(
        "an HBONE server refuses an address in use, per loop or not, and tunnels work through per-loop sockets"
    )
    func hboneServer() async throws {
        let taken = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(
            host: "127.0.0.1", port: 0
        ).get()
        let credentials = try await TestCA.shared.credentials(for: serverID)
        for reusePort in [false, true] {
            await #expect(throws: (any Error).self) {
                let server = try await HBONEServer.start(
                    credentials: credentials,
                    configuration: .init(
                        host: "127.0.0.1", port: taken.localAddress!.port!, reusePort: reusePort))
                await server.close()
            }
        }
        try await taken.close()
        try await withPair { pair in
            for _ in 0..<8 {
                let stream = try await pair.open()
                try await stream.channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: "ping"))
                    outbound.finish()
                    #expect(try await readAll(inbound) == "ping")
                }
            }
        }
    }
}
