/// # MeshL7
///
/// HTTP proxy engine and filter chain driven by Envoy route, RBAC, JWT and fault configuration.
public enum MeshL7Module {
    /// The module's name, for logs.
    public static let name = "MeshL7"
}
