/// # MeshCA
///
/// Certificate authority (root or plugged-in intermediate), CSR signing with SPIFFE SANs, Istio's CA gRPC service and client, rotating identity provider, trust bundles, TLS configuration for NIOSSL.
public enum MeshCAModule {
    /// The module's name, for logs.
    public static let name = "MeshCA"
}
