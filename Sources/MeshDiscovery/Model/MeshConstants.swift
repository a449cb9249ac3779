/// Label, annotation and default values the model reads, in one place so they can be
/// audited against Istio's.
public enum MeshConstants {
    /// Namespace or pod label enrolling workloads in ambient mode (`ambient`) or, on a pod,
    /// opting it out (`none`).
    public static let dataplaneModeLabel = "istio.io/dataplane-mode"
    /// Value of ``dataplaneModeLabel`` that enrols workloads in ambient mode.
    public static let dataplaneModeAmbient = "ambient"
    /// Value of ``dataplaneModeLabel`` that opts a workload out of ambient mode.
    public static let dataplaneModeNone = "none"
    /// Annotation the Istio CNI sets on a pod whose traffic it redirects to ztunnel.
    public static let ambientRedirectionAnnotation = "ambient.istio.io/redirection"
    /// Annotation the sidecar injector sets; such pods are not captured by ztunnel.
    public static let sidecarStatusAnnotation = "sidecar.istio.io/status"

    /// Label naming the waypoint (a `Gateway` name) a namespace, service or workload uses;
    /// the value `none` opts a service or workload out of its namespace's waypoint.
    public static let useWaypointLabel = "istio.io/use-waypoint"
    /// Label naming the namespace of the waypoint in ``useWaypointLabel`` (default: the
    /// labelled resource's own namespace).
    public static let useWaypointNamespaceLabel = "istio.io/use-waypoint-namespace"
    /// Gateway label saying what traffic a waypoint handles: `service` (default),
    /// `workload`, `all` or `none`.
    public static let waypointForLabel = "istio.io/waypoint-for"
    /// `gatewayClassName` of waypoints.
    public static let waypointGatewayClass = "istio-waypoint"
    /// Label the Gateway API puts on the pods of a gateway deployment.
    public static let gatewayNameLabel = "gateway.networking.k8s.io/gateway-name"
    /// Port on which a waypoint accepts HBONE.
    public static let waypointHBONEPort = 15008

    /// Canonical service name label (highest precedence).
    public static let canonicalNameLabel = "service.istio.io/canonical-name"
    /// Canonical revision label (highest precedence).
    public static let canonicalRevisionLabel = "service.istio.io/canonical-revision"
    /// Labels consulted, in order, for the canonical name after ``canonicalNameLabel``.
    public static let canonicalNameFallbacks = ["app.kubernetes.io/name", "app"]
    /// Labels consulted, in order, for the canonical revision after ``canonicalRevisionLabel``.
    public static let canonicalRevisionFallbacks = ["app.kubernetes.io/version", "version"]
    /// Canonical revision when no label gives one.
    public static let defaultCanonicalRevision = "latest"

    /// Label naming a workload's (or namespace's) network.
    public static let networkLabel = "topology.istio.io/network"
    /// Label carrying the ReplicaSet hash on a Deployment's pods.
    public static let podTemplateHashLabel = "pod-template-hash"
    /// Label linking an EndpointSlice to its Service.
    public static let endpointSliceServiceLabel = "kubernetes.io/service-name"

    /// Istio's default root namespace: policies there apply mesh-wide.
    public static let defaultRootNamespace = "istio-system"
    /// Default cluster ID (Istio's `CLUSTER_ID` default).
    public static let defaultClusterID = "Kubernetes"
    /// Default trust domain and DNS domain suffix.
    public static let defaultTrustDomain = "cluster.local"
    /// Service account used when a pod names none.
    public static let defaultServiceAccount = "default"

    /// Istio's `PILOT_DEBOUNCE_AFTER`: quiet period that ends a batch.
    public static let debounceAfter: Duration = .milliseconds(100)
    /// Istio's `PILOT_DEBOUNCE_MAX`: longest a batch is held back.
    public static let debounceMax: Duration = .seconds(10)
}
