import MeshProto
import NIOCore
import NIOPosix
import Synchronization
import Testing
@testable import MeshXDS

/// Streams run on their connection's event loop (ConnectionLoops, EventLoopExecutor).
@Suite(.serialized) struct ConnectionLoopTests {
    @Test("peer keys are spelled as gRPC's ServerContext.remotePeer")
    func peerKeys() throws {
        #expect(ConnectionLoops.peer(try SocketAddress(ipAddress: "127.0.0.1", port: 4321)) == "ipv4:127.0.0.1:4321")
        #expect(ConnectionLoops.peer(try SocketAddress(ipAddress: "::1", port: 80)) == "ipv6:[::1]:80")
        #expect(ConnectionLoops.peer(try SocketAddress(unixDomainSocketPath: "/tmp/x.sock")) == nil)
        #expect(ConnectionLoops.peer(nil) == nil)
    }

    @Test("every callback of a stream runs on one event loop; the loop is forgotten when the connection closes",
          arguments: [XDSClientConfiguration.Mode.delta, .sotw])
    func streamsOnConnectionLoop(mode: XDSClientConfiguration.Mode) async throws {
        let cache = LinearCache(typeURL: TypeURL.cluster)
        cache.updateResources([Fixtures.resource("c1", Fixtures.edsCluster(name: "c1"))])
        // Per stream: the loop each callback ran on ("none" when not on an event loop).
        let loops = Mutex<[UInt64: [String]]>([:])
        @Sendable func record(_ id: UInt64) {
            let loop = MultiThreadedEventLoopGroup.currentEventLoop.map { "\(ObjectIdentifier($0 as AnyObject))" }
            loops.withLock { $0[id, default: []].append(loop ?? "none") }
        }
        let callbacks = XDSCallbacks(
            onStreamOpen: { id, _ in record(id) }, onRequest: { id, _ in record(id) },
            onResponse: { id, _ in record(id) })
        let xds = XDSServer(cache: cache, callbacks: callbacks)
        try await withServer(xds) { server in
            let node = IstioNode.make(type: "sidecar", ip: "127.0.0.5", podName: "p", namespace: "ns")
            let client = XDSClient(configuration: XDSClientConfiguration(
                host: "127.0.0.1", port: server.port, node: node, mode: mode))
            await client.subscribe(Envoy_Config_Cluster_V3_Cluster.self) { _, _ in }
            let runner = Task { try await client.run() }
            #expect(await eventually { xds.status.all.first?.isSynced == true })
            #expect(xds.connectionLoops.count == 1)
            // A second push and its ACK, on the same stream.
            cache.updateResources([Fixtures.resource("c2", Fixtures.edsCluster(name: "c2"))])
            #expect(await eventually { await client.resources(typeURL: TypeURL.cluster).count == 2 })
            #expect(await eventually { xds.status.all.first?.isSynced == true })
            runner.cancel()
            _ = await runner.result
            #expect(await eventually { xds.connectionLoops.count == 0 })
        }
        let seen = loops.withLock { $0 }
        #expect(seen.count == 1)
        for (_, streamLoops) in seen {
            // open, 2 requests + 2 ACKs at least, 2 responses
            #expect(streamLoops.count >= 5)
            #expect(!streamLoops.contains("none"))
            #expect(Set(streamLoops).count == 1)
        }
    }
}
