import Foundation
import MeshAPI
import MeshCA
import MeshL4
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// Bytes sent each way in the bulk interop checks (the issue asks for 100 MB).
let interopBytes = 100 * 1_000_000

let envoyID = spiffe("default", "envoy")

@Suite("HBONE interop with a real Envoy", .serialized, .timeLimit(.minutes(3)))
struct EnvoyInteropTests {
    @Test(
        "1. our client → Envoy terminator → TCP echo: 100 MB each way intact; 200 concurrent tunnels over the pool",
        .enabled(if: EnvoyPeer.availableOrRequired, "Envoy not found (set MESH_REQUIRE_PEERS=1 to fail instead)"))
    func clientToEnvoyTerminator() async throws {
        let binary = try EnvoyPeer.need()
        let dir = try TempDir()
        let backend = try await TCPBackend.start(.echo)
        let port = try freePort()
        let envoyCertificate = try await TestCA.shared.certificate(for: envoyID)
        let envoy = try EnvoyProcess(
            binary: binary,
            config: EnvoyConfig.terminator(
                port: port, target: backend.address, certs: try dir.write(envoyCertificate, as: "envoy"),
                clientSAN: clientID),
            dir: dir, name: "terminator")
        let client = HBONEClient(
            credentials: try await TestCA.shared.credentials(for: clientID),
            configuration: .init(logger: quietLogger, accessLogger: quietLogger))
        defer {
            envoy.stop()
            dir.remove()
        }
        do {
            try await envoy.waitReady()
            let proxy = try SocketAddress(ipAddress: "127.0.0.1", port: port)
            let target = HBONETarget.address(backend.address)

            // Bulk: 100 MB of random bytes out and back through one tunnel.
            let stream = try await client.open(
                to: target, via: proxy, expectedIdentities: [envoyID], source: try SocketAddress(ipAddress: "10.0.0.9", port: 41000))
            #expect(stream.peerIdentity == envoyID)
            let payload = randomBytes(interopBytes)
            let started = ContinuousClock.now
            let (digest, count) = try await pump(stream.channel, payload: payload)
            let elapsed = ContinuousClock.now - started
            #expect(count == payload.count)
            #expect(digest == sha256Hex(payload))
            print("interop 1: \(interopBytes / 1_000_000) MB each way through Envoy's terminator in \(elapsed)")

            // 200 tunnels open at once: the pool puts 100 on each of two connections.
            let dialsBefore = client.pool.snapshot.dials
            let streams = try await withThrowingTaskGroup(of: HBONEStream.self) { group in
                for _ in 0..<200 {
                    group.addTask { try await client.open(to: target, via: proxy, expectedIdentities: [envoyID]) }
                }
                var out: [HBONEStream] = []
                for try await stream in group { out.append(stream) }
                return out
            }
            let key = HBONEConnectionPool.Key(source: clientID, expected: [envoyID], proxy: proxy)
            let perConnection = client.pool.snapshot.streamsPerConnection[key] ?? []
            #expect(perConnection.reduce(0, +) == 200)
            #expect(perConnection.allSatisfy { $0 <= 100 }, "\(perConnection)")
            #expect(client.pool.snapshot.dials - dialsBefore <= 2)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, stream) in streams.enumerated() {
                    group.addTask {
                        let payload = randomBytes(64 * 1024, seed: UInt64(index + 1))
                        let (digest, count) = try await pump(stream.channel, payload: payload)
                        #expect(count == payload.count)
                        #expect(digest == sha256Hex(payload))
                    }
                }
                try await group.waitForAll()
            }
        } catch {
            Issue.record("\(error)\n--- envoy log ---\n\(envoy.output)")
        }
        await client.shutdown()
        await backend.stop()
    }

    @Test(
        "2. Envoy originator → our server → TCP echo: 100 MB each way intact; our server sees Envoy's identity",
        .enabled(if: EnvoyPeer.availableOrRequired, "Envoy not found (set MESH_REQUIRE_PEERS=1 to fail instead)"))
    func envoyOriginatorToServer() async throws {
        // This case used to fail intermittently (Envoy reset its client a few seconds in): our
        // stream codec reported END_STREAM as sent while DATA still waited for window, and the relay
        // then closed the stream, dropping that DATA with RST_STREAM. Failures carry both logs.
        if let failure = try await envoyOriginatorToServerOnce() { Issue.record(Comment(rawValue: failure)) }
    }

    /// One run of interop case 2; returns a failure description instead of recording it.
    private func envoyOriginatorToServerOnce() async throws -> String? {
        let binary = try EnvoyPeer.need()
        let dir = try TempDir()
        let backend = try await TCPBackend.start(.echo)
        let seen = Mutex<[SpiffeID]>([])
        // Our server's view (debug log and access log) goes into the report when the run fails.
        let serverLog = CapturedLog()
        var configuration = HBONEServer.Configuration(
            host: "127.0.0.1", port: 0, logger: serverLog.logger("server"), accessLogger: serverLog.logger("access"))
        configuration.authorizer = { info in
            seen.withLock { $0.append(info.peerIdentity) }
            return .allow
        }
        let server = try await HBONEServer.start(
            credentials: try await TestCA.shared.credentials(for: serverID), configuration: configuration)
        let port = try freePort()
        let envoyCertificate = try await TestCA.shared.certificate(for: envoyID)
        let envoy = try EnvoyProcess(
            binary: binary,
            config: EnvoyConfig.originator(
                port: port, terminator: server.localAddress!, authority: HBONETarget.authority(of: backend.address),
                certs: try dir.write(envoyCertificate, as: "envoy"), serverSAN: serverID),
            dir: dir, name: "originator")
        defer {
            envoy.stop()
            dir.remove()
        }
        do {
            try await envoy.waitReady()
            let downstream = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                    }
                }
            let payload = randomBytes(interopBytes, seed: 7)
            let started = ContinuousClock.now
            let (digest, count) = try await pump(downstream, payload: payload)
            let elapsed = ContinuousClock.now - started
            #expect(count == payload.count)
            #expect(digest == sha256Hex(payload))
            #expect(seen.withLock { $0 } == [envoyID])
            #expect(server.statistics.upstreamConnections == 1)
            // Envoy's DATA frames went past NIOHTTP2, straight upstream (all but what arrived
            // before the upstream connected).
            #expect(server.statistics.bytesBypassed > payload.count / 2)
            print("interop 2: \(interopBytes / 1_000_000) MB each way from Envoy's originator in \(elapsed)")
        } catch {
            await server.close()
            await backend.stop()
            // Give the server's access log a moment to see the tunnel end.
            try? await Task.sleep(for: .milliseconds(200))
            return "\(error)\n--- envoy log ---\n\(envoy.output)\n--- our server ---\n\(serverLog.text)"
        }
        await server.close()
        await backend.stop()
        return nil
    }

    @Test("3. refusals: plaintext, no client certificate, another root, denied identity, non-CONNECT, bad authority")
    func refusals() async throws {
        let denied = spiffe("default", "denied")
        try await withPair(server: { config in
            config.authorizer = { info in info.peerIdentity == denied ? .deny(reason: "denied by test policy") : .allow }
        }) { pair in
            let port = pair.serverAddress.port!
            let authority = HBONETarget.authority(of: pair.backend.address)
            let connect = [(":method", "CONNECT"), (":authority", authority)]

            // Plaintext TCP, speaking HTTP/2 without TLS: the server closes the connection.
            let plain = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            let closed = try await withTimeout(.seconds(10)) {
                try await plain.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))
                    do { for try await _ in inbound {} } catch {}
                    return true
                }
            }
            #expect(closed)

            // TLS without a client certificate.
            await #expect(throws: (any Error).self) {
                _ = try await withTimeout(.seconds(10)) {
                    try await RawH2Client.request(port: port, certificate: nil, headers: connect)
                }
            }
            // A certificate from another root.
            let foreign = try await TestCA.other.certificate(for: clientID)
            await #expect(throws: (any Error).self) {
                _ = try await withTimeout(.seconds(10)) {
                    try await RawH2Client.request(port: port, certificate: foreign, headers: connect)
                }
            }
            let ours = try await TestCA.shared.certificate(for: clientID)
            // An identity the policy denies: 401.
            let deniedClient = HBONEClient(
                credentials: try await TestCA.shared.credentials(for: denied),
                configuration: .init(logger: quietLogger, accessLogger: quietLogger))
            await #expect(throws: HBONEError.rejected(status: 401)) {
                _ = try await deniedClient.open(to: pair.backendTarget, via: pair.serverAddress, expectedIdentities: [serverID])
            }
            await deniedClient.shutdown()
            // A non-CONNECT method and a malformed authority: 400.
            let get = try await RawH2Client.request(
                port: port, certificate: ours,
                headers: [(":method", "GET"), (":scheme", "https"), (":authority", authority), (":path", "/")])
            #expect(get == 400)
            let malformed = try await RawH2Client.request(
                port: port, certificate: ours, headers: [(":method", "CONNECT"), (":authority", "127.0.0.1")])
            #expect(malformed == 400)

            #expect(pair.backend.connections.load(ordering: .relaxed) == 0, "a refused request reached the backend")
            #expect(pair.server.statistics.upstreamConnections == 0)
        }
    }
}
