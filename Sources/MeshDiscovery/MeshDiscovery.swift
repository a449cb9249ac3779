/// # MeshDiscovery
///
/// The mesh model (namespaces, services, workloads, endpoints, policies) and its registries: in-memory, a watched directory of manifests, the Kubernetes API.
public enum MeshDiscoveryModule {
    /// The module's name, for logs.
    public static let name = "MeshDiscovery"
}
