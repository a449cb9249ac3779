import MeshProto
import Synchronization

/// A cache of one type URL whose resources are the same for every node (EDS fan-out, WDS, …).
///
/// Watches are indexed by resource name, so a change wakes only the wildcard watches and the
/// watches naming a changed resource: the cost is O(changed + affected), not O(all).
/// The type version is a counter with an optional prefix (`prefixN`), so clients of different
/// replicas do not mistake one replica's versions for another's.
public final class LinearCache: ResourceCache {
    struct Entry {
        var interest: Interest
        var onChange: @Sendable (ChangeSet) -> Void
    }

    struct State {
        var resources: [String: XDSResource] = [:]
        var counter: UInt64 = 0
        /// What ``LinearCache/view(typeURL:node:)`` returns, made once per change so that every
        /// stream sees the same ``CacheView/contents``.
        var view = CacheView(version: "", resources: [:])
        var watches: [UInt64: Entry] = [:]
        var wildcard: Set<UInt64> = []
        var byName: [String: Set<UInt64>] = [:]
        var nextID: UInt64 = 0

        mutating func index(_ id: UInt64, _ interest: Interest) {
            switch interest {
            case .wildcard: wildcard.insert(id)
            case .names(let names): for name in names { byName[name, default: []].insert(id) }
            }
        }

        mutating func unindex(_ id: UInt64, _ interest: Interest) {
            switch interest {
            case .wildcard: wildcard.remove(id)
            case .names(let names):
                for name in names {
                    byName[name]?.remove(id)
                    if byName[name]?.isEmpty == true { byName[name] = nil }
                }
            }
        }
    }

    /// The one type URL this cache serves.
    public let typeURL: String
    /// Prefix of the type version.
    public let versionPrefix: String
    let state = Mutex(State())

    /// Creates an empty cache for `typeURL`.
    public init(typeURL: String, versionPrefix: String = "", resources: [XDSResource] = []) {
        self.typeURL = typeURL
        self.versionPrefix = versionPrefix
        state.withLock { state in
            for resource in resources { state.resources[resource.name] = resource }
            state.view = CacheView(version: versionPrefix + "0", resources: state.resources)
        }
    }

    /// Adds or replaces `toUpdate` and deletes `toDelete` in one step, waking each affected
    /// watch once.
    public func updateResources(_ toUpdate: [XDSResource], delete toDelete: [String] = []) {
        let calls: [(@Sendable (ChangeSet) -> Void, ChangeSet)] = state.withLock { state in
            var changed = Set<String>()
            for resource in toUpdate where state.resources[resource.name]?.version != resource.version
                || state.resources[resource.name] == nil
            {
                state.resources[resource.name] = resource
                changed.insert(resource.name)
            }
            for name in toDelete where state.resources.removeValue(forKey: name) != nil {
                changed.insert(name)
            }
            if changed.isEmpty { return [] }
            state.counter += 1
            state.view = CacheView(version: versionPrefix + String(state.counter), resources: state.resources)
            return Self.affected(state, changed)
        }
        for (call, change) in calls { call(change) }
    }

    /// Replaces the whole collection.
    public func setResources(_ resources: [XDSResource]) {
        let calls: [(@Sendable (ChangeSet) -> Void, ChangeSet)] = state.withLock { state in
            var next: [String: XDSResource] = [:]
            for resource in resources { next[resource.name] = resource }
            var changed = Set<String>()
            for (name, resource) in next where state.resources[name]?.version != resource.version {
                changed.insert(name)
            }
            for name in state.resources.keys where next[name] == nil { changed.insert(name) }
            state.resources = next
            state.counter += 1
            state.view = CacheView(version: versionPrefix + String(state.counter), resources: state.resources)
            return Self.affected(state, changed)
        }
        for (call, change) in calls { call(change) }
    }

    /// The current resources.
    public var resources: [String: XDSResource] { state.withLock { $0.resources } }

    static func affected(_ state: State, _ changed: Set<String>) -> [(@Sendable (ChangeSet) -> Void, ChangeSet)] {
        var ids = state.wildcard
        for name in changed { if let named = state.byName[name] { ids.formUnion(named) } }
        let change = ChangeSet.names(changed)
        return ids.sorted().compactMap { id in state.watches[id].map { ($0.onChange, change) } }
    }

    public func nodeKey(for node: Envoy_Config_Core_V3_Node) -> NodeKey { NodeKey(node.id) }

    public func view(typeURL: String, node: NodeKey) -> CacheView? {
        guard typeURL == self.typeURL else { return nil }
        return state.withLock { $0.view }
    }

    public func watch(
        typeURL: String, node: NodeKey, interest: Interest,
        onChange: @escaping @Sendable (ChangeSet) -> Void
    ) -> any CacheWatch {
        let id = state.withLock { state in
            state.nextID += 1
            state.watches[state.nextID] = Entry(interest: interest, onChange: onChange)
            state.index(state.nextID, interest)
            return state.nextID
        }
        return Watch(cache: self, id: id)
    }

    struct Watch: CacheWatch {
        let cache: LinearCache
        let id: UInt64

        func update(interest: Interest) {
            cache.state.withLock { state in
                guard let old = state.watches[id]?.interest, old != interest else { return }
                state.unindex(id, old)
                state.watches[id]?.interest = interest
                state.index(id, interest)
            }
        }

        func cancel() {
            cache.state.withLock { state in
                guard let entry = state.watches.removeValue(forKey: id) else { return }
                state.unindex(id, entry.interest)
            }
        }
    }
}
