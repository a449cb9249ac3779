import MeshProto

/// What a cache holds for one type URL and one node: a version and the resources by name.
///
/// Values share storage, so handing one to many streams copies nothing.
public struct CacheView: Sendable {
    /// The type's version (what SotW responses carry as `version_info`).
    public var version: String
    /// The resources of the type, by name.
    public var resources: [String: XDSResource] {
        didSet { contents = ViewContents() }
    }
    /// Identifies ``resources``: views carrying the same object hold the same resources, so a
    /// server may compute a change once for every client that holds one view and moves to another.
    /// New for every created view and whenever ``resources`` is assigned.
    var contents = ViewContents()

    /// Creates a view.
    public init(version: String, resources: [String: XDSResource]) {
        self.version = version
        self.resources = resources
    }
}

/// The identity of one set of resources of a ``CacheView`` (compared with `===`, never looked into).
final class ViewContents: Sendable {
    /// Stands for "no resources" (a client that holds nothing yet).
    static let empty = ViewContents()
}

/// Which resources of one type a stream is interested in.
public enum Interest: Sendable, Equatable {
    /// Every resource of the type (wildcard subscription).
    case wildcard
    /// Only these names.
    case names(Set<String>)

    func covers(_ name: String) -> Bool {
        switch self {
        case .wildcard: return true
        case .names(let names): return names.contains(name)
        }
    }
}

/// What changed in a cache, as told to a watch.
public enum ChangeSet: Sendable, Equatable {
    /// Anything may have changed: recompute from the whole view.
    case all
    /// Only these resource names were added, updated or removed.
    case names(Set<String>)
}

/// The node a stream belongs to, as the caches see it.
public struct NodeKey: Hashable, Sendable {
    /// The key (by default `node.id`).
    public var key: String
    /// Creates a key.
    public init(_ key: String) { self.key = key }
}

/// Storage of xDS resources that an ``XDSServer`` serves from.
///
/// The server owns all per-stream protocol state (subscriptions, nonces, what each client holds);
/// a cache only answers "what is there now" and calls a watch back when that changes.
/// Implementations: ``SnapshotCache`` (a consistent snapshot per node key), ``LinearCache``
/// (one type shared by every node, O(changed) wake-ups) and ``MuxCache`` (a cache per type URL).
public protocol ResourceCache: Sendable {
    /// The node key for `node` (how nodes are grouped).
    func nodeKey(for node: Envoy_Config_Core_V3_Node) -> NodeKey

    /// What the cache currently holds for `typeURL` and `node`, or `nil` if it has nothing yet
    /// (the server then waits rather than answering with an empty set).
    func view(typeURL: String, node: NodeKey) -> CacheView?

    /// Registers `onChange`, called (on any thread, without locks held) whenever resources of
    /// `typeURL` that `interest` covers change for `node`.
    func watch(
        typeURL: String, node: NodeKey, interest: Interest,
        onChange: @escaping @Sendable (ChangeSet) -> Void
    ) -> any CacheWatch
}

/// A registered watch; cancel it when the stream ends.
public protocol CacheWatch: Sendable {
    /// Changes what the watch is interested in (a subscription changed).
    func update(interest: Interest)
    /// Stops the watch.
    func cancel()
}
