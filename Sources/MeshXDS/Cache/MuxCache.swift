import MeshProto

/// Routes each type URL to its own cache, e.g. EDS to a ``LinearCache`` and everything else to a
/// ``SnapshotCache``.
public struct MuxCache: ResourceCache {
    /// Caches by type URL.
    public var caches: [String: any ResourceCache]
    /// The cache for type URLs not in ``caches`` (none: such types are never answered).
    public var fallback: (any ResourceCache)?
    let hash: @Sendable (Envoy_Config_Core_V3_Node) -> NodeKey

    /// Creates a mux.
    ///
    /// - Parameters:
    ///   - caches: caches by type URL.
    ///   - fallback: the cache for every other type URL.
    ///   - hash: the node key every child cache is asked with (by default `node.id`); it must
    ///     match the grouping of any ``SnapshotCache`` behind the mux.
    public init(
        caches: [String: any ResourceCache], fallback: (any ResourceCache)? = nil,
        hash: @escaping @Sendable (Envoy_Config_Core_V3_Node) -> NodeKey = { NodeKey($0.id) }
    ) {
        self.caches = caches
        self.fallback = fallback
        self.hash = hash
    }

    func cache(for typeURL: String) -> (any ResourceCache)? { caches[typeURL] ?? fallback }

    public func nodeKey(for node: Envoy_Config_Core_V3_Node) -> NodeKey { hash(node) }

    public func view(typeURL: String, node: NodeKey) -> CacheView? {
        cache(for: typeURL)?.view(typeURL: typeURL, node: node)
    }

    public func watch(
        typeURL: String, node: NodeKey, interest: Interest,
        onChange: @escaping @Sendable (ChangeSet) -> Void
    ) -> any CacheWatch {
        guard let cache = cache(for: typeURL) else { return NoWatch() }
        return cache.watch(typeURL: typeURL, node: node, interest: interest, onChange: onChange)
    }

    struct NoWatch: CacheWatch {
        func update(interest: Interest) {}
        func cancel() {}
    }
}
