/// `` Pod. Placeholder: the typed spec is being written.
public struct Pod: MeshResource {
    public static let apiGroup = ""
    public static let kind = "Pod"
    public static let apiVersions = ["v1"]

    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    public var spec: JSONValue?
    public var status: JSONValue?

    public func validate(into context: inout ValidationContext) {}
}
