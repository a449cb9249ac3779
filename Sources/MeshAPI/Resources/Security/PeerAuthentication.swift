/// `security.istio.io` PeerAuthentication. Placeholder: the typed spec is being written.
public struct PeerAuthentication: MeshResource {
    public static let apiGroup = "security.istio.io"
    public static let kind = "PeerAuthentication"
    public static let apiVersions = ["v1", "v1beta1"]

    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    public var spec: JSONValue?
    public var status: JSONValue?

    public func validate(into context: inout ValidationContext) {}
}
