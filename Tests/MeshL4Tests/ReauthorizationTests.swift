import MeshAPI
import MeshL4
import NIOCore
import Synchronization
import Testing

/// A policy change reaches tunnels that are already open: the server asks its authorizer again
/// and resets the ones now denied, closing their upstream connections.
@Suite("Re-authorizing open tunnels") struct ReauthorizationTests {
    final class Switch: Sendable {
        let denied = Atomic<Bool>(false)
    }

    @Test("a tunnel allowed at open is reset, and its upstream closed, once the policy denies it", .timeLimit(.minutes(1)))
    func revokedTunnelIsClosed() async throws {
        let policy = Switch()
        try await withPair(server: { config in
            config.authorizer = { _ in
                policy.denied.load(ordering: .relaxed) ? .deny(reason: "explicitly denied by: demo/deny-client") : .allow
            }
        }) { pair in
            let stream = try await pair.open()
            try await stream.channel.executeThenClose { inbound, outbound in
                var iterator = inbound.makeAsyncIterator()
                try await outbound.write(ByteBuffer(string: "ping"))
                let echoed = try await iterator.next()
                #expect(echoed.map { String(buffer: $0) } == "ping")
                #expect(pair.server.openTunnels == 1)

                // Still allowed: re-checking changes nothing.
                #expect(await pair.server.reauthorize() == 0)
                try await outbound.write(ByteBuffer(string: "again"))
                #expect(try await iterator.next().map { String(buffer: $0) } == "again")

                policy.denied.store(true, ordering: .relaxed)
                #expect(await pair.server.reauthorize() == 1)
                // The client's stream ends (reset), the backend connection closes.
                await #expect(throws: (any Error).self) {
                    while try await iterator.next() != nil {}
                    throw StreamEnded()
                }
            }
            #expect(await eventually { pair.backend.closed.load(ordering: .relaxed) == 1 })
            #expect(await eventually { pair.server.openTunnels == 0 })
            // New tunnels are refused by the same decision.
            await #expect(throws: HBONEError.rejected(status: 401)) { _ = try await pair.open() }
        }
    }

    struct StreamEnded: Error {}
}
