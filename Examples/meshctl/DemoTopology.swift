import Foundation
import MeshAPI

/// What the demo manifests describe: nodes (loopback addresses), app pods with ports, client
/// pods, services, and the calls the demo makes.
struct DemoTopology {
    struct Node: Hashable {
        var name: String
        var ip: String
    }

    struct PodInfo: Hashable {
        var name: String
        var namespace: String
        var serviceAccount: String
        var node: String
        var ip: String
        var ports: [Int]
        var spiffeID: String { "spiffe://cluster.local/ns/\(namespace)/sa/\(serviceAccount)" }
    }

    struct Target: Hashable {
        var label: String
        var ip: String
        var port: Int
    }

    let directory: URL
    /// Top-level manifest files (copied into istiod's config directory; `steps/` is not).
    let files: [URL]
    let nodes: [Node]
    let apps: [PodInfo]
    let clients: [PodInfo]
    let targets: [Target]
    let policyNames: [String]

    init(manifests directory: URL) throws {
        self.directory = directory
        let entries = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        files = entries.filter { ["yaml", "yml", "json"].contains($0.pathExtension) }.sorted { $0.path < $1.path }
        var result = LoadResult()
        let loader = ManifestLoader()
        for file in files {
            let loaded = try loader.load(path: file.path)
            result.resources += loaded.resources
            result.diagnostics += loaded.diagnostics
        }
        if result.hasErrors {
            throw DemoError("the demo manifests have errors:\n" + result.errors.map { "  \($0)" }.joined(separator: "\n"))
        }
        var nodes: [String: String] = [:]
        var apps: [PodInfo] = []
        var clients: [PodInfo] = []
        for pod in result.all(Pod.self) {
            guard let name = pod.metadata.name, let node = pod.spec?.nodeName, let ip = pod.status?.podIP,
                let hostIP = pod.status?.hostIP
            else { throw DemoError("pod \(pod.metadata.name ?? "?") needs spec.nodeName, status.podIP and status.hostIP") }
            nodes[node] = hostIP
            let ports = (pod.spec?.containers ?? []).flatMap { ($0.ports ?? []).map(\.containerPort) }
            let info = PodInfo(
                name: name, namespace: pod.metadata.namespace ?? "default",
                serviceAccount: pod.spec?.serviceAccountName ?? "default", node: node, ip: ip, ports: ports)
            if ports.isEmpty { clients.append(info) } else { apps.append(info) }
        }
        self.nodes = nodes.map { Node(name: $0.key, ip: $0.value) }.sorted { $0.name < $1.name }
        self.apps = apps.sorted { $0.name < $1.name }
        self.clients = clients.sorted { $0.name < $1.name }
        var targets: [Target] = []
        for service in result.all(Service.self) {
            guard let ip = service.spec?.clusterIP, ip != "None", let name = service.metadata.name else { continue }
            for port in service.spec?.ports ?? [] {
                targets.append(Target(label: "\(name).\(service.metadata.namespace ?? "default")", ip: ip, port: port.port))
            }
        }
        for app in self.apps {
            for port in app.ports { targets.append(Target(label: "pod \(app.name)", ip: app.ip, port: port)) }
        }
        self.targets = targets
        policyNames = result.all(PeerAuthentication.self).map { "\($0.metadata.namespace ?? "")/\($0.metadata.name ?? "") mTLS \($0.spec?.mtls?.mode.map { "\($0)" } ?? "UNSET")" }
            + result.all(AuthorizationPolicy.self).map { "\($0.metadata.namespace ?? "")/\($0.metadata.name ?? "")" }
        if self.clients.isEmpty || targets.isEmpty { throw DemoError("the demo needs a client pod (no ports) and an app pod or service") }
    }

    func node(of pod: PodInfo) -> Node? { nodes.first { $0.name == pod.node } }
    func app(named name: String) -> PodInfo? { apps.first { $0.name == name } }
}

struct DemoError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
