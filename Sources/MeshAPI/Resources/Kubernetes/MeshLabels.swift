/// The labels and annotations Istio's ambient mesh reads from Kubernetes objects, in one
/// place so they can be audited against Istio (`istio.io/api` `label` and `annotation`
/// packages, `pkg/config/constants`).
public enum MeshLabels {
    // MARK: Ambient enrollment

    /// `istio.io/dataplane-mode` on a namespace or pod: `ambient` enrolls its pods in the
    /// ambient mesh, `none` (on a pod) opts the pod out.
    public static let dataplaneMode = "istio.io/dataplane-mode"
    /// The `ambient` value of ``dataplaneMode``.
    public static let dataplaneModeAmbient = "ambient"
    /// The `none` value of ``dataplaneMode``.
    public static let dataplaneModeNone = "none"

    /// `ambient.istio.io/redirection` annotation the CNI writes on a pod: `enabled` once its
    /// traffic is redirected to ztunnel, `pending` while being set up.
    public static let ambientRedirection = "ambient.istio.io/redirection"
    /// `sidecar.istio.io/status` annotation: present on pods with an injected sidecar,
    /// which ambient never captures.
    public static let sidecarStatus = "sidecar.istio.io/status"
    /// Pod annotation asking ztunnel to deliver inbound connections through an application
    /// tunnel: `PROXY` (a PROXY v2 header carrying the peer's SPIFFE id, TLV 0xD0) or
    /// `PROXY/<port>`. Istio sets `Workload.application_tunnel` only for waypoint pods (from
    /// `ambient.istio.io/waypoint-inbound-binding` on their GatewayClass); SwiftMesh also reads
    /// this annotation on any pod so an application can learn its caller's mesh identity.
    public static let applicationTunnel = "ambient.swiftmesh.dev/application-tunnel"
    /// `istio-injection` namespace label (sidecar injection, `enabled`).
    public static let istioInjection = "istio-injection"
    /// `istio.io/rev` label (revision-based sidecar injection).
    public static let istioRevision = "istio.io/rev"

    // MARK: Waypoints

    /// `istio.io/use-waypoint` on a namespace, service or workload: the name of the waypoint
    /// Gateway its traffic goes through, or `none`.
    public static let useWaypoint = "istio.io/use-waypoint"
    /// `istio.io/use-waypoint-namespace`: the namespace of the ``useWaypoint`` Gateway when it
    /// is not the object's own.
    public static let useWaypointNamespace = "istio.io/use-waypoint-namespace"
    /// The value of ``useWaypoint`` that opts out of a namespace's waypoint.
    public static let noWaypoint = "none"
    /// `istio.io/waypoint-for` on a waypoint Gateway (or its GatewayClass): which traffic it
    /// handles, `service` (the default), `workload`, `all` or `none`.
    public static let waypointFor = "istio.io/waypoint-for"
    /// `gateway.networking.k8s.io/gateway-name` on the pods of a Gateway's deployment.
    public static let gatewayName = "gateway.networking.k8s.io/gateway-name"

    // MARK: Workload identity and telemetry

    /// `service.istio.io/canonical-name`: the canonical service of a workload.
    public static let canonicalName = "service.istio.io/canonical-name"
    /// `service.istio.io/canonical-revision`: the canonical revision of a workload.
    public static let canonicalRevision = "service.istio.io/canonical-revision"
    /// `app.kubernetes.io/name`, the second choice for the canonical name.
    public static let kubernetesAppName = "app.kubernetes.io/name"
    /// `app.kubernetes.io/version`, the second choice for the canonical revision.
    public static let kubernetesAppVersion = "app.kubernetes.io/version"
    /// `app`, the last label choice for the canonical name.
    public static let app = "app"
    /// `version`, the last label choice for the canonical revision.
    public static let version = "version"

    // MARK: Topology

    /// `topology.istio.io/network`: the network of a pod, namespace or the system namespace.
    public static let network = "topology.istio.io/network"
    /// `topology.kubernetes.io/region` on nodes.
    public static let region = "topology.kubernetes.io/region"
    /// `topology.kubernetes.io/zone` on nodes.
    public static let zone = "topology.kubernetes.io/zone"

    // MARK: Kubernetes

    /// `kubernetes.io/service-name` on an EndpointSlice: the Service it belongs to.
    public static let serviceName = "kubernetes.io/service-name"
    /// `endpointslice.kubernetes.io/managed-by` on an EndpointSlice.
    public static let endpointSliceManagedBy = "endpointslice.kubernetes.io/managed-by"

    // MARK: Derived values

    /// The canonical service name and revision of a workload, as Istio derives them
    /// (`pkg/kube/labels.CanonicalService`): the name from `service.istio.io/canonical-name`,
    /// `app.kubernetes.io/name`, `app`, else `workloadName`; the revision from
    /// `service.istio.io/canonical-revision`, `app.kubernetes.io/version`, `version`, else
    /// `latest`.
    public static func canonicalService(labels: [String: String]?, workloadName: String) -> (name: String, revision: String) {
        let labels = labels ?? [:]
        let name = [canonicalName, kubernetesAppName, app].lazy.compactMap { labels[$0] }.first ?? workloadName
        let revision = [canonicalRevision, kubernetesAppVersion, version].lazy.compactMap { labels[$0] }.first ?? "latest"
        return (name, revision)
    }

    /// The waypoint binding the labels declare: nil when there is no `istio.io/use-waypoint`
    /// label (the object inherits its namespace's), ``WaypointBinding/optedOut`` for `none`.
    /// `namespace` is the object's own, used when `istio.io/use-waypoint-namespace` is absent.
    public static func waypointBinding(labels: [String: String]?, namespace: String?) -> WaypointBinding? {
        guard let name = labels?[useWaypoint] else { return nil }
        if name == noWaypoint { return .optedOut }
        return .waypoint(name: name, namespace: labels?[useWaypointNamespace] ?? namespace)
    }
}

/// The value of `istio.io/dataplane-mode`.
public enum DataplaneMode: String, Sendable, Hashable, CaseIterable {
    /// `ambient`: enrolled in the ambient mesh (traffic captured by ztunnel).
    case ambient
    /// `none`: explicitly out of the ambient mesh.
    case disabled = "none"
}

/// What an `istio.io/use-waypoint` label says.
public enum WaypointBinding: Sendable, Hashable {
    /// Traffic goes through the named waypoint Gateway (`namespace` nil when unknown).
    case waypoint(name: String, namespace: String?)
    /// `none`: no waypoint, even if the namespace has one.
    case optedOut
}

/// The traffic a waypoint handles: the value of `istio.io/waypoint-for`.
public enum WaypointTrafficType: String, Sendable, Hashable, CaseIterable {
    /// Traffic addressed to services (Istio's default).
    case service
    /// Traffic addressed directly to workloads (pod IPs).
    case workload
    /// Both.
    case all
    /// `none`: neither; the waypoint is deployed but receives no mesh traffic.
    case noTraffic = "none"

    /// Whether the waypoint takes traffic sent to a service.
    public var handlesServiceTraffic: Bool { self == .service || self == .all }
    /// Whether the waypoint takes traffic sent to a workload.
    public var handlesWorkloadTraffic: Bool { self == .workload || self == .all }
}
