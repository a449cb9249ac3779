import Synchronization

/// What a wildcard delta client that holds exactly one view's resources must be sent to hold
/// another view's: the same for every such client, so computed and serialised once.
final class DeltaPlan: Sendable {
    /// The contents the clients hold (kept alive so that the memo's keys stay unique).
    let from: ViewContents
    /// The contents they move to.
    let to: ViewContents
    /// Resources added or changed.
    let resources: [XDSResource]
    /// Names removed.
    let removed: [String]
    /// The `resources` entries (field 2) of ``resources``, back to back, as
    /// ``DeltaResponseSerializer`` copies them into every client's response.
    let encoded: [UInt8]

    init(from held: [String: XDSResource], contents: ViewContents, to view: CacheView) {
        from = contents
        to = view.contents
        var resources: [XDSResource] = []
        var size = 0
        for (name, resource) in view.resources where held[name]?.version != resource.version {
            resources.append(resource)
            size += resource.deltaEntry.count
        }
        var removed: [String] = []
        for name in held.keys where view.resources[name] == nil { removed.append(name) }
        var encoded: [UInt8] = []
        encoded.reserveCapacity(size)
        for resource in resources { encoded.append(contentsOf: resource.deltaEntry) }
        self.resources = resources
        self.removed = removed
        self.encoded = encoded
    }
}

/// A small memo of ``DeltaPlan``s, so that a push to many clients in the same state computes
/// the change and its bytes once rather than once per client.
final class DeltaPlans: Sendable {
    struct Key: Hashable {
        var typeURL: String
        var from: ObjectIdentifier
        var to: ObjectIdentifier
    }

    /// Plans kept at most; the memo is emptied when it would grow beyond (plans are cheap to
    /// remake, and many distinct ones only happen when each is used by few clients).
    static let capacity = 64

    let plans = Mutex<[Key: DeltaPlan]>([:])

    /// The plan from `held` (whose identity is `contents`) to `view`, made once.
    func plan(typeURL: String, from held: [String: XDSResource], contents: ViewContents, to view: CacheView) -> DeltaPlan {
        let key = Key(typeURL: typeURL, from: ObjectIdentifier(contents), to: ObjectIdentifier(view.contents))
        return plans.withLock { plans in
            // A plan in the memo keeps both contents alive, so their identifiers are not reused.
            if let plan = plans[key] { return plan }
            let plan = DeltaPlan(from: held, contents: contents, to: view)
            if plans.count >= Self.capacity { plans.removeAll(keepingCapacity: true) }
            plans[key] = plan
            return plan
        }
    }
}
