import Logging
import MeshAPI
import NIOCore
import NIOPosix
import Synchronization

/// Counters of a Kubernetes registry's list/watch activity, for tests and debug pages.
public struct KubernetesRegistryStatistics: Sendable, Hashable {
    public var lists = 0
    public var listFailures = 0
    public var watches = 0
    public var watchFailures = 0
    /// Lists caused by `410 Gone`.
    public var relists = 0
    public var bookmarks = 0
    /// Kinds that have completed their first list.
    public var syncedKinds: Set<String> = []
}

final class ReflectorStats: Sendable {
    private let counters = Mutex(KubernetesRegistryStatistics())
    func increment(_ field: WritableKeyPath<KubernetesRegistryStatistics, Int>) { counters.withLock { $0[keyPath: field] += 1 } }
    func synced(_ kind: KubernetesKind) -> Set<String> {
        counters.withLock { c in
            c.syncedKinds.insert(kind.groupKind)
            return c.syncedKinds
        }
    }
    var value: KubernetesRegistryStatistics { counters.withLock { $0 } }
}

/// The Kubernetes API as a registry: lists then watches each kind (``KubernetesKind/mesh``
/// by default) across all namespaces, with `resourceVersion` resumption, bookmarks, re-list
/// on `410 Gone` and reconnection with backoff. The model's source is marked synced once
/// every kind has completed its first list.
///
/// Plain HTTP and HTTPS (NIOSSL, or ``KubernetesConnection/tlsConfigurator``) both work.
public final class KubernetesRegistry: MeshRegistry {
    public struct Options: Sendable {
        public var kinds: [KubernetesKind]
        public var backoff: Backoff
        /// `limit` of list pages.
        public var pageSize: Int
        /// `timeoutSeconds` of watch requests (the server ends the watch after it; the
        /// registry then watches again from the last version).
        public var watchTimeoutSeconds: Int
        /// How resources are loaded (validation is on: an object Istio would reject is skipped).
        public var loaderOptions: ManifestLoader.Options

        public init(
            kinds: [KubernetesKind] = KubernetesKind.mesh, backoff: Backoff = Backoff(), pageSize: Int = 500,
            watchTimeoutSeconds: Int = 300, loaderOptions: ManifestLoader.Options = ManifestLoader.Options()
        ) {
            self.kinds = kinds
            self.backoff = backoff
            self.pageSize = pageSize
            self.watchTimeoutSeconds = watchTimeoutSeconds
            self.loaderOptions = loaderOptions
        }
    }

    public let name: String
    public let connection: KubernetesConnection
    public let options: Options
    private let client: KubernetesHTTPClient
    private let logger: Logger
    private let stats = ReflectorStats()

    public init(
        connection: KubernetesConnection, name: String = "kubernetes", options: Options = Options(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "swiftmesh.discovery.kubernetes")
    ) {
        self.name = name
        self.connection = connection
        self.options = options
        self.logger = logger
        client = KubernetesHTTPClient(connection: connection, group: eventLoopGroup)
    }

    /// Activity so far.
    public var statistics: KubernetesRegistryStatistics { stats.value }

    public func run(into model: MeshModel) async throws {
        model.register(source: name)
        let all = Set(options.kinds.map(\.groupKind))
        let loader = ManifestLoader(options: options.loaderOptions)
        await withTaskGroup(of: Void.self) { group in
            for kind in options.kinds {
                let reflector = Reflector(
                    kind: kind, client: client, objects: KubernetesObjects(kind: kind, loader: loader), source: name,
                    backoff: options.backoff, pageSize: options.pageSize, watchTimeoutSeconds: options.watchTimeoutSeconds,
                    logger: logger, onSynced: { [stats, name, logger] kind in
                        if stats.synced(kind).isSuperset(of: all) {
                            logger.info("every kind synced", metadata: ["registry": "\(name)"])
                            model.markSynced(source: name)
                        }
                    }, stats: stats)
                group.addTask { await reflector.run(into: model) }
            }
        }
    }
}
