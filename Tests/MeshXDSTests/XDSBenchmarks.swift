import Foundation
import MeshProto
import Synchronization
import Testing
@testable import MeshXDS

/// Benchmarks (run with `MESH_BENCH=1`): full push and incremental push to many in-process delta
/// clients over real gRPC on loopback. Numbers are printed, not asserted.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["MESH_BENCH"] == "1", "set MESH_BENCH=1 to run benchmarks"))
struct XDSBenchmarks {
    static func rssKB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }

    @Test func fullAndIncrementalPush() async throws {
        let env = ProcessInfo.processInfo.environment
        let clientCount = Int(env["MESH_BENCH_CLIENTS"] ?? "") ?? 1000
        let clusterCount = 1000
        let listenerCount = 100
        let shared = SnapshotCache(hash: { _ in NodeKey("all") })
        let endpoints = LinearCache(typeURL: TypeURL.endpoint, versionPrefix: "e")
        let cache = MuxCache(caches: [TypeURL.endpoint: endpoints], fallback: shared, hash: { _ in NodeKey("all") })
        shared.setSnapshot(Snapshot(version: "0", resources: [TypeURL.cluster: [], TypeURL.listener: []]), for: NodeKey("all"))
        let xds = XDSServer(cache: cache)

        try await withServer(xds) { server in
            let expected = [TypeURL.cluster: clusterCount, TypeURL.endpoint: clusterCount, TypeURL.listener: listenerCount]
            let complete = Mutex<[String: Set<Int>]>([:])
            let changed = Mutex<Set<Int>>([])
            let marker = Mutex<String?>(nil)
            var clients: [XDSClient] = []
            var tasks: [Task<Void, any Error>] = []
            let rssBefore = Self.rssKB()
            for i in 0..<clientCount {
                let node = IstioNode.make(type: "sidecar", ip: "10.0.\(i / 250).\(i % 250)", podName: "pod-\(i)", namespace: "bench")
                let client = XDSClient(configuration: XDSClientConfiguration(host: "127.0.0.1", port: server.port, node: node))
                for type in [TypeURL.cluster, TypeURL.endpoint, TypeURL.listener] {
                    await client.subscribe(typeURL: type) { update in
                        if update.all.count == expected[type] {
                            complete.withLock { _ = $0[type, default: []].insert(i) }
                        }
                        if type == TypeURL.endpoint, let version = marker.withLock({ $0 }),
                            update.updated.contains(where: { $0.name == "cluster-0" && $0.version == version })
                        {
                            changed.withLock { _ = $0.insert(i) }
                        }
                    }
                }
                clients.append(client)
                tasks.append(Task { try await client.run() })
            }
            defer { for task in tasks { task.cancel() } }
            let connected = await eventually(timeout: .seconds(120)) {
                xds.status.all.count == clientCount && xds.status.all.allSatisfy { $0.types.count == 3 && $0.isSynced }
            }
            #expect(connected, "only \(xds.status.all.count) clients connected")
            let rssConnected = Self.rssKB()

            // Full push.
            var clusters: [XDSResource] = []
            var assignments: [XDSResource] = []
            for c in 0..<clusterCount {
                clusters.append(Fixtures.resource("cluster-\(c)", Fixtures.edsCluster(name: "cluster-\(c)")))
                assignments.append(Fixtures.resource("cluster-\(c)", Fixtures.endpoints(cluster: "cluster-\(c)", ports: [10_000 + c, 20_000 + c])))
            }
            let listeners = (0..<listenerCount).map { l in
                Fixtures.resource("listener-\(l)", Fixtures.httpListener(name: "listener-\(l)", port: 30_000 + l, routeName: "route-\(l)"))
            }
            let start = ContinuousClock.now
            endpoints.updateResources(assignments)
            shared.setSnapshot(Snapshot(version: "1", resources: [TypeURL.cluster: clusters, TypeURL.listener: listeners]), for: NodeKey("all"))
            let pushed = await eventually(timeout: .seconds(300)) {
                complete.withLock { state in expected.keys.allSatisfy { (state[$0]?.count ?? 0) == clientCount } }
            }
            let fullPush = ContinuousClock.now - start
            #expect(pushed)
            let allAcked = await eventually(timeout: .seconds(60)) { xds.status.all.allSatisfy(\.isSynced) }
            let fullAck = ContinuousClock.now - start
            let rssLoaded = Self.rssKB()

            // Incremental: one endpoint set changes.
            let changedAssignment = Fixtures.resource("cluster-0", Fixtures.endpoints(cluster: "cluster-0", ports: [40_000]))
            marker.withLock { $0 = changedAssignment.version }
            let incStart = ContinuousClock.now
            endpoints.updateResources([changedAssignment])
            let incDone = await eventually(timeout: .seconds(60)) { changed.withLock { $0.count } == clientCount }
            let incremental = ContinuousClock.now - incStart
            #expect(incDone)

            print("""
                MESH_BENCH xds: clients=\(clientCount) clusters=\(clusterCount) endpoints=\(clusterCount) listeners=\(listenerCount)
                MESH_BENCH xds: full push, all clients hold everything: \(fullPush); all ACKed at server: \(fullAck) (acked=\(allAcked))
                MESH_BENCH xds: incremental (1 endpoint set) to all clients: \(incremental)
                MESH_BENCH xds: RSS before clients \(rssBefore) KB, connected (empty) \(rssConnected) KB, loaded \(rssLoaded) KB
                MESH_BENCH xds: per connected client (client+server, in-process): empty \((rssConnected - rssBefore) / max(clientCount, 1)) KB, loaded \((rssLoaded - rssBefore) / max(clientCount, 1)) KB
                """)
            for task in tasks { task.cancel() }
            for task in tasks { _ = await task.result }
        }
    }
}
