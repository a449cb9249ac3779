/// # MeshL4
///
/// HBONE: HTTP/2 CONNECT over mTLS, client connection pool, server, TCP relay; L4 authorization (ztunnel semantics).
public enum MeshL4Module {
    /// The module's name, for logs.
    public static let name = "MeshL4"
}
