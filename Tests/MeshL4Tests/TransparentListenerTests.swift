import Foundation
import MeshL4
import NIOCore
import NIOPosix
import Synchronization
import Testing

@Suite("Transparent listener (SO_ORIGINAL_DST)", .serialized, .timeLimit(.minutes(1)))
struct TransparentListenerTests {
    @Test("a connection that was not redirected is closed without calling the connector")
    func notRedirected() async throws {
        let dialer = TCPConnector()
        let listener = try await TransparentListener.start(
            host: "127.0.0.1", port: 0, connector: dialer.connector, logger: quietLogger)
        do {
            let client = try await RawTCPClient(to: listener.localAddress!)
            // Closed with the client's bytes unread, the socket may end with a reset instead of EOF.
            let received = try? await client.run { reader, writer in
                try await writer.write(ByteBuffer(string: "hello"))
                return try await reader.readToEnd()
            }
            #expect(received?.isEmpty ?? true)
            #expect(dialer.calls == 0)
            #expect(await eventually { listener.openConnections == 0 })
            await listener.close()
        } catch {
            await listener.close()
            throw error
        }
    }

    /// Redirects one unroutable destination (198.18.0.0/15, reserved for benchmarks) to the
    /// listener with iptables' nat OUTPUT chain in this network namespace; the rule matches only
    /// that address and port and is deleted afterwards, also on failure.
    @Test(
        "iptables REDIRECT: the connector gets the original destination and bytes relay both ways",
        .enabled(if: isRoot, "needs root to install an iptables nat rule"))
    func redirected() async throws {
        guard let iptables = findTool("iptables") else {
            if EnvoyPeer.required { Issue.record("iptables is required (MESH_REQUIRE_PEERS=1) but was not found") }
            return
        }
        let backend = try await TCPBackend.start(.echo)
        let dialer = TCPConnector(fixed: backend.address)
        let listener: TransparentListener
        do {
            listener = try await TransparentListener.start(
                host: "127.0.0.1", port: 0, connector: dialer.connector, logger: quietLogger)
        } catch {
            await backend.stop()
            throw error
        }
        let original = try SocketAddress(
            ipAddress: "198.18.\(Int.random(in: 1...254)).\(Int.random(in: 1...254))", port: Int.random(in: 20000...60000))
        let rule = [
            "-t", "nat", "-p", "tcp", "-d", original.ipAddress!, "--dport", "\(original.port!)",
            "-j", "REDIRECT", "--to-ports", "\(listener.localAddress!.port!)",
        ]
        let added = try await runTool(iptables, ["-w", "-A", "OUTPUT"] + rule)
        defer { runToolBlocking(iptables, ["-w", "-D", "OUTPUT"] + rule) }
        do {
            guard added.status == 0 else {
                throw TestFailure("iptables could not add the nat rule (status \(added.status)): \(added.stderr)")
            }
            let client = try await RawTCPClient(to: original)
            let echoed = try await client.run { reader, writer in
                try await writer.write(ByteBuffer(string: "through the redirect"))
                writer.finish()
                return String(decoding: try await reader.readToEnd(), as: UTF8.self)
            }
            #expect(echoed == "through the redirect")
            #expect(dialer.destinations.withLock { $0 } == [original])
            #expect(await eventually { listener.openConnections == 0 })
            await listener.close()
            await backend.stop()
        } catch {
            await listener.close()
            await backend.stop()
            throw error
        }
    }
}
