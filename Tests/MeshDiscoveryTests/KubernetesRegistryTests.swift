import Foundation
import MeshAPI
import Synchronization
import Testing

@testable import MeshDiscovery

/// A pod as the API server serializes it (list items omit `kind` and `apiVersion`).
private func podJSON(_ name: String, ip: String, rv: String, app: String = "web", typed: Bool = false) -> String {
    let type = typed ? #""kind":"Pod","apiVersion":"v1","# : ""
    return """
        {\(type)"metadata":{"name":"\(name)","namespace":"shop","uid":"uid-\(name)","resourceVersion":"\(rv)",\
        "creationTimestamp":"2026-01-01T00:00:00Z","labels":{"app":"\(app)"}},\
        "spec":{"containers":[{"name":"app","image":"app:1","ports":[{"name":"http","containerPort":8080,"protocol":"TCP"}]}],\
        "serviceAccountName":"web","nodeName":"node-1"},\
        "status":{"phase":"Running","hostIP":"127.0.0.2","podIP":"\(ip)","podIPs":[{"ip":"\(ip)"}],\
        "conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}
        """
}

private func list(_ kind: String, rv: String, _ items: [String]) -> String {
    #"{"kind":"\#(kind)","apiVersion":"v1","metadata":{"resourceVersion":"\#(rv)"},"items":[\#(items.joined(separator: ","))]}"#
}

