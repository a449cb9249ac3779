/// # MeshXDS
///
/// xDS: ADS server (state-of-the-world and delta), caches, client; generators that turn the mesh model into Envoy resources and ambient resources.
public enum MeshXDSModule {
    /// The module's name, for logs.
    public static let name = "MeshXDS"
}
