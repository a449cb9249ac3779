import MeshProto
import Synchronization

/// A cache holding one consistent ``Snapshot`` per node key.
///
/// Nodes are grouped by a hash function (by default `node.id`), so one snapshot may serve many
/// proxies. Setting a snapshot wakes only the watches of that key whose resources changed, type by
/// type in make-before-break order (CDS, EDS, LDS, RDS, …).
public final class SnapshotCache: ResourceCache {
    /// Maps a node to its key.
    public typealias NodeHash = @Sendable (Envoy_Config_Core_V3_Node) -> NodeKey

    struct Entry {
        var typeURL: String
        var node: NodeKey
        var interest: Interest
        var onChange: @Sendable (ChangeSet) -> Void
    }

    struct State {
        var snapshots: [NodeKey: Snapshot] = [:]
        var watches: [NodeKey: [UInt64: Entry]] = [:]
        var nextID: UInt64 = 0
    }

    let state = Mutex(State())
    let hash: NodeHash

    /// Creates an empty cache.
    ///
    /// - Parameter hash: groups nodes; by default each `node.id` is its own key.
    public init(hash: @escaping NodeHash = { NodeKey($0.id) }) {
        self.hash = hash
    }

    /// Replaces the snapshot of `node` and notifies affected watches in push order.
    public func setSnapshot(_ snapshot: Snapshot, for node: NodeKey) {
        let notifications: [(@Sendable (ChangeSet) -> Void, ChangeSet)] = state.withLock { state in
            let old = state.snapshots[node]
            state.snapshots[node] = snapshot
            guard let watches = state.watches[node], !watches.isEmpty else { return [] }
            var typeSet = Set(snapshot.types.keys)
            if let old { typeSet.formUnion(old.types.keys) }
            let typeURLs = typeSet.sorted { (TypeURL.rank($0), $0) < (TypeURL.rank($1), $1) }
            var out: [(@Sendable (ChangeSet) -> Void, ChangeSet)] = []
            for typeURL in typeURLs {
                let before = old?.types[typeURL]
                let after = snapshot.types[typeURL]
                let changes = changedNames(from: before, to: after)
                if case .names(let names) = changes, names.isEmpty, before?.version == after?.version { continue }
                for entry in watches.values where entry.typeURL == typeURL {
                    switch (entry.interest, changes) {
                    case (.names(let wanted), .names(let changed)) where wanted.isDisjoint(with: changed)
                        && !TypeURL.requiresFullStateInSotW(typeURL):
                        continue
                    default:
                        out.append((entry.onChange, changes))
                    }
                }
            }
            return out
        }
        for (call, changes) in notifications { call(changes) }
    }

    /// Removes the snapshot of `node` (open streams keep what they have).
    public func clearSnapshot(for node: NodeKey) {
        state.withLock { _ = $0.snapshots.removeValue(forKey: node) }
    }

    /// The snapshot of `node`, if any.
    public func snapshot(for node: NodeKey) -> Snapshot? {
        state.withLock { $0.snapshots[node] }
    }

    /// Node keys that have a snapshot or an open watch.
    public var nodeKeys: [NodeKey] {
        state.withLock { Array(Set($0.snapshots.keys).union($0.watches.keys)) }
    }

    public func nodeKey(for node: Envoy_Config_Core_V3_Node) -> NodeKey { hash(node) }

    public func view(typeURL: String, node: NodeKey) -> CacheView? {
        state.withLock { $0.snapshots[node]?.types[typeURL] ?? ($0.snapshots[node] == nil ? nil : CacheView(version: "", resources: [:])) }
    }

    public func watch(
        typeURL: String, node: NodeKey, interest: Interest,
        onChange: @escaping @Sendable (ChangeSet) -> Void
    ) -> any CacheWatch {
        let id = state.withLock { state in
            state.nextID += 1
            state.watches[node, default: [:]][state.nextID] = Entry(
                typeURL: typeURL, node: node, interest: interest, onChange: onChange)
            return state.nextID
        }
        return Watch(cache: self, node: node, id: id)
    }

    struct Watch: CacheWatch {
        let cache: SnapshotCache
        let node: NodeKey
        let id: UInt64

        func update(interest: Interest) {
            cache.state.withLock { $0.watches[node]?[id]?.interest = interest }
        }

        func cancel() {
            cache.state.withLock { state in
                state.watches[node]?[id] = nil
                if state.watches[node]?.isEmpty == true { state.watches[node] = nil }
            }
        }
    }
}
