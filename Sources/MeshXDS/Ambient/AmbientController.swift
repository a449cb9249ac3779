import Logging
import MeshDiscovery
import MeshProto
import Metrics

/// Serves the mesh model to ztunnels: keeps a ``LinearCache`` of `istio.workload.Address` and
/// one of `istio.security.Authorization` in step with a ``MeshModel``.
///
/// Each (debounced) batch of model changes recomputes the resources and hands them to the
/// caches, which compare content hashes: only resources whose bytes changed wake watches, so
/// delta clients receive just the changed workloads, services and policies.
public final class AmbientController: Sendable {
    /// Address resources (workloads by uid, services by `namespace/hostname`).
    public let addresses: LinearCache
    /// Authorization resources (`namespace/name`).
    public let authorizations: LinearCache
    /// The model served.
    public let model: MeshModel
    /// The network name put in addresses and aliases.
    public let network: String
    private let logger: Logger
    private let syncs = Counter(label: "mesh_ambient_syncs_total")
    private let failures = Counter(label: "mesh_ambient_sync_failures_total")

    /// Creates a controller with empty caches; call ``sync()`` or ``run(debounce:)``.
    public init(model: MeshModel, network: String = "", logger: Logger = Logger(label: "swiftmesh.xds.ambient")) {
        self.model = model
        self.network = network
        self.logger = logger
        addresses = LinearCache(typeURL: TypeURL.workloadAddress)
        authorizations = LinearCache(typeURL: TypeURL.authorization)
    }

    /// A cache answering both ambient types, for an ``XDSServer``.
    public var cache: MuxCache {
        MuxCache(caches: [TypeURL.workloadAddress: addresses, TypeURL.authorization: authorizations])
    }

    /// Recomputes every resource from the current model; unchanged ones are not pushed.
    public func sync() {
        let snapshot = model.snapshot()
        do {
            let addressResources = try AmbientAddresses.resources(from: snapshot, network: network)
            let authorizationResources = try AmbientAddresses.authorizationResources(from: snapshot)
            // Policies first, so a workload never names a policy its ztunnel has not received.
            authorizations.setResources(authorizationResources)
            addresses.setResources(addressResources)
            syncs.increment()
        } catch {
            // Serialising a message we built cannot fail in practice; keep serving the last state.
            failures.increment()
            logger.error("ambient resources not updated", metadata: ["error": "\(error)"])
        }
    }

    /// Syncs now, then after every debounced batch of model changes, until cancelled or the
    /// model's event stream ends.
    public func run(debounce: DebounceOptions = .istio) async {
        let batches = model.batches(options: debounce)
        sync()
        for await _ in batches {
            sync()
        }
    }
}
