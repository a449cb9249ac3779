/// A `namespace/name` pair identifying a namespaced resource.
public struct NamespacedName: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var namespace: String
    public var name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    public var description: String { "\(namespace)/\(name)" }

    public static func < (a: Self, b: Self) -> Bool {
        (a.namespace, a.name) < (b.namespace, b.name)
    }
}

/// Identifies one resource fed to the model: API group, kind, namespace and name.
///
/// Versions are not part of the key: `networking.istio.io/v1` and `v1beta1` of one object
/// are the same resource.
public struct ResourceKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// API group; empty for the core group.
    public var group: String
    public var kind: String
    /// Empty for cluster-scoped kinds such as `Namespace`.
    public var namespace: String
    public var name: String

    public init(group: String, kind: String, namespace: String, name: String) {
        self.group = group
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    /// `group/kind` (or `kind` for the core group), e.g. `security.istio.io/AuthorizationPolicy`.
    public var groupKind: String { group.isEmpty ? kind : "\(group)/\(kind)" }

    public var namespacedName: NamespacedName { NamespacedName(namespace: namespace, name: name) }

    public var description: String {
        namespace.isEmpty ? "\(groupKind) \(name)" : "\(groupKind) \(namespace)/\(name)"
    }

    public static func < (a: Self, b: Self) -> Bool {
        (a.group, a.kind, a.namespace, a.name) < (b.group, b.kind, b.namespace, b.name)
    }
}
