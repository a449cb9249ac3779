import MeshProto
import Synchronization
import Testing
@testable import MeshXDS

@Suite struct CacheTests {
    func cluster(_ name: String, timeout: Int64 = 1) -> XDSResource {
        var cluster = Fixtures.edsCluster(name: name)
        cluster.connectTimeout.seconds = timeout
        return Fixtures.resource(name, cluster)
    }

    @Test func resourceIsMarshalledOnceAndVersionedByContent() throws {
        let a = cluster("a")
        let b = cluster("a")
        #expect(a.version == b.version)
        #expect(a.version != cluster("a", timeout: 2).version)
        #expect(a.any.typeURL == TypeURL.cluster)
        let decoded = try Envoy_Config_Cluster_V3_Cluster(serializedBytes: [UInt8](a.any.value))
        #expect(decoded.name == "a")
        // The delta wrapper carries the same bytes.
        #expect(a.wrapped.resource.value == a.any.value)
    }

    @Test func linearCacheWakesOnlyAffectedWatches() {
        let cache = LinearCache(typeURL: TypeURL.endpoint, versionPrefix: "r1-")
        let woken = Mutex<[String: [ChangeSet]]>([:])
        let node = NodeKey("n")
        func watch(_ label: String, _ interest: Interest) -> any CacheWatch {
            cache.watch(typeURL: TypeURL.endpoint, node: node, interest: interest) { change in
                woken.withLock { $0[label, default: []].append(change) }
            }
        }
        let wild = watch("wild", .wildcard)
        let onlyA = watch("a", .names(["a"]))
        let onlyB = watch("b", .names(["b"]))
        cache.updateResources([cluster("a")])
        #expect(woken.withLock { $0["wild"] } == [.names(["a"])])
        #expect(woken.withLock { $0["a"] } == [.names(["a"])])
        #expect(woken.withLock { $0["b"] } == nil)
        #expect(cache.view(typeURL: TypeURL.endpoint, node: node)?.version == "r1-1")
        // Unchanged content does not wake anyone or bump the version.
        cache.updateResources([cluster("a")])
        #expect(woken.withLock { $0["wild"]?.count } == 1)
        #expect(cache.view(typeURL: TypeURL.endpoint, node: node)?.version == "r1-1")
        onlyB.update(interest: .names(["b", "c"]))
        cache.updateResources([cluster("c")], delete: ["a"])
        #expect(woken.withLock { $0["b"] } == [.names(["a", "c"])])
        #expect(woken.withLock { $0["a"]?.count } == 2)
        onlyA.cancel()
        cache.updateResources([cluster("a")])
        #expect(woken.withLock { $0["a"]?.count } == 2)
        wild.cancel()
        onlyB.cancel()
        #expect(cache.view(typeURL: TypeURL.cluster, node: node) == nil)
    }

    @Test func snapshotCacheNotifiesInPushOrderAndOnlyChangedTypes() {
        let cache = SnapshotCache()
        let node = NodeKey("n")
        let order = Mutex<[String]>([])
        var watches: [any CacheWatch] = []
        for type in [TypeURL.route, TypeURL.listener, TypeURL.endpoint, TypeURL.cluster] {
            watches.append(cache.watch(typeURL: type, node: node, interest: .wildcard) { _ in
                order.withLock { $0.append(type) }
            })
        }
        #expect(cache.view(typeURL: TypeURL.cluster, node: node) == nil)
        let v1 = Snapshot(version: "1", resources: [
            TypeURL.cluster: [cluster("a")], TypeURL.endpoint: [cluster("a")],
            TypeURL.listener: [cluster("l")], TypeURL.route: [cluster("r")],
        ])
        cache.setSnapshot(v1, for: node)
        #expect(order.withLock { $0 } == [TypeURL.cluster, TypeURL.endpoint, TypeURL.listener, TypeURL.route])
        order.withLock { $0 = [] }
        // Same content, same version: nobody is woken.
        cache.setSnapshot(v1, for: node)
        #expect(order.withLock { $0 }.isEmpty)
        // Only the route changes.
        var v2 = v1
        v2.types[TypeURL.route] = CacheView(version: "1", resources: ["r": cluster("r", timeout: 5)])
        cache.setSnapshot(v2, for: node)
        #expect(order.withLock { $0 } == [TypeURL.route])
        // Another node's snapshot wakes nobody here.
        order.withLock { $0 = [] }
        cache.setSnapshot(v1, for: NodeKey("other"))
        #expect(order.withLock { $0 }.isEmpty)
        for watch in watches { watch.cancel() }
    }

    @Test func muxRoutesByTypeURL() {
        let linear = LinearCache(typeURL: TypeURL.endpoint)
        linear.updateResources([cluster("e")])
        let snapshots = SnapshotCache()
        snapshots.setSnapshot(Snapshot(version: "s", resources: [TypeURL.cluster: [cluster("c")]]), for: NodeKey("n"))
        let mux = MuxCache(caches: [TypeURL.endpoint: linear], fallback: snapshots)
        #expect(mux.view(typeURL: TypeURL.endpoint, node: NodeKey("n"))?.resources.keys.sorted() == ["e"])
        #expect(mux.view(typeURL: TypeURL.cluster, node: NodeKey("n"))?.version == "s")
        let noFallback = MuxCache(caches: [TypeURL.endpoint: linear])
        #expect(noFallback.view(typeURL: TypeURL.cluster, node: NodeKey("n")) == nil)
    }

    @Test func backoffDoublesToTheCapWithJitter() {
        let backoff = Backoff()
        #expect(backoff.baseDelay(attempt: 0) == .milliseconds(10))
        #expect(backoff.baseDelay(attempt: 1) == .milliseconds(20))
        #expect(backoff.baseDelay(attempt: 30) == .seconds(15))
        for attempt in 0..<20 {
            let delay = backoff.delay(attempt: attempt)
            #expect(delay <= backoff.baseDelay(attempt: attempt))
            #expect(delay >= backoff.baseDelay(attempt: attempt) / 2)
        }
    }

    @Test func istioNodeID() {
        let node = IstioNode.make(type: "ztunnel", ip: "10.0.0.1", podName: "zt-1", namespace: "istio-system")
        #expect(node.id == "ztunnel~10.0.0.1~zt-1.istio-system~istio-system.svc.cluster.local")
        #expect(node.metadata.fields["INSTANCE_IPS"]?.stringValue == "10.0.0.1")
        #expect(IstioNode.parse(id: node.id)?.type == "ztunnel")
    }
}
