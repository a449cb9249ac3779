import MeshAPI

/// A waypoint: a `Gateway` of class `istio-waypoint`.
public struct MeshWaypoint: Sendable, Hashable, Identifiable {
    public var name: String
    public var namespace: String
    public var trafficType: WaypointTrafficType
    /// The waypoint's service hostname, `name.ns.svc.cluster.local`.
    public var hostname: String
    /// Addresses of the waypoint's Service (same name as the Gateway), when it exists.
    public var addresses: [String]
    /// HBONE port, 15008.
    public var port: Int
    public var labels: [String: String]

    public var id: NamespacedName { NamespacedName(namespace: namespace, name: name) }

    public init(
        name: String, namespace: String, trafficType: WaypointTrafficType = .service, hostname: String,
        addresses: [String] = [], port: Int = MeshConstants.waypointHBONEPort, labels: [String: String] = [:]
    ) {
        self.name = name
        self.namespace = namespace
        self.trafficType = trafficType
        self.hostname = hostname
        self.addresses = addresses
        self.port = port
        self.labels = labels
    }
}

/// Where a waypoint binding was requested.
public enum WaypointBindingSource: String, Sendable, Hashable {
    /// `istio.io/use-waypoint` on the namespace.
    case namespace
    /// The label on the service, ServiceEntry, pod or WorkloadEntry itself.
    case resource
}

/// A waypoint binding that resolved to an existing waypoint: the `istio.workload.GatewayAddress` of the waypoint.
public struct ResolvedWaypoint: Sendable, Hashable {
    /// The waypoint Gateway.
    public var waypoint: NamespacedName
    /// The waypoint service's hostname.
    public var hostname: String
    /// The waypoint service's addresses, when known.
    public var addresses: [String]
    /// HBONE port, 15008.
    public var port: Int
    public var source: WaypointBindingSource

    public init(waypoint: NamespacedName, hostname: String, addresses: [String] = [], port: Int = MeshConstants.waypointHBONEPort, source: WaypointBindingSource) {
        self.waypoint = waypoint
        self.hostname = hostname
        self.addresses = addresses
        self.port = port
        self.source = source
    }
}
