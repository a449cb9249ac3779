import Foundation
import MeshAPI
import Testing

@testable import MeshDiscovery

/// Loads manifests, failing the test on any error.
func resources(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> [AnyResource] {
    let result = ManifestLoader().load(text: yaml, file: "test.yaml")
    #expect(result.errors.isEmpty, "\(result.errors)", sourceLocation: sourceLocation)
    return result.resources.map(\.resource)
}

/// A model fed from manifests.
func model(_ yaml: String, options: MeshModelOptions = MeshModelOptions(), sourceLocation: SourceLocation = #_sourceLocation) -> MeshModel {
    let m = MeshModel(options: options)
    m.apply(resources(yaml, sourceLocation: sourceLocation).map(ResourceChange.upsert))
    return m
}

func podUID(_ ns: String, _ name: String) -> String { "Kubernetes//v1/Pod/\(ns)/\(name)" }

func host(_ name: String, _ ns: String) -> ServiceKey { ServiceKey(namespace: ns, hostname: "\(name).\(ns).svc.cluster.local") }

/// YAML for a namespace.
func namespaceYAML(_ name: String, labels: [String: String] = [:]) -> String {
    """
    apiVersion: v1
    kind: Namespace
    metadata:
      name: \(name)
    \(labelsYAML(labels, indent: 2))
    ---

    """
}

func labelsYAML(_ labels: [String: String], indent: Int) -> String {
    guard !labels.isEmpty else { return "" }
    let pad = String(repeating: " ", count: indent)
    return "\(pad)labels:\n" + labels.sorted { $0.key < $1.key }.map { "\(pad)  \($0.key): \"\($0.value)\"" }.joined(separator: "\n")
}

/// YAML for a running pod.
func podYAML(
    _ name: String, ns: String, ip: String, node: String = "node-1", labels: [String: String] = [:], ready: Bool = true,
    serviceAccount: String = "default", containerPorts: [(String, Int)] = []
) -> String {
    let ports = containerPorts.isEmpty ? "" : "\n    ports:\n" + containerPorts.map { "    - name: \($0.0)\n      containerPort: \($0.1)" }.joined(separator: "\n")
    return """
    apiVersion: v1
    kind: Pod
    metadata:
      name: \(name)
      namespace: \(ns)
    \(labelsYAML(labels, indent: 2))
    spec:
      serviceAccountName: \(serviceAccount)
      nodeName: \(node)
      containers:
      - name: app
        image: app:1\(ports)
    status:
      phase: Running
      podIP: \(ip)
      hostIP: 10.0.0.1
      conditions:
      - type: Ready
        status: "\(ready ? "True" : "False")"
    ---

    """
}

/// YAML for a ClusterIP service.
func serviceYAML(_ name: String, ns: String, ip: String?, selector: [String: String], ports: String = "  - name: http\n    port: 80\n    targetPort: 8080", labels: [String: String] = [:]) -> String {
    """
    apiVersion: v1
    kind: Service
    metadata:
      name: \(name)
      namespace: \(ns)
    \(labelsYAML(labels, indent: 2))
    spec:
      clusterIP: \(ip ?? "None")
      selector:
    \(selector.sorted { $0.key < $1.key }.map { "    \($0.key): \($0.value)" }.joined(separator: "\n"))
      ports:
    \(ports)
    ---

    """
}

/// Collects events from a stream until `count` have arrived or `timeout` passes.
func collect(_ stream: AsyncStream<MeshEvent>, count: Int, timeout: Duration = .seconds(5)) async -> [MeshEvent] {
    await withTaskGroup(of: [MeshEvent].self) { group in
        group.addTask {
            var out: [MeshEvent] = []
            for await e in stream {
                out.append(e)
                if out.count >= count { break }
            }
            return out
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return []
        }
        let first = await group.next()!
        group.cancelAll()
        if first.isEmpty, let second = await group.next() { return second }
        return first
    }
}

/// Makes a fresh temporary directory, removed by the returned cleanup.
func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "mesh-discovery-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A compact description of an event, for exact-sequence assertions.
func describe(_ event: MeshEvent) -> String {
    func verb<V>(_ c: Change<V>) -> String {
        switch c {
        case .added: return "+"
        case .updated: return "~"
        case .removed: return "-"
        }
    }
    switch event {
    case .namespace(let c): return "\(verb(c))namespace \((c.after ?? c.before)!.name)"
    case .service(let c): return "\(verb(c))service \((c.after ?? c.before)!.key)"
    case .workload(let c): return "\(verb(c))workload \((c.after ?? c.before)!.uid)"
    case .endpoint(let c): return "\(verb(c))endpoint \((c.after ?? c.before)!.key)"
    case .waypoint(let c): return "\(verb(c))waypoint \((c.after ?? c.before)!.id)"
    case .policy(let c): return "\(verb(c))policy \((c.after ?? c.before)!.key)"
    }
}
