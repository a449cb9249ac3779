/// Identifies an endpoint: a workload behind a service.
public struct EndpointKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var service: ServiceKey
    public var workloadUID: String

    public init(service: ServiceKey, workloadUID: String) {
        self.service = service
        self.workloadUID = workloadUID
    }

    public var description: String { "\(service) -> \(workloadUID)" }

    public static func < (a: Self, b: Self) -> Bool { (a.service, a.workloadUID) < (b.service, b.workloadUID) }
}

/// A workload serving a service, with the port mapping for that workload.
public struct MeshEndpoint: Sendable, Hashable, Identifiable {
    public var service: ServiceKey
    public var workloadUID: String
    /// Service port → the workload's target port. A service port whose named target port
    /// the workload does not declare is absent.
    public var ports: [Int: Int]

    public init(service: ServiceKey, workloadUID: String, ports: [Int: Int]) {
        self.service = service
        self.workloadUID = workloadUID
        self.ports = ports
    }

    public var key: EndpointKey { EndpointKey(service: service, workloadUID: workloadUID) }
    public var id: EndpointKey { key }
}
