import Logging
import MeshAPI
import Metrics
import Synchronization

/// The mesh model: namespaces, services, workloads, endpoints, waypoints and policies,
/// derived incrementally from the resources registries feed it, with constant-time lookups
/// and a change stream.
///
/// Registries (``MeshRegistry``) call ``apply(_:source:)`` and ``replace(_:source:groupKinds:)``;
/// consumers read with ``read(_:)``, ``snapshot()`` or the lookup helpers, and follow
/// changes with ``events()`` (every change, in order) or ``batches(options:)`` (debounced,
/// coalesced). When several sources hold the same resource, the first registered source wins.
public final class MeshModel: Sendable {
    public let options: MeshModelOptions
    private let state: Mutex<ModelState>
    private let hub = EventHub()
    private let logger: Logger
    private let changesApplied = Counter(label: "mesh_discovery_resource_changes_total")
    private let eventsPublished = Counter(label: "mesh_discovery_events_total")
    private let workloadsGauge = Gauge(label: "mesh_discovery_workloads")
    private let servicesGauge = Gauge(label: "mesh_discovery_services")

    public init(options: MeshModelOptions = MeshModelOptions(), logger: Logger = Logger(label: "swiftmesh.discovery")) {
        self.options = options
        self.logger = logger
        state = Mutex(ModelState(options: options))
    }

    // MARK: Feeding the model

    /// Applies changes reported by `source`, atomically: consumers see all of them or none.
    public func apply(_ changes: [ResourceChange], source: String = "default") {
        guard !changes.isEmpty else { return }
        state.withLock { s in
            let events = s.apply(changes, source: source)
            publish(events, s)
        }
        changesApplied.increment(by: Int64(changes.count))
    }

    /// Creates or updates one resource.
    public func upsert(_ resource: AnyResource, source: String = "default") { apply([.upsert(resource)], source: source) }

    /// Deletes one resource.
    public func delete(_ key: ResourceKey, source: String = "default") { apply([.delete(key)], source: source) }

    /// Replaces all resources `source` holds (only those of `groupKinds`, e.g. `["Pod"]` or
    /// `["security.istio.io/AuthorizationPolicy"]`, when given) with `resources`, atomically.
    /// Only real differences produce events.
    public func replace(_ resources: [AnyResource], source: String, groupKinds: Set<String>? = nil) {
        state.withLock { s in
            let events = s.replace(resources, source: source, groupKinds: groupKinds)
            publish(events, s)
        }
    }

    private func publish(_ events: [MeshEvent], _ s: borrowing ModelState) {
        guard !events.isEmpty else { return }
        hub.publish(events)
        eventsPublished.increment(by: Int64(events.count))
        workloadsGauge.record(s.view.workloads.count)
        servicesGauge.record(s.view.services.count)
        logger.trace("model changed", metadata: ["events": "\(events.count)"])
    }

    // MARK: Sources and readiness

    /// Declares a source; sources registered first win when two hold the same resource.
    /// The model is ready once every registered source has called ``markSynced(source:)``.
    public func register(source: String) {
        state.withLock { $0.register(source: source) }
    }

    /// Records that `source` has delivered its initial state.
    public func markSynced(source: String) {
        let ready = state.withLock { s in
            s.register(source: source)
            s.synced.insert(source)
            return s.sourceOrder.allSatisfy(s.synced.contains)
        }
        logger.debug("source synced", metadata: ["source": "\(source)", "ready": "\(ready)"])
    }

    /// True once every registered source has synced (and at least one is registered).
    public var isReady: Bool {
        state.withLock { s in !s.sourceOrder.isEmpty && s.sourceOrder.allSatisfy(s.synced.contains) }
    }

    /// Waits until ``isReady``; throws `CancellationError` when the task is cancelled.
    public func waitUntilReady(pollInterval: Duration = .milliseconds(10)) async throws {
        while !isReady { try await Task.sleep(for: pollInterval) }
    }

    // MARK: Reading

    /// Runs `body` with the current model, under the model's lock: no copy is made. Keep
    /// `body` short; it blocks updates.
    public func read<R>(_ body: (MeshSnapshot) throws -> R) rethrows -> R {
        try state.withLock { s in try body(s.view) }
    }

    /// The current model as a value. See ``MeshSnapshot`` on the cost of holding one.
    public func snapshot() -> MeshSnapshot { state.withLock { $0.view } }

    /// Every change from now on, in order, never dropped (the buffer is unbounded).
    public func events() -> AsyncStream<MeshEvent> { hub.subscribe() }

    /// The current model and every change after it, taken atomically, so a consumer can
    /// start from the snapshot without missing or repeating a change.
    public func subscribe() -> (snapshot: MeshSnapshot, events: AsyncStream<MeshEvent>) {
        state.withLock { s in (s.view, hub.subscribe()) }
    }

    /// Changes from now on, debounced and coalesced into batches (default: Istio's 100 ms
    /// quiet period, 10 s maximum delay).
    public func batches(options: DebounceOptions = .istio) -> AsyncStream<MeshEventBatch> {
        Debouncer.batches(of: hub.subscribe(), options: options)
    }

    /// Ends every event subscription.
    public func finishEvents() { hub.finish() }

    // MARK: Lookups (each takes the lock once)

    public func workload(uid: String) -> MeshWorkload? { read { $0.workload(uid: uid) } }
    public func workloads(address: String, network: String? = nil) -> [MeshWorkload] {
        read { $0.workloads(address: address, network: network) }
    }
    public func workloads(node: String) -> [MeshWorkload] { read { $0.workloads(node: node) } }
    public func workloads(namespace: String) -> [MeshWorkload] { read { $0.workloads(namespace: namespace) } }
    public func service(hostname: String, namespace: String) -> MeshService? {
        read { $0.service(hostname: hostname, namespace: namespace) }
    }
    public func services(address: String) -> [MeshService] { read { $0.services(address: address) } }
    public func services(hostname: String) -> [MeshService] { read { $0.services(hostname: hostname) } }
    public func endpoints(service: ServiceKey) -> [MeshEndpoint] { read { $0.endpoints(service: service) } }
    public func policies(forWorkload workload: MeshWorkload) -> [MeshPolicy] { read { $0.policies(forWorkload: workload) } }

    /// Whether a workload running as `serviceAccount` in `namespace` is on `node`.
    public func hasWorkload(serviceAccount: String, namespace: String, node: String) -> Bool {
        read { $0.hasWorkload(serviceAccount: serviceAccount, namespace: namespace, node: node) }
    }

    /// A node authorizer reading this model, for MeshCA.
    public var nodeAuthorizer: NodeAuthorizer { NodeAuthorizer(model: self) }
}

/// Answers MeshCA's question "does node N run a workload with service account X?", so a
/// node agent (ztunnel) may only obtain certificates for identities on its own node.
/// istiod adapts it to MeshCA's protocol.
public struct NodeAuthorizer: Sendable {
    public let model: MeshModel

    public init(model: MeshModel) { self.model = model }

    /// True when some workload in `namespace` runs as `serviceAccount` on `node`.
    public func hasWorkload(serviceAccount: String, namespace: String, node: String) -> Bool {
        model.hasWorkload(serviceAccount: serviceAccount, namespace: namespace, node: node)
    }
}
