/// A kind the Kubernetes registry lists and watches.
public struct KubernetesKind: Sendable, Hashable, CustomStringConvertible {
    /// API group; empty for the core group.
    public var group: String
    public var version: String
    /// Lower-case plural used in URLs, e.g. `authorizationpolicies`.
    public var resource: String
    public var kind: String

    public init(group: String, version: String, resource: String, kind: String) {
        self.group = group
        self.version = version
        self.resource = resource
        self.kind = kind
    }

    /// `group/version`, or `version` for the core group.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// `group/kind` as ``ResourceKey/groupKind`` spells it.
    public var groupKind: String { group.isEmpty ? kind : "\(group)/\(kind)" }
    /// The collection path across all namespaces: `/api/v1/pods`, `/apis/group/version/resource`.
    public var path: String { group.isEmpty ? "/api/\(version)/\(resource)" : "/apis/\(group)/\(version)/\(resource)" }

    public var description: String { "\(apiVersion) \(kind)" }

    public static let namespaces = KubernetesKind(group: "", version: "v1", resource: "namespaces", kind: "Namespace")
    public static let services = KubernetesKind(group: "", version: "v1", resource: "services", kind: "Service")
    public static let pods = KubernetesKind(group: "", version: "v1", resource: "pods", kind: "Pod")
    public static let endpointSlices = KubernetesKind(group: "discovery.k8s.io", version: "v1", resource: "endpointslices", kind: "EndpointSlice")
    public static let authorizationPolicies = KubernetesKind(group: "security.istio.io", version: "v1", resource: "authorizationpolicies", kind: "AuthorizationPolicy")
    public static let peerAuthentications = KubernetesKind(group: "security.istio.io", version: "v1", resource: "peerauthentications", kind: "PeerAuthentication")
    public static let requestAuthentications = KubernetesKind(group: "security.istio.io", version: "v1", resource: "requestauthentications", kind: "RequestAuthentication")
    public static let virtualServices = KubernetesKind(group: "networking.istio.io", version: "v1", resource: "virtualservices", kind: "VirtualService")
    public static let destinationRules = KubernetesKind(group: "networking.istio.io", version: "v1", resource: "destinationrules", kind: "DestinationRule")
    public static let serviceEntries = KubernetesKind(group: "networking.istio.io", version: "v1", resource: "serviceentries", kind: "ServiceEntry")
    public static let workloadEntries = KubernetesKind(group: "networking.istio.io", version: "v1", resource: "workloadentries", kind: "WorkloadEntry")
    public static let gateways = KubernetesKind(group: "gateway.networking.k8s.io", version: "v1", resource: "gateways", kind: "Gateway")
    public static let httpRoutes = KubernetesKind(group: "gateway.networking.k8s.io", version: "v1", resource: "httproutes", kind: "HTTPRoute")

    /// Everything the mesh model reads.
    public static let mesh: [KubernetesKind] = [
        namespaces, services, pods, endpointSlices, authorizationPolicies, peerAuthentications, requestAuthentications,
        virtualServices, destinationRules, serviceEntries, workloadEntries, gateways, httpRoutes,
    ]
}