private func event(_ type: String, _ object: String) -> String { #"{"type":"\#(type)","object":\#(object)}"# }

private let goneStatus = #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 100 (105)","reason":"Expired","code":410}"#

/// What the fake API server has been asked, by step.
private final class Script: Sendable {
    let counts = Mutex<[String: Int]>([:])
    func next(_ key: String) -> Int { counts.withLock { c in c[key, default: 0] += 1; return c[key]! } }
}

@Suite struct KubernetesRegistryTests {
    @Test func listWatchBookmarksBrokenWatchAndGone() async throws {
        let script = Script()
        let server = try TestAPIServer { request in
            guard request.headers["authorization"] == "Bearer test-token" else {
                return .full(status: 401, body: #"{"kind":"Status","code":401}"#)
            }
            let watching = request.query["watch"] == "1"
            switch (request.path, watching) {
            case ("/api/v1/namespaces", false):
                return .full(status: 200, body: list("NamespaceList", rv: "10", [
                    #"{"metadata":{"name":"shop","resourceVersion":"5","labels":{"istio.io/dataplane-mode":"ambient"}},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}}"#,
                ]))
            case ("/api/v1/namespaces", true):
                return .hold(lines: [])
            case ("/api/v1/pods", false):
                switch script.next("list") {
                case 1: return .full(status: 200, body: list("PodList", rv: "100", [podJSON("p1", ip: "10.0.0.1", rv: "90")]))
                default:
                    // After the 410s: p2 was deleted meanwhile, p3 appeared, p1 changed.
                    return .full(status: 200, body: list("PodList", rv: "200", [
                        podJSON("p1", ip: "10.0.0.1", rv: "150", app: "api"), podJSON("p3", ip: "10.0.0.3", rv: "160"),
                    ]))
                }
            case ("/api/v1/pods", true):
                switch script.next("watch") {
                case 1:
                    // A new pod, a bookmark, then the connection breaks.
                    return .stream(lines: [
                        (.zero, event("ADDED", podJSON("p2", ip: "10.0.0.2", rv: "101", typed: true))),
                        (.zero, event("BOOKMARK", #"{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"105"}}"#)),
                    ], breakAfter: true)
                case 2:
                    // Resumed from the bookmark; then the version expires.
                    return .stream(lines: [
                        (.zero, event("MODIFIED", podJSON("p1", ip: "10.0.0.1", rv: "106", app: "web2", typed: true))),
                        (.zero, event("ERROR", goneStatus)),
                    ], breakAfter: false)
                case 3:
                    return .full(status: 410, body: goneStatus)
                default:
                    return .hold(lines: [event("DELETED", podJSON("p3", ip: "10.0.0.3", rv: "201", typed: true))])
                }
            default:
                return .full(status: 404, body: #"{"kind":"Status","code":404}"#)
            }
        }
        defer { server.stop() }

        let mesh = MeshModel()
        let recorder = EventRecorder(mesh)
        let connection = KubernetesConnection(scheme: "http", host: "127.0.0.1", port: server.port, token: "test-token")
        let registry = KubernetesRegistry(
            connection: connection,
            options: .init(kinds: [.namespaces, .pods], backoff: Backoff(initial: .milliseconds(5), maximum: .milliseconds(50))))
        let task = Task { try await registry.run(into: mesh) }
        try await mesh.waitUntilReady()

        let p1 = podUID("shop", "p1")
        let p2 = podUID("shop", "p2")
        let p3 = podUID("shop", "p3")
        // Wait for the final watch to deliver p3's deletion.
        let deadline = ContinuousClock.now + .seconds(10)
        while (script.counts.withLock { $0["watch"] ?? 0 }) < 4 || mesh.workload(uid: p3) != nil {
            try await Task.sleep(for: .milliseconds(10))
            if ContinuousClock.now > deadline { break }
        }
        task.cancel()
        _ = await task.result
        server.stop()

        let events = await recorder.take(0)
        #expect(events.contains("+namespace shop"))
        // p1: listed, modified by the watch, changed again by the re-list (plus one more
        // update when the pod list lands before the namespace list enrols it in ambient).
        let p1Events = events.filter { $0.hasSuffix("p1") }
        #expect(p1Events.first == "+workload \(p1)")
        #expect(p1Events.dropFirst().allSatisfy { $0 == "~workload \(p1)" } && (3...4).contains(p1Events.count))
        #expect(events.filter { $0.hasSuffix("p2") } == ["+workload \(p2)", "-workload \(p2)"])
        #expect(events.filter { $0.hasSuffix("p3") } == ["+workload \(p3)", "-workload \(p3)"])
        #expect(mesh.workload(uid: p1)?.labels["app"] == "api")
        #expect(mesh.workload(uid: p1)?.tunnelProtocol == .hbone)
        #expect(mesh.workload(uid: p1)?.namedPorts == ["http": 8080])
        #expect(mesh.workload(uid: p2) == nil)

        let watches = server.requests.filter { $0.path == "/api/v1/pods" && $0.query["watch"] == "1" }
        #expect(watches.map { $0.query["resourceVersion"] } == ["100", "105", "200", "200"])
        #expect(watches.allSatisfy { $0.query["allowWatchBookmarks"] == "true" })
        let stats = registry.statistics
        #expect(stats.relists == 2)
        #expect(stats.bookmarks == 1)
        #expect(stats.watchFailures >= 1)
        #expect(stats.syncedKinds == ["Namespace", "Pod"])
    }

    @Test func unservedKindCountsAsSyncedAndBadTokenRetries() async throws {
        let server = try TestAPIServer { request in
            if request.path == "/api/v1/namespaces" && request.query["watch"] == nil {
                return .full(status: 200, body: list("NamespaceList", rv: "1", []))
            }
            if request.query["watch"] == "1" { return .hold(lines: []) }
            return .full(status: 404, body: #"{"kind":"Status","code":404,"reason":"NotFound"}"#)
        }
        defer { server.stop() }
        let mesh = MeshModel()
        let registry = KubernetesRegistry(
            connection: KubernetesConnection(scheme: "http", host: "127.0.0.1", port: server.port),
            options: .init(kinds: [.namespaces, .authorizationPolicies], backoff: Backoff(initial: .milliseconds(5), maximum: .milliseconds(50))))
        let task = Task { try await registry.run(into: mesh) }
        try await mesh.waitUntilReady()
        #expect(registry.statistics.syncedKinds == ["Namespace", "security.istio.io/AuthorizationPolicy"])
        task.cancel()
        _ = await task.result
    }

    @Test func kubeconfigAndInCluster() throws {
        let connection = try KubernetesConnection.kubeconfig(text: """
            apiVersion: v1
            kind: Config
            current-context: dev
            clusters:
            - name: c1
              cluster:
                server: https://10.0.0.1:6443
                certificate-authority-data: \(Data("PEM".utf8).base64EncodedString())
            contexts:
            - name: dev
              context: {cluster: c1, user: u1, namespace: shop}
            users:
            - name: u1
              user: {token: abc}
            """)
        #expect(connection.scheme == "https")
        #expect(connection.host == "10.0.0.1")
        #expect(connection.port == 6443)
        #expect(connection.token == "abc")
        #expect(connection.namespace == "shop")
        #expect(connection.certificateAuthorityPEM == Data("PEM".utf8))
        #expect(throws: KubernetesConnection.ConfigurationError.self) {
            try KubernetesConnection.kubeconfig(text: "apiVersion: v1\nkind: Config\ncurrent-context: nope\n")
        }

        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "tok\n".write(toFile: "\(dir)/token", atomically: true, encoding: .utf8)
        try "istio-system".write(toFile: "\(dir)/namespace", atomically: true, encoding: .utf8)
        let inCluster = try KubernetesConnection.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"], mountPath: dir)
        #expect(inCluster.token == "tok")
        #expect(inCluster.port == 443)
        #expect(inCluster.namespace == "istio-system")
    }
}
