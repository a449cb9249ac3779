import MeshAPI
import MeshDiscovery
import MeshProto
import Synchronization
import Testing

@testable import MeshXDS

/// The controller over real gRPC: a delta client (as ztunnel) gets every Address and
/// Authorization, then only what a model change touched.
@Suite(.serialized) struct AmbientControllerTests {
    @Test func deltaClientsReceiveOnlyChangedResources() async throws {
        let model = MeshModel()
        let load = { (yaml: String) in
            let result = ManifestLoader().load(text: yaml, file: "mesh.yaml")
            #expect(result.errors.isEmpty, "\(result.errors)")
            model.apply(result.resources.map { .upsert($0.resource) })
        }
        load(AmbientAddressesTests.manifests)
        let controller = AmbientController(model: model)
        let runner = Task { await controller.run(debounce: DebounceOptions(quietPeriod: .milliseconds(20), maximumDelay: .milliseconds(200))) }
        defer { runner.cancel() }

        let xds = XDSServer(cache: controller.cache)
        let server = try await RunningServer.start(xds)
        let node = IstioNode.make(type: "ztunnel", ip: "127.0.0.2", podName: "ztunnel-a", namespace: "istio-system")
        let client = XDSClient(configuration: XDSClientConfiguration(host: "127.0.0.1", port: server.port, node: node, mode: .delta))
        let addressUpdates = Mutex<[[String]]>([])
        await client.subscribe(Istio_Workload_Address.self) { _, update in
            addressUpdates.withLock { $0.append(update.updated.map(\.name).sorted()) }
        }
        await client.subscribe(Istio_Security_Authorization.self) { _, _ in }
        let clientTask = Task { try await client.run() }
        defer { clientTask.cancel() }

        func names(_ typeURL: String) async -> [String] { await client.resources(typeURL: typeURL).keys.sorted() }
        #expect(await eventually { await names(TypeURL.workloadAddress).count == 3 })
        #expect(await names(TypeURL.workloadAddress).contains("shop/web.shop.svc.cluster.local"))
        #expect(await eventually {
            await names(TypeURL.authorization)
                == ["istio-system/istio_converted_static_strict", "shop/ns-wide", "shop/web-frontend"]
        })
        let web = try #require(model.snapshot().workloads.values.first { $0.name == "web-1" })

        // Relabel one pod: only its Workload is pushed, with the new canonical revision.
        let before = addressUpdates.withLock { $0.count }
        load(AmbientAddressesTests.webPod(version: "v3"))
        func webWorkload() async -> Istio_Workload_Workload? {
            guard let any = await client.resources(typeURL: TypeURL.workloadAddress)[web.uid]?.any,
                case .workload(let w)? = try? Istio_Workload_Address(serializedBytes: Array(any.value)).type
            else { return nil }
            return w
        }
        #expect(await eventually { await webWorkload()?.canonicalRevision == "v3" })
        let after = addressUpdates.withLock { Array($0.dropFirst(before)) }
        #expect(after == [[web.uid]], "only the changed workload is pushed")

        // Removing the selector policy updates Authorization and the workload's policy list.
        model.delete(ResourceKey(group: "security.istio.io", kind: "AuthorizationPolicy", namespace: "shop", name: "web-frontend"))
        #expect(await eventually {
            await names(TypeURL.authorization) == ["istio-system/istio_converted_static_strict", "shop/ns-wide"]
        })
        #expect(await eventually { await webWorkload()?.authorizationPolicies == ["istio-system/istio_converted_static_strict"] })
        clientTask.cancel()
        await server.stop()
    }
}
