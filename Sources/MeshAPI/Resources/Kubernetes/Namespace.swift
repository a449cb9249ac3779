/// Kubernetes core `Namespace`. The mesh reads its labels: `istio.io/dataplane-mode`
/// enrolls every pod in ambient, `istio.io/use-waypoint` names the namespace's waypoint.
public struct Namespace: MeshResource {
    public static let apiGroup = ""
    public static let kind = "Namespace"
    public static let apiVersions = ["v1"]

    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    /// `NamespaceSpec`.
    public struct Spec: Codable, Sendable, Hashable {
        public var finalizers: [String]?

        public init(finalizers: [String]? = nil) { self.finalizers = finalizers }
    }

    /// `NamespaceStatus`.
    public struct Status: Codable, Sendable, Hashable {
        /// `Active` or `Terminating`.
        public var phase: String?
        public var conditions: [Kubernetes.Condition]?

        public init(phase: String? = nil, conditions: [Kubernetes.Condition]? = nil) {
            self.phase = phase
            self.conditions = conditions
        }
    }

    public init(
        apiVersion: String = "v1", kind: String = "Namespace", metadata: ObjectMeta = ObjectMeta(), spec: Spec? = nil,
        status: Status? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// The `istio.io/dataplane-mode` label, when it has a value Istio knows.
    public var dataplaneMode: DataplaneMode? {
        metadata.label(MeshLabels.dataplaneMode).flatMap(DataplaneMode.init(rawValue:))
    }

    /// Whether the namespace is labelled `istio.io/dataplane-mode: ambient`, which enrolls its
    /// pods in the ambient mesh (each pod may still opt out, see ``Pod/isAmbient(namespace:)``).
    public var isAmbient: Bool { dataplaneMode == .ambient }

    /// The waypoint the namespace's `istio.io/use-waypoint` label names, nil when unlabelled.
    public var useWaypoint: WaypointBinding? {
        MeshLabels.waypointBinding(labels: metadata.labels, namespace: metadata.name)
    }

    /// The network (`topology.istio.io/network`) of the namespace's workloads, when labelled.
    public var network: String? { metadata.label(MeshLabels.network) }

    public func validate(into context: inout ValidationContext) {
        if let name = metadata.name, Rules.isDNS1123Subdomain(name), !Rules.isDNS1123Label(name) {
            context.error(FieldPath.root("metadata")("name"),
                "namespace name \"\(name)\" must be a lowercase RFC 1123 label: letters, digits and '-', no dots, at most 63 characters")
        }
        KubernetesRules.validateMeshLabels(metadata, into: &context)
    }
}
