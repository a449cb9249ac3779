import MeshProto
import Synchronization
import Testing
@testable import MeshXDS

/// Interop test 4: our client against our server over real gRPC on loopback.
@Suite(.serialized) struct ClientServerTests {
    func cluster(_ name: String, timeout: Int64 = 1) -> XDSResource {
        var cluster = Fixtures.edsCluster(name: name)
        cluster.connectTimeout.seconds = timeout
        return Fixtures.resource(name, cluster)
    }

    func makeClient(port: Int, mode: XDSClientConfiguration.Mode) -> XDSClient {
        let node = IstioNode.make(type: "sidecar", ip: "127.0.0.5", podName: "p", namespace: "ns")
        return XDSClient(configuration: XDSClientConfiguration(
            host: "127.0.0.1", port: port, node: node, mode: mode,
            backoff: Backoff(initial: .milliseconds(10), maximum: .milliseconds(200))))
    }

    @Test("subscribe, update, remove, NACK, reconnect with initial_resource_versions, server restart",
          arguments: [XDSClientConfiguration.Mode.delta, .sotw])
    func lifecycle(mode: XDSClientConfiguration.Mode) async throws {
        let cache = LinearCache(typeURL: TypeURL.cluster)
        cache.updateResources([cluster("c1"), cluster("c2")])
        let firstRequests = Mutex<[XDSRequest]>([])
        let responses = Mutex<[XDSResponse]>([])
        let callbacks = XDSCallbacks(
            onRequest: { _, request in firstRequests.withLock { $0.append(request) } },
            onResponse: { _, response in responses.withLock { $0.append(response) } })
        let xds = XDSServer(cache: cache, callbacks: callbacks)
        var server = try await RunningServer.start(xds)
        let port = server.port
        let client = makeClient(port: port, mode: mode)
        let seen = Mutex<[String]>([])
        await client.subscribe(Envoy_Config_Cluster_V3_Cluster.self) { all, _ in
            if let bad = all.keys.sorted().first(where: { $0.hasPrefix("bad") }) {
                throw XDSRejection("cluster \(bad) is not allowed")
            }
            seen.withLock { $0 = all.keys.sorted() }
        }
        let runner = Task { try await client.run() }
        defer { runner.cancel() }

        func names() async -> [String] { await client.resources(typeURL: TypeURL.cluster).keys.sorted() }
        // Subscribe.
        #expect(await eventually { await names() == ["c1", "c2"] })
        #expect(seen.withLock { $0 } == ["c1", "c2"])
        #expect(await eventually { xds.status.all.first?.isSynced == true })
        #expect(xds.status.all.first?.nodeID == "sidecar~127.0.0.5~p.ns~ns.svc.cluster.local")

        // Update.
        let v1 = await client.resources(typeURL: TypeURL.cluster)["c1"]?.version
        cache.updateResources([cluster("c1", timeout: 9)])
        #expect(await eventually { await client.resources(typeURL: TypeURL.cluster)["c1"]?.version != v1 })

        // Remove.
        cache.updateResources([], delete: ["c2"])
        #expect(await eventually { await names() == ["c1"] })

        // NACK: the handler rejects; the client keeps its last good state; the server records the
        // reason and does not resend.
        cache.updateResources([cluster("bad-1")])
        #expect(await eventually { (await client.status(typeURL: TypeURL.cluster)?.rejected ?? 0) >= 1 })
        #expect(await client.status(typeURL: TypeURL.cluster)?.lastError?.contains("bad-1") == true)
        #expect(await names() == ["c1"])
        #expect(await eventually {
            xds.status.all.first?.types[TypeURL.cluster]?.lastNack?.message == "cluster bad-1 is not allowed"
        })
        let sent = xds.status.all.first?.types[TypeURL.cluster]?.responses
        try await Task.sleep(for: .milliseconds(500))
        #expect(xds.status.all.first?.types[TypeURL.cluster]?.responses == sent, "rejected config was resent")
        #expect(await client.status(typeURL: TypeURL.cluster)?.rejected == 1)

        // Recovery.
        cache.updateResources([cluster("c3")], delete: ["bad-1"])
        #expect(await eventually { await names() == ["c1", "c3"] })
        let held = await client.resources(typeURL: TypeURL.cluster).mapValues(\.version)

        // The server restarts mid-stream on the same port; the client reconnects with backoff.
        await server.stop()
        firstRequests.withLock { $0 = [] }
        responses.withLock { $0 = [] }
        server = try await RunningServer.start(xds, port: port)
        defer { Task { [server] in await server.stop() } }
        #expect(await eventually { await client.connectionCount >= 2 })
        #expect(await eventually { xds.status.all.first?.isSynced == true && !responses.withLock { $0.isEmpty } })
        let first = firstRequests.withLock { $0.first }
        switch (mode, first) {
        case (.delta, .delta(let request)?):
            #expect(request.initialResourceVersions == held, "initial_resource_versions not sent on reconnect")
            // The server skipped what the client already holds.
            if case .delta(let response)? = responses.withLock({ $0.first }) {
                #expect(response.resources.isEmpty && response.removedResources.isEmpty)
            }
        case (.sotw, .sotw(let request)?):
            #expect(!request.versionInfo.isEmpty, "SotW reconnect did not carry the accepted version")
            #expect(request.responseNonce.isEmpty)
        default:
            Issue.record("unexpected first request after reconnect: \(String(describing: first))")
        }
        #expect(await names() == ["c1", "c3"])

        // Updates flow on the new stream.
        cache.updateResources([cluster("c4")])
        #expect(await eventually { await names() == ["c1", "c3", "c4"] })
        runner.cancel()
        _ = await runner.result
        await server.stop()
    }

    @Test("named delta subscriptions: absent names are reported, unsubscribe stops updates")
    func namedDelta() async throws {
        let cache = LinearCache(typeURL: TypeURL.endpoint)
        cache.updateResources([Fixtures.resource("a", Fixtures.endpoints(cluster: "a", ports: [1]))])
        let xds = XDSServer(cache: cache)
        try await withServer(xds) { server in
            let client = makeClient(port: server.port, mode: .delta)
            let removedSeen = Mutex<Set<String>>([])
            let handler: XDSClient.Handler = { update in removedSeen.withLock { $0.formUnion(update.removed) } }
            await client.subscribe(typeURL: TypeURL.endpoint, names: ["a", "missing"], handler: handler)
            let runner = Task { try await client.run() }
            defer { runner.cancel() }
            #expect(await eventually { await client.resources(typeURL: TypeURL.endpoint).keys.sorted() == ["a"] })
            #expect(await eventually { removedSeen.withLock { $0.contains("missing") } }, "absent name not reported")
            // The missing resource appears.
            cache.updateResources([Fixtures.resource("missing", Fixtures.endpoints(cluster: "missing", ports: [2]))])
            #expect(await eventually { await client.resources(typeURL: TypeURL.endpoint)["missing"] != nil })
            // Unsubscribe from "a": changes to it no longer arrive; a fresh subscribe resends it.
            await client.subscribe(typeURL: TypeURL.endpoint, names: ["missing"], handler: handler)
            #expect(await eventually { xds.status.all.first?.types[TypeURL.endpoint]?.subscribed == ["missing"] })
            let before = xds.status.all.first?.types[TypeURL.endpoint]?.responses
            cache.updateResources([Fixtures.resource("a", Fixtures.endpoints(cluster: "a", ports: [3]))])
            try await Task.sleep(for: .milliseconds(300))
            #expect(xds.status.all.first?.types[TypeURL.endpoint]?.responses == before)
            runner.cancel()
            _ = await runner.result
        }
    }
}
