import MeshAPI
import Synchronization

/// Resources held in memory and changed programmatically: for tests and for embedding the
/// mesh model in a program that knows its workloads itself.
///
/// Changes made before the registry is attached are kept and delivered on attach; after
/// that each call applies to the model at once (synchronously), in call order.
public final class MemoryRegistry: MeshRegistry {
    public let name: String
    private struct State {
        var resources: [ResourceKey: AnyResource] = [:]
        var models: [ObjectIdentifier: MeshModel] = [:]
    }
    private let state = Mutex(State())

    public init(name: String = "memory", resources: [AnyResource] = []) {
        self.name = name
        state.withLock { s in for r in resources { s.resources[ResourceKey(r)] = r } }
    }

    /// Creates or replaces resources.
    public func upsert(_ resources: AnyResource...) { apply(resources.map(ResourceChange.upsert)) }

    /// Removes resources.
    public func remove(_ keys: ResourceKey...) { apply(keys.map(ResourceChange.delete)) }

    /// Applies changes atomically.
    public func apply(_ changes: [ResourceChange]) {
        state.withLock { s in
            for change in changes {
                switch change {
                case .upsert(let r): s.resources[ResourceKey(r)] = r
                case .delete(let k): s.resources[k] = nil
                }
            }
            for model in s.models.values { model.apply(changes, source: name) }
        }
    }

    /// The resources held now.
    public var resources: [AnyResource] { state.withLock { s in s.resources.keys.sorted().map { s.resources[$0]! } } }

    /// Delivers the current resources to `model` and keeps it up to date until ``detach(from:)``.
    public func attach(to model: MeshModel) {
        state.withLock { s in
            s.models[ObjectIdentifier(model)] = model
            model.replace(Array(s.resources.values), source: name)
        }
        model.markSynced(source: name)
    }

    /// Stops updating `model` (its resources from this registry stay).
    public func detach(from model: MeshModel) {
        _ = state.withLock { $0.models.removeValue(forKey: ObjectIdentifier(model)) }
    }

    /// Attaches to `model` and stays attached until the task is cancelled.
    public func run(into model: MeshModel) async throws {
        attach(to: model)
        defer { detach(from: model) }
        let (wait, continuation) = AsyncStream.makeStream(of: Void.self)
        await withTaskCancellationHandler {
            for await _ in wait {}
        } onCancel: {
            continuation.finish()
        }
    }
}
