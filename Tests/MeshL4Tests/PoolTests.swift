import MeshAPI
import MeshL4
import MetricsTestKit
import NIOCore
import Testing

@Suite("HBONE connection pool", .serialized, .timeLimit(.minutes(1)))
struct PoolTests {
    func openMany(_ pair: HBONEPair, _ count: Int) async throws -> [HBONEChannel] {
        try await withThrowingTaskGroup(of: HBONEChannel.self) { group in
            for _ in 0..<count {
                group.addTask {
                    try await pair.client.openChannel(
                        to: pair.backendTarget, via: pair.serverAddress, expectedIdentities: [serverID])
                }
            }
            var out: [HBONEChannel] = []
            for try await channel in group { out.append(channel) }
            return out
        }
    }

    func key(_ pair: HBONEPair) -> HBONEConnectionPool.Key {
        .init(source: clientID, expected: [serverID], proxy: pair.serverAddress)
    }

    @Test("streams per connection are capped by the server's SETTINGS_MAX_CONCURRENT_STREAMS")
    func capBySettings() async throws {
        try await withPair(server: { $0.http2.maxConcurrentStreams = 10 }) { pair in
            let channels = try await openMany(pair, 25)
            let snapshot = pair.client.pool.snapshot
            #expect(snapshot.streamsPerConnection[key(pair)]?.sorted() == [5, 10, 10])
            #expect(snapshot.dials == 3)
            #expect(pair.server.statistics.connectionsAccepted == 3)
            for channel in channels { try? await channel.channel.close() }
            #expect(await eventually { pair.client.pool.snapshot.streamsPerConnection[key(pair)] == [0, 0, 0] })
        }
    }

    @Test("at most 100 streams per connection, then a second connection")
    func capAt100() async throws {
        try await withPair { pair in
            let channels = try await openMany(pair, 150)
            let snapshot = pair.client.pool.snapshot
            #expect(snapshot.streamsPerConnection[key(pair)]?.sorted() == [50, 100])
            #expect(pair.server.statistics.connectionsAccepted == 2)
            for channel in channels { try? await channel.channel.close() }
        }
    }

    @Test("a burst of opens on an empty pool dials once")
    func singleDialUnderBurst() async throws {
        try await withPair { pair in
            let channels = try await openMany(pair, 50)
            #expect(pair.client.pool.snapshot.dials == 1)
            #expect(pair.server.statistics.connectionsAccepted == 1)
            #expect(pair.server.statistics.streamsReceived == 50)
            for channel in channels { try? await channel.channel.close() }
        }
    }

    @Test("a connection unused for the idle timeout is released and closed")
    func idleRelease() async throws {
        try await withPair(client: { $0.pool.idleTimeout = .milliseconds(200) }) { pair in
            let first = try await pair.open()
            _ = try await pump(first.channel, payload: Array("ping".utf8))
            #expect(pair.client.pool.snapshot.streamsPerConnection[key(pair)] == [0])
            #expect(await eventually { pair.client.pool.snapshot.streamsPerConnection.isEmpty })
            #expect(pair.client.pool.snapshot.evictions == 1)
            let second = try await pair.open()
            _ = try await pump(second.channel, payload: Array("ping".utf8))
            #expect(pair.client.pool.snapshot.dials == 2)
            #expect(pair.server.statistics.connectionsAccepted == 2)
        }
    }

    @Test("a connection in use past the idle timeout leaves the pool but keeps its streams")
    func idleWithStreams() async throws {
        try await withPair(client: { $0.pool.idleTimeout = .milliseconds(200) }) { pair in
            let stream = try await pair.open()
            #expect(await eventually { pair.client.pool.snapshot.streamsPerConnection.isEmpty })
            let (digest, count) = try await pump(stream.channel, payload: randomBytes(100_000))
            #expect(count == 100_000)
            #expect(digest == sha256Hex(randomBytes(100_000)))
        }
    }

