/// `discovery.k8s.io` EndpointSlice. Placeholder: the typed spec is being written.
public struct EndpointSlice: MeshResource {
    public static let apiGroup = "discovery.k8s.io"
    public static let kind = "EndpointSlice"
    public static let apiVersions = ["v1"]

    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    public var spec: JSONValue?
    public var status: JSONValue?

    public func validate(into context: inout ValidationContext) {}
}
