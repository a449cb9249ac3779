import MeshAPI

/// A change a registry reports: a resource created or updated, or deleted.
public enum ResourceChange: Sendable, Equatable {
    /// The resource now has this content (created or updated).
    case upsert(AnyResource)
    /// The resource no longer exists.
    case delete(ResourceKey)

    public var key: ResourceKey {
        switch self {
        case .upsert(let r): return ResourceKey(r)
        case .delete(let k): return k
        }
    }
}
