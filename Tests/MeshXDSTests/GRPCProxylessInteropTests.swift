import Foundation
import MeshProto
import SwiftProtobuf
import Testing
@testable import MeshXDS

/// Interop test 3: Python gRPC (PyPI grpcio) resolves an `xds:///` target through our server
/// (LDS API listener, RDS, CDS, EDS) and follows an endpoint change.
@Suite(.serialized, .enabled(if: Peers.grpcioAvailableOrOptional, "grpcio not importable by MESH_PYTHON; run scripts/test"))
struct GRPCProxylessInteropTests {
    static let nodeID = "grpc-proxyless"
    static let target = "echo.test"

    static let serverScript = """
        import grpc, os, sys
        from concurrent import futures
        def handler(name):
            def hi(request, context):
                return name.encode()
            return grpc.method_handlers_generic_handler("test.Echo", {"Hi": grpc.unary_unary_rpc_method_handler(hi)})
        servers, ports = [], []
        for name in sys.argv[2:]:
            s = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
            s.add_generic_rpc_handlers((handler(name),))
            ports.append(str(s.add_insecure_port("127.0.0.1:0")))
            s.start()
            servers.append(s)
        with open(sys.argv[1] + ".tmp", "w") as f:
            f.write(" ".join(ports))
        os.rename(sys.argv[1] + ".tmp", sys.argv[1])
        servers[0].wait_for_termination()
        """

    static let clientScript = """
        import grpc, os, sys, time
        target, out, stop = sys.argv[1:4]
        channel = grpc.insecure_channel(target)
        call = channel.unary_unary("/test.Echo/Hi")
        deadline = time.time() + 90
        with open(out, "a", buffering=1) as f:
            while time.time() < deadline and not os.path.exists(stop):
                try:
                    f.write(call(b"x", timeout=3).decode() + "\\n")
                except Exception as e:
                    f.write("ERR " + str(e).replace("\\n", " ")[:300] + "\\n")
                time.sleep(0.05)
        """

    func resources(version: String, port: Int) -> Snapshot {
        var hcm = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager()
        var rds = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_Rds()
        rds.configSource = Fixtures.adsSource()
        rds.routeConfigName = "echo-route"
        hcm.rds = rds
        var router = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
        router.name = "router"
        router.typedConfig = Fixtures.any(Envoy_Extensions_Filters_Http_Router_V3_Router())
        hcm.httpFilters = [router]
        var listener = Envoy_Config_Listener_V3_Listener()
        listener.name = Self.target
        listener.apiListener.apiListener = Fixtures.any(hcm)

        var route = Fixtures.route(name: "echo-route", cluster: "echo-cluster")
        route.virtualHosts[0].domains = [Self.target]
        route.virtualHosts[0].routes[0].match.prefix = ""

        var cluster = Fixtures.edsCluster(name: "echo-cluster")
        cluster.lbPolicy = .roundRobin

        var assignment = Fixtures.endpoints(cluster: "echo-cluster", ports: [port])
        assignment.endpoints[0].locality.region = "local"
        var weight = Google_Protobuf_UInt32Value()
        weight.value = 1
        assignment.endpoints[0].loadBalancingWeight = weight
        return Snapshot(version: version, resources: [
            TypeURL.listener: [Fixtures.resource(Self.target, listener)],
            TypeURL.route: [Fixtures.resource("echo-route", route)],
            TypeURL.cluster: [Fixtures.resource("echo-cluster", cluster)],
            TypeURL.endpoint: [Fixtures.resource("echo-cluster", assignment)],
        ])
    }

    @Test("a Python gRPC client with an xds:/// target follows our EDS")
    func proxylessGRPC() async throws {
        guard Peers.need(Peers.grpcio, "grpcio") else { return }
        let dir = try TempDir()
        defer { dir.remove() }
        try Self.serverScript.write(to: dir.path("servers.py"), atomically: true, encoding: .utf8)
        try Self.clientScript.write(to: dir.path("client.py"), atomically: true, encoding: .utf8)
        let portsFile = dir.path("ports")
        let servers = try ChildProcess(Peers.python, [dir.path("servers.py").path, portsFile.path, "A", "B"],
                                       log: dir.path("servers.log"))
        defer { servers.stop() }
        var ports: [Int] = []
        _ = await eventually {
            ports = ((try? String(contentsOf: portsFile, encoding: .utf8)) ?? "").split(separator: " ").compactMap { Int($0) }
            return ports.count == 2
        }
        #expect(ports.count == 2, "gRPC servers did not start: \(servers.output)")
        guard ports.count == 2 else { return }

        let cache = SnapshotCache()
        let node = NodeKey(Self.nodeID)
        cache.setSnapshot(resources(version: "g1", port: ports[0]), for: node)
        // gRPC names every resource it wants, so an empty list never means wildcard.
        let xds = XDSServer(cache: cache, options: XDSServerOptions(legacyWildcard: false))
        try await withServer(xds) { server in
            let bootstrap = """
                {"xds_servers": [{"server_uri": "127.0.0.1:\(server.port)", "channel_creds": [{"type": "insecure"}],
                  "server_features": ["xds_v3"]}],
                 "node": {"id": "\(Self.nodeID)", "cluster": "test", "locality": {"region": "local"}}}
                """
            try bootstrap.write(to: dir.path("bootstrap.json"), atomically: true, encoding: .utf8)
            let out = dir.path("calls.log")
            let stop = dir.path("stop")
            let client = try ChildProcess(
                Peers.python, [dir.path("client.py").path, "xds:///\(Self.target)", out.path, stop.path],
                log: dir.path("client.log"),
                environment: ["GRPC_XDS_BOOTSTRAP": dir.path("bootstrap.json").path, "no_proxy": "*", "NO_PROXY": "*"])
            defer {
                FileManager.default.createFile(atPath: stop.path, contents: nil)
                client.stop()
            }
            func lines() -> [String] {
                ((try? String(contentsOf: out, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            }
            #expect(await eventually(timeout: .seconds(30)) { lines().last == "A" },
                    "calls never reached server A: \(lines().suffix(3)) \(client.output)")
            let streams = server.xds.status.clients(nodeID: Self.nodeID)
            #expect(streams.count == 1)
            #expect(await eventually { server.xds.status.clients(nodeID: Self.nodeID).first?.isSynced == true })
            let acked = server.xds.status.clients(nodeID: Self.nodeID).first?.types
            for type in [TypeURL.listener, TypeURL.route, TypeURL.cluster, TypeURL.endpoint] {
                #expect(acked?[type]?.lastAckedVersion == "g1", "type \(type) not ACKed: \(String(describing: acked?[type]))")
            }
            #expect(acked?[TypeURL.listener]?.subscribed == [Self.target])

            // Move the endpoints: traffic follows.
            cache.setSnapshot(resources(version: "g2", port: ports[1]), for: node)
            #expect(await eventually(timeout: .seconds(20)) { lines().suffix(3) == ["B", "B", "B"] },
                    "traffic did not move to B: \(lines().suffix(5))")
            #expect(await eventually {
                server.xds.status.clients(nodeID: Self.nodeID).first?.types[TypeURL.endpoint]?.lastAckedVersion == "g2"
            })
        }
    }
}
