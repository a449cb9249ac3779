/// A source of mesh resources: in memory, a directory of manifests, the Kubernetes API, or
/// several of them (``AggregateRegistry``).
///
/// A registry feeds a ``MeshModel`` under its ``name`` (the model's *source*), with
/// ``MeshModel/apply(_:source:)`` for changes and ``MeshModel/replace(_:source:groupKinds:)``
/// for full states, and calls ``MeshModel/markSynced(source:)`` once its initial state is in.
public protocol MeshRegistry: Sendable {
    /// Unique among the registries feeding one model.
    var name: String { get }

    /// Feeds `model` until the task is cancelled (then returns normally) or the registry
    /// fails for good (then throws).
    func run(into model: MeshModel) async throws
}

/// Runs several registries into one model. Sources are registered in the order given, so
/// when two registries hold the same resource the earlier one wins; the model is ready
/// once all of them have synced.
public struct AggregateRegistry: MeshRegistry {
    public let name: String
    public let registries: [any MeshRegistry]

    public init(name: String = "aggregate", _ registries: [any MeshRegistry]) {
        self.name = name
        self.registries = registries
    }

    public func run(into model: MeshModel) async throws {
        for r in registries { model.register(source: r.name) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for r in registries {
                group.addTask { try await r.run(into: model) }
            }
            // The first failure cancels the others.
            try await group.waitForAll()
        }
    }
}
