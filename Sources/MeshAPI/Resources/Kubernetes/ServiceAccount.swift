/// Kubernetes core `ServiceAccount`. In the mesh a service account is a workload identity:
/// `spiffe://<trust domain>/ns/<namespace>/sa/<name>`.
///
/// A ServiceAccount has no `spec`; its few fields sit at the top level.
public struct ServiceAccount: MeshResource {
    public static let apiGroup = ""
    public static let kind = "ServiceAccount"
    public static let apiVersions = ["v1"]

    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    /// Secrets pods running as this account may use (legacy token secrets).
    public var secrets: [Kubernetes.ObjectReference]?
    public var imagePullSecrets: [Kubernetes.LocalObjectReference]?
    public var automountServiceAccountToken: Bool?

    public init(
        apiVersion: String = "v1", kind: String = "ServiceAccount", metadata: ObjectMeta = ObjectMeta(),
        secrets: [Kubernetes.ObjectReference]? = nil, imagePullSecrets: [Kubernetes.LocalObjectReference]? = nil,
        automountServiceAccountToken: Bool? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.secrets = secrets
        self.imagePullSecrets = imagePullSecrets
        self.automountServiceAccountToken = automountServiceAccountToken
    }

    public func validate(into context: inout ValidationContext) {}
}
