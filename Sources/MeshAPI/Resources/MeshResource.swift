/// A Kubernetes-style resource SwiftMesh models as a typed value.
///
/// Conforming types are plain `Codable` structs whose properties mirror the API's JSON
/// fields (`apiVersion`, `kind`, `metadata`, `spec`, …). Any field the manifest carries that
/// the type lacks is reported as unknown by the loader.
public protocol MeshResource: Codable, Sendable, Equatable {
    /// The API group, e.g. `security.istio.io`; empty for Kubernetes' core group.
    static var apiGroup: String { get }
    /// The kind, e.g. `AuthorizationPolicy`.
    static var kind: String { get }
    /// The versions accepted as this same type, newest first (Istio serves `v1`,
    /// `v1beta1` and `v1alpha3` of its networking kinds as one schema).
    static var apiVersions: [String] { get }

    var apiVersion: String { get }
    var metadata: ObjectMeta { get }

    /// Checks the resource as Istio's validation would, adding findings to `context`.
    /// Paths are relative to the resource root (`spec.rules[0]`).
    func validate(into context: inout ValidationContext)
}

extension MeshResource {
    /// `group/version` strings this type accepts, e.g. `security.istio.io/v1`.
    public static var acceptedAPIVersions: [String] {
        apiVersions.map { apiGroup.isEmpty ? $0 : "\(apiGroup)/\($0)" }
    }

    /// The resource's `namespace/name`, or its name when it has no namespace.
    public var qualifiedName: String {
        let name = metadata.name ?? ""
        if let ns = metadata.namespace, !ns.isEmpty { return "\(ns)/\(name)" }
        return name
    }
}

/// A resource of a kind SwiftMesh does not model, kept untouched so mixed manifests load.
public struct RawResource: Codable, Sendable, Equatable {
    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    /// The whole document as written (including `apiVersion`, `kind` and `metadata`).
    public var body: JSONValue

    public init(apiVersion: String, kind: String, metadata: ObjectMeta, body: JSONValue) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.body = body
    }
}
