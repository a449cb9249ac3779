import Foundation
import MeshAPI
import Synchronization
import Testing

@testable import MeshDiscovery

/// Records a model's events as compact strings.
final class EventRecorder: Sendable {
    private let task: Task<Void, Never>

    init(_ model: MeshModel) {
        let stream = model.events()
        let box = Box()
        task = Task { for await e in stream { box.append(describe(e)) } }
        self.box = box
    }

    private final class Box: Sendable {
        let m = Mutex<[String]>([])
        func append(_ s: String) { m.withLock { $0.append(s) } }
        func take() -> [String] { m.withLock { v in defer { v = [] }; return v } }
        var count: Int { m.withLock { $0.count } }
    }
    private let box: Box

    /// Waits until at least `count` events arrived (or 5 s), then a little longer to catch
    /// extra ones, and returns everything recorded so far.
    func take(_ count: Int) async -> [String] {
        let deadline = ContinuousClock.now + .seconds(5)
        while box.count < count && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        try? await Task.sleep(for: .milliseconds(30))
        return box.take()
    }

    deinit { task.cancel() }
}

@Suite struct DirectoryRegistryTests {
    let namespace = namespaceYAML("shop", labels: ["istio.io/dataplane-mode": "ambient"])
    func app(label: String) -> String {
        podYAML("web-1", ns: "shop", ip: "10.0.0.1", labels: ["app": label])
            + serviceYAML("web", ns: "shop", ip: "10.96.0.1", selector: ["app": "web"])
    }

    func write(_ text: String, _ path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test func editAddBreakFixDelete() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write(namespace, "\(dir)/00-namespace.yaml")
        try write(app(label: "web"), "\(dir)/10-app.yaml")
        let mesh = MeshModel()
        let recorder = EventRecorder(mesh)
        let registry = DirectoryRegistry(path: dir, pollInterval: .milliseconds(20))
        let web = podUID("shop", "web-1")
        let svc = host("web", "shop")

        // Initial load.
        #expect(registry.sync(into: mesh, force: true))
        #expect(await recorder.take(4) == [
            "+namespace shop", "+service \(svc)", "+workload \(web)", "+endpoint \(svc) -> \(web)",
        ])

        // Edit: relabel the pod out of the service.
        try write(app(label: "other"), "\(dir)/10-app.yaml")
        #expect(registry.sync(into: mesh))
        #expect(await recorder.take(2) == ["~workload \(web)", "-endpoint \(svc) -> \(web)"])

        // Add a file.
        try write(podYAML("web-2", ns: "shop", ip: "10.0.0.2", labels: ["app": "web"]), "\(dir)/20-more.yml")
        #expect(registry.sync(into: mesh))
        let web2 = podUID("shop", "web-2")
        #expect(await recorder.take(2) == ["+workload \(web2)", "+endpoint \(svc) -> \(web2)"])

        // Break the app file: a YAML syntax error, then a validation error. Nothing changes.
        try write("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop\n", "\(dir)/10-app.yaml")
        #expect(!registry.sync(into: mesh))
        try write(
            app(label: "web") + """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: bad, namespace: shop}
                spec:
                  action: ALLOW
                  rules:
                  - to:
                    - operation: {methods: [GET], ports: ["99999"]}
                """, "\(dir)/10-app.yaml")
        #expect(!registry.sync(into: mesh))
        #expect(await recorder.take(0) == [])
        #expect(registry.status.failingFiles.keys.sorted() == ["\(dir)/10-app.yaml"])
        #expect(registry.status.errorCount == 2)
        #expect(mesh.workload(uid: web)?.labels["app"] == "other")
        #expect(mesh.service(hostname: svc.hostname, namespace: "shop") != nil)

        // Fix it (with the label back to web): applied.
        try write(app(label: "web"), "\(dir)/10-app.yaml")
        #expect(registry.sync(into: mesh))
        #expect(await recorder.take(2) == ["~workload \(web)", "+endpoint \(svc) -> \(web)"])
        #expect(registry.status.failingFiles.isEmpty)

        // Delete a file.
        try FileManager.default.removeItem(atPath: "\(dir)/20-more.yml")
        #expect(registry.sync(into: mesh))
        #expect(await recorder.take(2) == ["-workload \(web2)", "-endpoint \(svc) -> \(web2)"])

        // Touching a file without changing it is not a change.
        try write(app(label: "web"), "\(dir)/10-app.yaml")
        #expect(!registry.sync(into: mesh))
    }

    @Test func brokenNewFileAddsNothingAndWatchingPicksUpChanges() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write(namespace, "\(dir)/ns.yaml")
        try write("kind: Pod\n", "\(dir)/broken.yaml")
        let mesh = MeshModel()
        let recorder = EventRecorder(mesh)
        let registry = DirectoryRegistry(path: dir, pollInterval: .milliseconds(20))
        let task = Task { try await registry.run(into: mesh) }
        defer { task.cancel() }
        try await mesh.waitUntilReady()
        #expect(await recorder.take(1) == ["+namespace shop"])
        #expect(registry.status.failingFiles.keys.sorted() == ["\(dir)/broken.yaml"])

        try write(podYAML("p", ns: "shop", ip: "10.0.0.9"), "\(dir)/broken.yaml")
        #expect(await recorder.take(1) == ["+workload \(podUID("shop", "p"))"])
        #expect(mesh.workload(uid: podUID("shop", "p"))?.tunnelProtocol == .hbone)
        task.cancel()
        _ = await task.result
    }

    @Test func memoryAndDirectoryAggregate() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write(podYAML("p", ns: "shop", ip: "10.0.0.9", labels: ["from": "directory"]), "\(dir)/pod.yaml")
        let memory = MemoryRegistry(name: "memory", resources: resources(podYAML("p", ns: "shop", ip: "10.0.0.9", labels: ["from": "memory"])))
        let mesh = MeshModel()
        let aggregate = AggregateRegistry([memory, DirectoryRegistry(path: dir, pollInterval: .milliseconds(20))])
        let task = Task { try await aggregate.run(into: mesh) }
        try await mesh.waitUntilReady()
        // The first registry wins for the same resource.
        #expect(mesh.workload(uid: podUID("shop", "p"))?.labels["from"] == "memory")
        memory.remove(ResourceKey(group: "", kind: "Pod", namespace: "shop", name: "p"))
        #expect(mesh.workload(uid: podUID("shop", "p"))?.labels["from"] == "directory")
        memory.upsert(resources(namespaceYAML("shop", labels: ["istio.io/dataplane-mode": "ambient"]))[0])
        #expect(mesh.workload(uid: podUID("shop", "p"))?.tunnelProtocol == .hbone)
        task.cancel()
        _ = await task.result
    }
}
