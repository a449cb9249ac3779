/// Defaults and protocol values the model uses, in one place so they can be audited against
/// Istio's. Label and annotation names live in MeshAPI's `MeshLabels`.
public enum MeshConstants {
    /// Port on which a waypoint accepts HBONE.
    public static let waypointHBONEPort = 15008
    /// Label carrying the ReplicaSet hash on a Deployment's pods (stripped to get the
    /// Deployment's name from its ReplicaSet's).
    public static let podTemplateHashLabel = "pod-template-hash"

    /// Istio's default root namespace: policies there apply mesh-wide.
    public static let defaultRootNamespace = "istio-system"
    /// Default cluster ID (Istio's `CLUSTER_ID` default), the first part of workload UIDs.
    public static let defaultClusterID = "Kubernetes"
    /// Default trust domain and DNS domain suffix.
    public static let defaultTrustDomain = "cluster.local"
    /// Service account used when a pod or WorkloadEntry names none.
    public static let defaultServiceAccount = "default"

    /// Istio's `PILOT_DEBOUNCE_AFTER`: quiet period that ends a batch.
    public static let debounceAfter: Duration = .milliseconds(100)
    /// Istio's `PILOT_DEBOUNCE_MAX`: longest a batch is held back.
    public static let debounceMax: Duration = .seconds(10)
}
