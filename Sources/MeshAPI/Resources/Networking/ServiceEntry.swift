/// `networking.istio.io` ServiceEntry. Placeholder: the typed spec is being written.
public struct ServiceEntry: MeshResource {
    public static let apiGroup = "networking.istio.io"
    public static let kind = "ServiceEntry"
    public static let apiVersions = ["v1", "v1beta1", "v1alpha3"]

    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    public var spec: JSONValue?
    public var status: JSONValue?

    public func validate(into context: inout ValidationContext) {}
}
