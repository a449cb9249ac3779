/// Mesh-wide settings the model needs to derive names and scopes.
public struct MeshModelOptions: Sendable, Hashable {
    /// Cluster ID, the first part of workload UIDs (`Kubernetes/…`).
    public var clusterID: String
    /// Trust domain of SPIFFE identities.
    public var trustDomain: String
    /// DNS suffix of service hostnames (`name.ns.svc.<suffix>`).
    public var domainSuffix: String
    /// MeshConfig `rootNamespace`: policies there apply to every namespace.
    public var rootNamespace: String
    /// Network of workloads with no `topology.istio.io/network` label.
    public var defaultNetwork: String

    public init(
        clusterID: String = MeshConstants.defaultClusterID,
        trustDomain: String = MeshConstants.defaultTrustDomain,
        domainSuffix: String = MeshConstants.defaultTrustDomain,
        rootNamespace: String = MeshConstants.defaultRootNamespace,
        defaultNetwork: String = ""
    ) {
        self.clusterID = clusterID
        self.trustDomain = trustDomain
        self.domainSuffix = domainSuffix
        self.rootNamespace = rootNamespace
        self.defaultNetwork = defaultNetwork
    }

    /// `name.namespace.svc.<domainSuffix>`.
    public func serviceHostname(name: String, namespace: String) -> String {
        "\(name).\(namespace).svc.\(domainSuffix)"
    }
}
