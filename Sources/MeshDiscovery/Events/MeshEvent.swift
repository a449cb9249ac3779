/// A typed change to the mesh model.
public enum MeshEvent: Sendable, Equatable {
    case namespace(Change<MeshNamespace>)
    case service(Change<MeshService>)
    case workload(Change<MeshWorkload>)
    case endpoint(Change<MeshEndpoint>)
    case waypoint(Change<MeshWaypoint>)
    case policy(Change<MeshPolicy>)

    /// What the event is about, for coalescing.
    public var subject: Subject {
        switch self {
        case .namespace(let c): return .namespace((c.after ?? c.before)!.name)
        case .service(let c): return .service((c.after ?? c.before)!.key)
        case .workload(let c): return .workload((c.after ?? c.before)!.uid)
        case .endpoint(let c): return .endpoint((c.after ?? c.before)!.key)
        case .waypoint(let c): return .waypoint((c.after ?? c.before)!.id)
        case .policy(let c): return .policy((c.after ?? c.before)!.key)
        }
    }

    /// Identifies the entity an event is about.
    public enum Subject: Sendable, Hashable {
        case namespace(String)
        case service(ServiceKey)
        case workload(String)
        case endpoint(EndpointKey)
        case waypoint(NamespacedName)
        case policy(ResourceKey)
    }

    /// The single event equivalent to `self` followed by `next` (same subject), or nil when
    /// they cancel out (added then removed, or updated back to the original).
    public func then(_ next: MeshEvent) -> MeshEvent? {
        switch (self, next) {
        case (.namespace(let a), .namespace(let b)): return a.then(b).map(MeshEvent.namespace)
        case (.service(let a), .service(let b)): return a.then(b).map(MeshEvent.service)
        case (.workload(let a), .workload(let b)): return a.then(b).map(MeshEvent.workload)
        case (.endpoint(let a), .endpoint(let b)): return a.then(b).map(MeshEvent.endpoint)
        case (.waypoint(let a), .waypoint(let b)): return a.then(b).map(MeshEvent.waypoint)
        case (.policy(let a), .policy(let b)): return a.then(b).map(MeshEvent.policy)
        default: return next
        }
    }
}
