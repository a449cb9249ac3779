/// The tunnel a workload accepts (`istio.workload.TunnelProtocol`).
public enum TunnelProtocol: String, Sendable, Hashable {
    /// Plain traffic: the workload is not captured by ztunnel.
    case none = "NONE"
    /// HTTP/2 CONNECT over mTLS on port 15008: the workload is in ambient mode.
    case hbone = "HBONE"
}

/// Health of a workload (`istio.workload.WorkloadStatus`).
public enum WorkloadStatus: String, Sendable, Hashable {
    case healthy = "HEALTHY"
    case unhealthy = "UNHEALTHY"
}

/// What kind of controller runs a workload (`istio.workload.WorkloadType`).
public enum WorkloadType: String, Sendable, Hashable {
    case deployment = "DEPLOYMENT"
    case cronJob = "CRONJOB"
    case pod = "POD"
    case job = "JOB"
}

/// Where a workload in the model comes from.
public enum WorkloadOrigin: Sendable, Hashable {
    /// A Kubernetes `Pod`.
    case pod(NamespacedName)
    /// A `WorkloadEntry`.
    case workloadEntry(NamespacedName)
    /// An inline endpoint of the `ServiceEntry` named here.
    case serviceEntry(NamespacedName)
}

/// A workload: a pod, a WorkloadEntry, or a ServiceEntry endpoint.
public struct MeshWorkload: Sendable, Hashable, Identifiable {
    /// Unique ID, as istiod names it: `cluster//v1/Pod/ns/name`,
    /// `cluster/networking.istio.io/WorkloadEntry/ns/name`,
    /// `cluster/networking.istio.io/ServiceEntry/ns/name/address`.
    public var uid: String
    public var name: String
    public var namespace: String
    /// IP addresses (textual); empty when ``hostname`` is used instead.
    public var addresses: [String]
    /// DNS name to resolve instead of addresses (WorkloadEntry with an FQDN address).
    public var hostname: String?
    public var network: String
    public var clusterID: String
    public var trustDomain: String
    public var serviceAccount: String
    /// Node the workload runs on (`spec.nodeName`).
    public var node: String?
    /// The node's address (`status.hostIP`).
    public var nodeAddress: String?
    public var labels: [String: String]
    public var canonicalName: String
    public var canonicalRevision: String
    /// The controller's name (a Deployment's name for its pods).
    public var workloadName: String
    public var workloadType: WorkloadType
    public var status: WorkloadStatus
    public var tunnelProtocol: TunnelProtocol
    /// The waypoint for traffic addressed to this workload directly, when one is bound and exists.
    public var waypoint: ResolvedWaypoint?
    /// The pod uses the host's network.
    public var hostNetwork: Bool
    /// Named ports: container ports for pods, `ports` for WorkloadEntries.
    public var namedPorts: [String: Int]
    /// Named ports override a service's `targetPort` (true for WorkloadEntries and
    /// ServiceEntry endpoints, whose `ports` map takes precedence).
    public var namedPortsOverrideTarget: Bool
    /// `region/zone/subzone`, when known.
    public var locality: String?
    /// How inbound connections are handed to the application (nil: plain TCP).
    public var applicationTunnel: ApplicationTunnel?
    public var origin: WorkloadOrigin

    /// An application tunnel (`Workload.application_tunnel`).
    public struct ApplicationTunnel: Hashable, Sendable, Codable {
        /// Only PROXY (v2) exists.
        public var proxyProtocol: Bool
        /// Port to deliver to instead of the requested one (0: the requested port).
        public var port: Int

        /// Parses `PROXY` or `PROXY/<port>`; nil for anything else.
        public init?(annotation: String) {
            let parts = annotation.split(separator: "/", maxSplits: 1).map(String.init)
            guard parts.first == "PROXY" else { return nil }
            if parts.count == 2 {
                guard let port = Int(parts[1]), (1...65535).contains(port) else { return nil }
                self.port = port
            } else {
                self.port = 0
            }
            proxyProtocol = true
        }
    }

    public var id: String { uid }

    /// `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`.
    public var spiffeID: String { "spiffe://\(trustDomain)/ns/\(namespace)/sa/\(serviceAccount)" }

    public init(
        uid: String, name: String, namespace: String, addresses: [String] = [], hostname: String? = nil,
        network: String = "", clusterID: String = MeshConstants.defaultClusterID,
        trustDomain: String = MeshConstants.defaultTrustDomain,
        serviceAccount: String = MeshConstants.defaultServiceAccount, node: String? = nil, nodeAddress: String? = nil,
        labels: [String: String] = [:], canonicalName: String = "", canonicalRevision: String = "latest",
        workloadName: String = "", workloadType: WorkloadType = .pod, status: WorkloadStatus = .healthy,
        tunnelProtocol: TunnelProtocol = .none, waypoint: ResolvedWaypoint? = nil, hostNetwork: Bool = false,
        namedPorts: [String: Int] = [:], namedPortsOverrideTarget: Bool = false, locality: String? = nil,
        applicationTunnel: ApplicationTunnel? = nil, origin: WorkloadOrigin
    ) {
        self.uid = uid
        self.name = name
        self.namespace = namespace
        self.addresses = addresses
        self.hostname = hostname
        self.network = network
        self.clusterID = clusterID
        self.trustDomain = trustDomain
        self.serviceAccount = serviceAccount
        self.node = node
        self.nodeAddress = nodeAddress
        self.labels = labels
        self.canonicalName = canonicalName
        self.canonicalRevision = canonicalRevision
        self.workloadName = workloadName
        self.workloadType = workloadType
        self.status = status
        self.tunnelProtocol = tunnelProtocol
        self.waypoint = waypoint
        self.hostNetwork = hostNetwork
        self.namedPorts = namedPorts
        self.namedPortsOverrideTarget = namedPortsOverrideTarget
        self.locality = locality
        self.applicationTunnel = applicationTunnel
        self.origin = origin
    }
}
