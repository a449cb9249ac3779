/// A consistent set of resources of every type for one node key.
public struct Snapshot: Sendable {
    /// Resources and version per type URL.
    public var types: [String: CacheView]

    /// Builds a snapshot where every type carries `version`.
    ///
    /// - Parameter resources: resources by type URL; names must be unique within a type.
    public init(version: String, resources: [String: [XDSResource]]) {
        var types: [String: CacheView] = [:]
        for (typeURL, list) in resources {
            var byName: [String: XDSResource] = [:]
            byName.reserveCapacity(list.count)
            for resource in list { byName[resource.name] = resource }
            types[typeURL] = CacheView(version: version, resources: byName)
        }
        self.types = types
    }

    /// Builds a snapshot from per-type views (each with its own version).
    public init(types: [String: CacheView]) {
        self.types = types
    }

    /// Checks that every EDS name a cluster refers to and every RDS name a listener refers to is
    /// present, given the references (callers extract them; MeshXDS's generators do).
    ///
    /// - Returns: the missing `(typeURL, name)` pairs; empty when consistent.
    public func missingReferences(endpoints: Set<String>, routes: Set<String>) -> [(typeURL: String, name: String)] {
        var missing: [(String, String)] = []
        let eds = types[TypeURL.endpoint]?.resources ?? [:]
        let rds = types[TypeURL.route]?.resources ?? [:]
        for name in endpoints.sorted() where eds[name] == nil { missing.append((TypeURL.endpoint, name)) }
        for name in routes.sorted() where rds[name] == nil { missing.append((TypeURL.route, name)) }
        return missing
    }
}

/// Names that differ between two views of one type (added, removed or with another version).
func changedNames(from old: CacheView?, to new: CacheView?) -> ChangeSet {
    guard let old, let new else { return .all }
    var changed = Set<String>()
    for (name, resource) in new.resources where old.resources[name]?.version != resource.version {
        changed.insert(name)
    }
    for name in old.resources.keys where new.resources[name] == nil { changed.insert(name) }
    return .names(changed)
}
