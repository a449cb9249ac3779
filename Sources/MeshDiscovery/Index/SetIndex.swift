/// A multimap from keys to sets of IDs, with constant-time insert, remove and lookup.
/// Empty sets are removed so the index never grows with churn.
public struct SetIndex<Key: Hashable & Sendable, ID: Hashable & Sendable>: Sendable {
    private(set) var storage: [Key: Set<ID>] = [:]

    public init() {}

    /// The IDs under `key` (empty when none).
    public subscript(key: Key) -> Set<ID> { storage[key] ?? [] }

    /// Number of distinct keys.
    public var keyCount: Int { storage.count }

    /// All keys.
    public var keys: Dictionary<Key, Set<ID>>.Keys { storage.keys }

    mutating func insert(_ id: ID, for key: Key) {
        storage[key, default: []].insert(id)
    }

    mutating func remove(_ id: ID, for key: Key) {
        // Mutate in place: copying the set out would make every removal O(set size).
        guard let index = storage.index(forKey: key) else { return }
        storage.values[index].remove(id)
        if storage.values[index].isEmpty { storage.remove(at: index) }
    }

    mutating func insert(_ id: ID, for keys: some Sequence<Key>) {
        for key in keys { insert(id, for: key) }
    }

    mutating func remove(_ id: ID, for keys: some Sequence<Key>) {
        for key in keys { remove(id, for: key) }
    }
}

/// A `namespace`/`service account`/`node` triple, for node authorization.
public struct NodeAccount: Sendable, Hashable {
    public var namespace: String
    public var serviceAccount: String
    public var node: String

    public init(namespace: String, serviceAccount: String, node: String) {
        self.namespace = namespace
        self.serviceAccount = serviceAccount
        self.node = node
    }
}

/// Labels of workloads in one namespace, indexed by `key=value`, so a selector is matched by
/// intersecting the smallest posting list with the rest of the selector.
struct LabelIndex: Sendable {
    private var postings: [String: SetIndex<LabelPair, String>] = [:]
    private var all = SetIndex<String, String>()

    mutating func insert(_ uid: String, namespace: String, labels: [String: String]) {
        all.insert(uid, for: namespace)
        for (k, v) in labels { postings[namespace, default: SetIndex()].insert(uid, for: LabelPair(k, v)) }
    }

    mutating func remove(_ uid: String, namespace: String, labels: [String: String]) {
        all.remove(uid, for: namespace)
        for (k, v) in labels { postings[namespace]?.remove(uid, for: LabelPair(k, v)) }
    }

    /// UIDs in `namespace` whose labels may match `selector`: the smallest posting list
    /// (callers still check the full selector), or every UID for an empty selector.
    func candidates(namespace: String, selector: [String: String]) -> Set<String> {
        guard !selector.isEmpty else { return all[namespace] }
        guard let index = postings[namespace] else { return [] }
        var best: Set<String>?
        for (k, v) in selector {
            let set = index[LabelPair(k, v)]
            if set.isEmpty { return [] }
            if best == nil || set.count < best!.count { best = set }
        }
        return best ?? []
    }
}

/// Service selectors in one namespace, indexed by one "anchor" pair each, so the services
/// selecting a workload are found from the workload's own labels.
struct SelectorIndex: Sendable {
    private var anchored: [String: SetIndex<LabelPair, ServiceKey>] = [:]
    private var selectAll = SetIndex<String, ServiceKey>()

    private static func anchor(_ selector: [String: String]) -> LabelPair? {
        selector.min { $0.key < $1.key }.map { LabelPair($0.key, $0.value) }
    }

    mutating func insert(_ key: ServiceKey, namespace: String, selector: [String: String]) {
        if let a = Self.anchor(selector) {
            anchored[namespace, default: SetIndex()].insert(key, for: a)
        } else {
            selectAll.insert(key, for: namespace)
        }
    }

    mutating func remove(_ key: ServiceKey, namespace: String, selector: [String: String]) {
        if let a = Self.anchor(selector) {
            anchored[namespace]?.remove(key, for: a)
        } else {
            selectAll.remove(key, for: namespace)
        }
    }

    /// Services in `namespace` whose selector may match `labels` (callers check the full selector).
    func candidates(namespace: String, labels: [String: String]) -> Set<ServiceKey> {
        var result = selectAll[namespace]
        guard let index = anchored[namespace] else { return result }
        for (k, v) in labels { result.formUnion(index[LabelPair(k, v)]) }
        return result
    }
}