    @Test("a dead connection is evicted and the next open dials again")
    func deadEviction() async throws {
        let backend = try await TCPBackend.start(.echo)
        let serverCredentials = try await TestCA.shared.credentials(for: serverID)
        let configuration = HBONEServer.Configuration(host: "127.0.0.1", port: 0, logger: quietLogger, accessLogger: quietLogger)
        let first = try await HBONEServer.start(credentials: serverCredentials, configuration: configuration)
        let address = first.localAddress!
        let client = HBONEClient(
            credentials: try await TestCA.shared.credentials(for: clientID),
            configuration: .init(logger: quietLogger, accessLogger: quietLogger))
        var second: HBONEServer?
        do {
            let stream = try await client.open(to: .address(backend.address), via: address, expectedIdentities: [serverID])
            _ = try await pump(stream.channel, payload: Array("ping".utf8))
            await first.close()
            #expect(await eventually { client.pool.snapshot.streamsPerConnection.isEmpty })
            var again = configuration
            again.port = address.port!
            second = try await HBONEServer.start(credentials: serverCredentials, configuration: again)
            let next = try await client.open(to: .address(backend.address), via: address, expectedIdentities: [serverID])
            let (_, count) = try await pump(next.channel, payload: Array("pong".utf8))
            #expect(count == 4)
            #expect(client.pool.snapshot.dials == 2)
        } catch {
            Issue.record(error)
        }
        await client.shutdown()
        await first.close()
        await second?.close()
        await backend.stop()
    }

    @Test("Istio TCP metrics with standard labels on both sides, DENY on 401")
    func metrics() async throws {
        let metrics = TestMetricsBox.metrics
        let clientIdentity = spiffe("metrics", "client")
        let credentials = try await TestCA.shared.credentials(for: clientIdentity)
        try await withPair(
            server: { config in
                config.authorizer = { info in info.target.port == 1 ? .deny(reason: "test") : .allow }
            }, clientCredentials: credentials
        ) { pair in
            let stream = try await pair.open()
            _ = try await pump(stream.channel, payload: randomBytes(1000))
            await #expect(throws: HBONEError.rejected(status: 401)) {
                _ = try await pair.open(.address(try SocketAddress(ipAddress: "127.0.0.1", port: 1)))
            }
            func total(_ label: String, _ reporter: String, _ flags: String = "-") -> Int64 {
                metrics.counters(label: label).filter { counter in
                    let dims = Dictionary(counter.dimensions, uniquingKeysWith: { a, _ in a })
                    return dims["reporter"] == reporter && dims["source_principal"] == clientIdentity.description
                        && dims["response_flags"] == flags && dims["request_protocol"] == "tcp"
                        && dims["connection_security_policy"] == "mutual_tls"
                        && dims["source_workload_namespace"] == "metrics"
                        && dims["destination_principal"] == serverID.description
                }.reduce(0) { $0 + $1.totalValue }
            }
            #expect(await eventually { total("istio_tcp_connections_closed_total", "destination") == 1 })
            #expect(await eventually { total("istio_tcp_connections_opened_total", "destination") == 2 })
            #expect(await eventually { total("istio_tcp_received_bytes_total", "destination") == 1000 })
            // All of them went past NIOHTTP2 (the tunnel was established before the client wrote)
            // and are still counted.
            #expect(pair.server.statistics.bytesBypassed == 1000)
            #expect(await eventually { total("istio_tcp_sent_bytes_total", "destination") == 1000 })
            #expect(await eventually { total("istio_tcp_connections_closed_total", "destination", "DENY") == 1 })
            #expect(await eventually { total("istio_tcp_connections_closed_total", "source") == 1 })
            #expect(await eventually { total("istio_tcp_received_bytes_total", "source") == 1000 })
            #expect(await eventually { total("istio_tcp_sent_bytes_total", "source") == 1000 })
            #expect(await eventually { total("istio_tcp_connections_closed_total", "source", "DENY") == 1 })
            let labels = Set(metrics.counters(label: "istio_tcp_connections_closed_total").first?.dimensions.map(\.0) ?? [])
            for required in [
                "reporter", "source_workload", "source_canonical_service", "source_canonical_revision",
                "source_workload_namespace", "source_principal", "source_app", "source_version", "source_cluster",
                "destination_service", "destination_service_namespace", "destination_service_name",
                "destination_workload", "destination_canonical_service", "destination_canonical_revision",
                "destination_workload_namespace", "destination_principal", "destination_app", "destination_version",
                "destination_cluster", "request_protocol", "response_flags", "connection_security_policy",
            ] {
                #expect(labels.contains(required), "missing label \(required)")
            }
        }
    }
}
