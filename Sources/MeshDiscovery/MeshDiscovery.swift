/// # MeshDiscovery
///
/// The mesh model (namespaces, services, workloads, endpoints, waypoints, policies) and its
/// registries: in-memory, a watched directory of manifests, the Kubernetes API.
///
/// - ``MeshModel`` holds the model, derived incrementally from MeshAPI resources, with
///   constant-time lookups (``MeshSnapshot``), an ordered change stream
///   (``MeshModel/events()``) and debounced, coalesced batches (``MeshModel/batches(options:)``).
/// - ``MeshRegistry`` is what feeds it: ``MemoryRegistry``, ``DirectoryRegistry``,
///   ``KubernetesRegistry``, combined with ``AggregateRegistry``.
/// - ``NodeAuthorizer`` answers MeshCA's "is service account X on node N?".
public enum MeshDiscoveryModule {
    /// The module's name, for logs.
    public static let name = "MeshDiscovery"
}
