import MeshProto
import MeshXDS

/// Many delta xDS clients, each on its own gRPC connection, subscribed by wildcard to CDS, EDS
/// and LDS, as the benchmark's load.
public enum LoadClients {
    /// The types every client subscribes to.
    public static let types = [TypeURL.cluster, TypeURL.endpoint, TypeURL.listener]

    /// Which client the load is made of.
    public enum Variant: String, Sendable, CaseIterable {
        /// ``WireDeltaClient``: the protocol without unpacking resources (as Istio's pilot-load),
        /// on SwiftNIO's HTTP/2 without a gRPC library (the default).
        case wire
        /// ``LeanDeltaClient``: the same protocol on grpc-swift.
        case lean
        /// ``XDSClient``: what proxies use; decodes and keeps every resource.
        case full
    }

    /// Connects `count` clients to `host:port` and keeps them running until the task is cancelled.
    public static func run(host: String = "127.0.0.1", port: Int, count: Int, variant: Variant = .wire) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<count {
                let node = IstioNode.make(
                    type: "sidecar", ip: "10.0.\(i / 250).\(i % 250)", podName: "pod-\(i)", namespace: "bench")
                switch variant {
                case .lean:
                    group.addTask { try await LeanDeltaClient.run(host: host, port: port, node: node, types: types) }
                case .wire:
                    group.addTask { try await WireDeltaClient.run(host: host, port: port, node: node, types: types) }
                case .full:
                    let client = XDSClient(configuration: XDSClientConfiguration(host: host, port: port, node: node))
                    for type in types {
                        // The client keeps the whole state; the handler accepts every update.
                        await client.subscribe(typeURL: type) { _ in }
                    }
                    group.addTask { try await client.run() }
                }
            }
            try await group.waitForAll()
        }
    }
}
