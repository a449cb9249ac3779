/// Identifies a service in the model: `namespace/hostname`, the name ztunnel's WDS uses.
public struct ServiceKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var namespace: String
    public var hostname: String

    public init(namespace: String, hostname: String) {
        self.namespace = namespace
        self.hostname = hostname
    }

    public var description: String { "\(namespace)/\(hostname)" }

    public static func < (a: Self, b: Self) -> Bool { (a.namespace, a.hostname) < (b.namespace, b.hostname) }
}

/// A Kubernetes Service's `targetPort`: a number, or the name of a container port.
public enum TargetPort: Sendable, Hashable {
    case number(Int)
    case name(String)
}

/// One port of a service.
public struct ServicePort: Sendable, Hashable {
    public var name: String?
    /// The port clients connect to on the service's addresses.
    public var port: Int
    /// Where traffic goes on the workload.
    public var targetPort: TargetPort
    public var `protocol`: PortProtocol
    /// `appProtocol` as written, when given.
    public var appProtocol: String?

    public init(name: String? = nil, port: Int, targetPort: TargetPort? = nil, protocol: PortProtocol = .unspecified, appProtocol: String? = nil) {
        self.name = name
        self.port = port
        self.targetPort = targetPort ?? .number(port)
        self.protocol = `protocol`
        self.appProtocol = appProtocol
    }
}

/// Where a service in the model comes from.
public enum ServiceOrigin: Sendable, Hashable {
    /// A Kubernetes `Service`.
    case kubernetes
    /// One host of a `ServiceEntry` named here.
    case serviceEntry(name: String)
}

/// How a ServiceEntry's endpoints are resolved (Kubernetes services use `.static`-like
/// endpoints from their selector).
public enum ServiceResolution: String, Sendable, Hashable {
    case none = "NONE"
    case `static` = "STATIC"
    case dns = "DNS"
    case dnsRoundRobin = "DNS_ROUND_ROBIN"
    case dynamicDNS = "DYNAMIC_DNS"
}

/// A service: a hostname with virtual addresses and ports, backed by workloads.
public struct MeshService: Sendable, Hashable, Identifiable {
    /// The Service's (or ServiceEntry's) name.
    public var name: String
    public var namespace: String
    /// Fully qualified hostname, `name.ns.svc.cluster.local` for Kubernetes services.
    public var hostname: String
    /// Virtual IPs (cluster IPs, ServiceEntry `addresses`); empty for headless services.
    public var addresses: [String]
    public var ports: [ServicePort]
    /// Label selector choosing the workloads behind the service; nil when the service has
    /// none (its endpoints then come from EndpointSlices or ServiceEntry endpoints).
    public var selector: [String: String]?
    /// `clusterIP: None`.
    public var headless: Bool
    public var labels: [String: String]
    public var annotations: [String: String]
    /// The waypoint this service's traffic goes through, when one is bound and exists.
    public var waypoint: ResolvedWaypoint?
    public var origin: ServiceOrigin
    /// Kubernetes `spec.type` (`ClusterIP`, `NodePort`, `LoadBalancer`, `ExternalName`); nil for ServiceEntries.
    public var type: String?
    /// ServiceEntry `resolution`; nil for Kubernetes services.
    public var resolution: ServiceResolution?
    /// ServiceEntry `location` is `MESH_EXTERNAL`.
    public var meshExternal: Bool
    /// ServiceEntry `subjectAltNames`.
    public var subjectAltNames: [String]

    public var key: ServiceKey { ServiceKey(namespace: namespace, hostname: hostname) }
    public var id: ServiceKey { key }

    public init(
        name: String, namespace: String, hostname: String, addresses: [String] = [], ports: [ServicePort] = [],
        selector: [String: String]? = nil, headless: Bool = false, labels: [String: String] = [:],
        annotations: [String: String] = [:], waypoint: ResolvedWaypoint? = nil, origin: ServiceOrigin = .kubernetes,
        type: String? = nil, resolution: ServiceResolution? = nil, meshExternal: Bool = false,
        subjectAltNames: [String] = []
    ) {
        self.name = name
        self.namespace = namespace
        self.hostname = hostname
        self.addresses = addresses
        self.ports = ports
        self.selector = selector
        self.headless = headless
        self.labels = labels
        self.annotations = annotations
        self.waypoint = waypoint
        self.origin = origin
        self.type = type
        self.resolution = resolution
        self.meshExternal = meshExternal
        self.subjectAltNames = subjectAltNames
    }

    /// The port with this number, if any.
    public func port(_ number: Int) -> ServicePort? { ports.first { $0.port == number } }
}
