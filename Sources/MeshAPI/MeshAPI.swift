/// # MeshAPI
///
/// Istio, Gateway API and Kubernetes resources as Swift value types; YAML/JSON manifest
/// loading; validation with precise errors; SPIFFE identity.
public enum MeshAPIModule {
    /// The module's name, for logs.
    public static let name = "MeshAPI"
}
