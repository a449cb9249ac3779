/// `gateway.networking.k8s.io` HTTPRoute. Placeholder: the typed spec is being written.
public struct HTTPRoute: MeshResource {
    public static let apiGroup = "gateway.networking.k8s.io"
    public static let kind = "HTTPRoute"
    public static let apiVersions = ["v1", "v1beta1"]

    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    public var spec: JSONValue?
    public var status: JSONValue?

    public func validate(into context: inout ValidationContext) {}
}
