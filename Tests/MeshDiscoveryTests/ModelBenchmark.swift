import Foundation
import MeshAPI

@testable import MeshDiscovery

/// The benchmark: build the model from 1,000 services and 10,000 pods, then apply
/// 1,000 pod updates one by one, timing each from the call to the delivery of its event.
enum ModelBenchmark {
    struct Result: CustomStringConvertible {
        var build: Duration
        var buildRSSBytes: Int
        var updateMedian: Duration
        var updateP99: Duration
        var updates: Int
        var workloads: Int
        var endpoints: Int

        var description: String {
            "build \(build) (RSS +\(buildRSSBytes / 1_048_576) MiB, \(workloads) workloads, \(endpoints) endpoints); "
                + "\(updates) updates: median \(updateMedian), p99 \(updateP99)"
        }
    }

    static func rss() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }

    static func pod(ns: Int, service: Int, replica: Int, revision: Int = 0) -> AnyResource {
        let i = (ns * 100 + service) * 10 + replica
        var meta = ObjectMeta(
            name: "svc-\(service)-\(replica)", namespace: "ns-\(ns)",
            labels: ["app": "svc-\(service)", "version": "v1", "pod-template-hash": "abc", "rev": "\(revision)"])
        meta.ownerReferences = [.object([("kind", .string("ReplicaSet")), ("name", .string("svc-\(service)-abc")), ("controller", .bool(true))])]
        return .pod(Pod(
            metadata: meta,
            spec: Pod.Spec(
                containers: [Pod.Container(name: "app", ports: [Pod.ContainerPort(name: "http", containerPort: 8080)])],
                serviceAccountName: "svc-\(service)", nodeName: "node-\(i % 50)"),
            status: Pod.Status(
                phase: .Running, conditions: [Kubernetes.Condition(type: "Ready", status: "True")], hostIP: "127.0.0.\(i % 50 + 2)",
                podIP: "10.\(i / 65536).\(i / 256 % 256).\(i % 256)")))
    }

    static func service(ns: Int, service: Int) -> AnyResource {
        let i = ns * 100 + service
        return .service(Service(
            metadata: ObjectMeta(name: "svc-\(service)", namespace: "ns-\(ns)"),
            spec: Service.Spec(
                ports: [Service.Port(name: "http", port: 80, targetPort: .string("http")), Service.Port(name: "grpc", port: 9000)],
                selector: ["app": "svc-\(service)"], clusterIP: "10.96.\(i / 256).\(i % 256)")))
    }

    static func run() async -> Result {
        var resources: [AnyResource] = []
        for ns in 0..<10 {
            resources.append(.namespace(Namespace(metadata: ObjectMeta(name: "ns-\(ns)", labels: ["istio.io/dataplane-mode": "ambient"]))))
            for s in 0..<100 {
                resources.append(service(ns: ns, service: s))
                for r in 0..<10 { resources.append(pod(ns: ns, service: s, replica: r)) }
            }
        }
        let mesh = MeshModel()
        let clock = ContinuousClock()
        let rssBefore = rss()
        let build = clock.measure { mesh.apply(resources.map(ResourceChange.upsert)) }
        let rssAfter = rss()
        let (workloads, endpoints) = mesh.read { ($0.workloads.count, $0.endpoints.values.reduce(0) { $0 + $1.count }) }

        var iterator = mesh.events().makeAsyncIterator()
        var samples: [Duration] = []
        for u in 0..<1_000 {
            let updated = pod(ns: u % 10, service: u % 100, replica: u % 10, revision: u + 1)
            let start = clock.now
            mesh.upsert(updated)
            _ = await iterator.next()
            samples.append(clock.now - start)
        }
        samples.sort()
        return Result(
            build: build, buildRSSBytes: rssAfter - rssBefore, updateMedian: samples[samples.count / 2],
            updateP99: samples[samples.count * 99 / 100], updates: samples.count, workloads: workloads, endpoints: endpoints)
    }
}
