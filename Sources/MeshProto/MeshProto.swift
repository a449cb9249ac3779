/// # MeshProto
///
/// Generated Swift for the protobuf APIs (Envoy xDS subset, Istio CA, Istio workload API). Never edited by hand: scripts/generate-protos.sh rebuilds it.
public enum MeshProtoModule {
    /// The module's name, for logs.
    public static let name = "MeshProto"
}
