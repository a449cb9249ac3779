import Foundation
import MeshAPI
import MeshCA
import MeshL4
import NIOCore
import NIOPosix
import Synchronization
import Testing

@Suite("HBONE tunnels: our client and our server", .serialized, .timeLimit(.minutes(1)))
struct TunnelTests {
    @Test("200: bytes go both ways and the server sees the client's identity and forwarded source")
    func roundTrip() async throws {
        let seen = Mutex<HBONEConnectionInfo?>(nil)
        try await withPair(server: { config in
            config.authorizer = { info in
                seen.withLock { $0 = info }
                return .allow
            }
        }) { pair in
            let source = try SocketAddress(ipAddress: "10.9.8.7", port: 5555)
            let stream = try await pair.open(source: source)
            #expect(stream.peerIdentity == serverID)
            let payload = randomBytes(1 << 20)
            let (digest, count) = try await pump(stream.channel, payload: payload)
            #expect(count == payload.count)
            #expect(digest == sha256Hex(payload))
            let info = try #require(seen.withLock { $0 })
            #expect(info.peerIdentity == clientID)
            #expect(info.source == source)
            #expect(info.destination == pair.backend.address)
        }
    }

    @Test("non-CONNECT method and malformed authority get 400; nothing reaches the backend")
    func badRequests() async throws {
        try await withPair { pair in
            let certificate = try await TestCA.shared.certificate(for: clientID)
            let port = pair.serverAddress.port!
            let authority = "127.0.0.1:\(pair.backend.port)"
            let get = try await RawH2Client.request(
                port: port, certificate: certificate,
                headers: [(":method", "GET"), (":scheme", "https"), (":authority", authority), (":path", "/")])
            #expect(get == 400)
            for bad in ["127.0.0.1", "[::1:80", "bad_host:80", "127.0.0.1:99999", "[fd00::1]"] {
                let status = try await RawH2Client.request(
                    port: port, certificate: certificate, headers: [(":method", "CONNECT"), (":authority", bad)])
                #expect(status == 400, "\(bad)")
            }
            #expect(pair.backend.connections.load(ordering: .relaxed) == 0)
        }
    }

