/// What one delta client holds of one type: resource name → version.
///
/// A wildcard client usually holds exactly what the cache holds, so instead of a map per client
/// the state is a `base` — the resources of a cache view, whose storage every such client
/// shares — plus a small per-client `overlay` of differences. ``rebase(onto:)`` folds the
/// overlay away once the client is back in step with a view. A client of named resources keeps
/// an empty base and everything in the overlay.
struct KnownVersions {
    /// Private entries a wildcard client accumulates before ``rebase(onto:)`` is tried.
    static let rebaseThreshold = 32

    /// Shared with a cache view (never mutated here, so never copied).
    private(set) var base: [String: XDSResource] = [:]
    /// The ``CacheView/contents`` that `base` came from.
    private var baseContents: ViewContents?
    /// name → version held (nil: not held, even if `base` has it).
    private var overlay: [String: String?] = [:]
    /// Names in `overlay` whose value is nil while `base` has them.
    private var hidden = 0

    /// The version held for `name`, or nil.
    subscript(name: String) -> String? {
        get {
            if !overlay.isEmpty, let entry = overlay[name] { return entry }
            guard !base.isEmpty, let index = base.index(forKey: name) else { return nil }
            return base.values[index].version
        }
        set {
            // Two hash lookups: one in `base`, one update of `overlay`.
            let baseVersion = base.isEmpty ? nil : base.index(forKey: name).map { base.values[$0].version }
            let previous: String??
            if newValue == baseVersion {
                previous = overlay.isEmpty ? nil : overlay.removeValue(forKey: name)
            } else {
                previous = overlay.updateValue(newValue, forKey: name)
            }
            let wasHidden = baseVersion != nil && previous == .some(nil)
            let hides = baseVersion != nil && newValue == nil
            hidden += (hides ? 1 : 0) - (wasHidden ? 1 : 0)
        }
    }

    /// Forgets `name`; returns the version that was held.
    @discardableResult
    mutating func removeValue(forKey name: String) -> String? {
        let old = self[name]
        if old != nil { self[name] = nil }
        return old
    }

    /// Every name held.
    var names: Set<String> {
        var names = Set<String>()
        names.reserveCapacity(base.count + overlay.count)
        for name in base.keys where overlay[name] == nil { names.insert(name) }
        for (name, version) in overlay where version != nil { names.insert(name) }
        return names
    }

    /// Entries kept per client (what this client costs beyond the shared base).
    var privateCount: Int { overlay.count }

    /// The view contents this client holds exactly (nothing more, nothing less, same versions),
    /// or nil if what it holds differs from any view's contents or is not known to match one.
    var exactContents: ViewContents? {
        guard overlay.isEmpty else { return nil }
        return base.isEmpty ? ViewContents.empty : baseContents
    }

    /// Records that the client now holds exactly `view`'s resources.
    mutating func adopt(_ view: CacheView) {
        base = view.resources
        baseContents = view.contents
        overlay = [:]
        hidden = 0
    }

    /// If the client holds exactly `view`'s resources (same names, same versions), shares their
    /// storage as the new base and empties the overlay. Returns whether it did.
    @discardableResult
    mutating func rebase(onto view: CacheView) -> Bool {
        let resources = view.resources
        // Same names: everything held is in `resources`, and nothing of `resources` is missing.
        var held = 0
        for (name, resource) in resources {
            guard self[name] == resource.version else { return false }
            held += 1
        }
        let total = base.count - hidden + overlay.reduce(0) { count, entry in
            count + (entry.value != nil && base[entry.key] == nil ? 1 : 0)
        }
        guard held == total else { return false }
        adopt(view)
        return true
    }
}