    @Test("503 for an unknown target and for a refused upstream connect")
    func unavailable() async throws {
        let closedPort = try freePort()
        try await withPair { pair in
            await #expect(throws: HBONEError.rejected(status: 503)) {
                _ = try await pair.open(.hostname("reviews.default.svc.cluster.local", port: 9080))
            }
            await #expect(throws: HBONEError.rejected(status: 503)) {
                _ = try await pair.open(.address(try SocketAddress(ipAddress: "127.0.0.1", port: closedPort)))
            }
        }
    }

    @Test("401 when the authorizer denies; the backend sees no connection")
    func denied() async throws {
        try await withPair(server: { config in
            config.authorizer = { info in
                info.peerIdentity == clientID ? .deny(reason: "explicitly denied by: default/deny-client") : .allow
            }
        }) { pair in
            await #expect(throws: HBONEError.rejected(status: 401)) { _ = try await pair.open() }
            #expect(pair.backend.connections.load(ordering: .relaxed) == 0)
        }
    }

    @Test("half-close: the client's FIN reaches the backend and the answer still comes back")
    func halfCloseFromClient() async throws {
        try await withPair(backend: .countThenReply) { pair in
            let stream = try await pair.open()
            let reply = try await stream.channel.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(bytes: randomBytes(300_000)))
                outbound.finish()
                return try await readAll(inbound)
            }
            #expect(reply == "got 300000")
        }
    }

    @Test("half-close: the backend's FIN ends the client's inbound side while the client keeps sending")
    func halfCloseFromBackend() async throws {
        try await withPair(backend: .greetThenCount("hello")) { pair in
            let stream = try await pair.open()
            try await stream.channel.executeThenClose { inbound, outbound in
                let greeting = try await readAll(inbound)
                #expect(greeting == "hello")
                try await outbound.write(ByteBuffer(bytes: randomBytes(500_000)))
                outbound.finish()
            }
            #expect(await eventually { pair.backend.received.load(ordering: .relaxed) == 500_000 })
            #expect(await eventually { pair.backend.closed.load(ordering: .relaxed) == 1 })
        }
    }

    @Test("an upstream reset resets the stream")
    func upstreamReset() async throws {
        try await withPair(backend: .reset) { pair in
            let stream = try await pair.open()
            await #expect(throws: (any Error).self) {
                try await stream.channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: "x"))
                    for try await _ in inbound {}
                }
            }
        }
    }

    @Test("a stream reset closes the upstream connection")
    func streamResetClosesUpstream() async throws {
        try await withPair(backend: .echo) { pair in
            let opened = try await pair.client.openChannel(
                to: pair.backendTarget, via: pair.serverAddress, expectedIdentities: [serverID])
            #expect(await eventually { pair.backend.connections.load(ordering: .relaxed) == 1 })
            try? await opened.channel.close()  // RST_STREAM
            #expect(await eventually { pair.backend.closed.load(ordering: .relaxed) == 1 })
        }
    }

    @Test("flow control: a backend that never reads bounds what the client can push")
    func slowReaderBoundsBuffering() async throws {
        // A small receive buffer on the backend keeps the kernel's share small (loopback
        // autotuning would otherwise grow it to tcp_rmem's maximum, 32 MiB here).
        try await withPair(backend: .silent, backendReceiveBuffer: 64 * 1024) { pair in
            let stream = try await pair.open()
            let chunk = ByteBuffer(bytes: randomBytes(64 * 1024))
            let written = Atomic<Int>(0)
            let writer = Task {
                try await stream.channel.executeThenClose { _, outbound in
                    for _ in 0..<(512 * 16) {  // 512 MiB
                        try await outbound.write(chunk)
                        written.add(chunk.readableBytes, ordering: .relaxed)
                    }
                }
            }
            // Wait until the writer makes no progress for 500 ms.
            var last = -1
            while true {
                try await Task.sleep(for: .milliseconds(500))
                let now = written.load(ordering: .relaxed)
                if now == last { break }
                last = now
            }
            writer.cancel()
            // The writer must block long before 512 MiB. Expected: stream window 4 MiB + the upstream
            // socket's send buffer (≤ 4 MiB) + watermarks, ≈ 13 MB; measured 13–30 MB, but up to
            // 140 MB while the machine was saturated by compilers (not understood yet, see the
            // report). The relay's own buffering is asserted tightly in RelayTests.
            print("flow control: the client pushed \(last) bytes into a backend that reads nothing")
            #expect(
                last < 256 * 1024 * 1024,
                "the client pushed \(last) bytes into a backend that reads nothing (backend connections \(pair.backend.connections.load(ordering: .relaxed)), closed \(pair.backend.closed.load(ordering: .relaxed)), received \(pair.backend.received.load(ordering: .relaxed)))")
            #expect(last > 4 * 1024 * 1024, "the tunnel should carry at least a stream window (\(last))")
        }
    }

    @Test("identity mismatch and foreign roots fail with typed errors")
    func serverVerification() async throws {
        try await withPair { pair in
            let wrong = spiffe("default", "somebody-else")
            await #expect(throws: HBONEError.serverIdentityMismatch(expected: [wrong], presented: serverID.description)) {
                _ = try await pair.open(expected: [wrong])
            }
        }
        let foreign = try await TestCA.other.credentials(for: clientID)
        try await withPair(clientCredentials: foreign) { pair in
            do {
                _ = try await pair.open()
                Issue.record("a client trusting another root connected")
            } catch {
                guard case HBONEError.untrustedServerCertificate = error else {
                    Issue.record("unexpected error \(error)")
                    return
                }
            }
            #expect(pair.backend.connections.load(ordering: .relaxed) == 0)
        }
    }
}
