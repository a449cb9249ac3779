import GRPCCore
import Logging
import MeshProto
import Synchronization

/// Options of an ``XDSServer``.
public struct XDSServerOptions: Sendable {
    /// `control_plane.identifier` sent in every response.
    public var controlPlaneID: String
    /// Whether an empty first request means wildcard (Envoy's legacy behaviour). gRPC's proxyless
    /// clients name resources explicitly; turning this off for them is go-control-plane's
    /// `DeactivateLegacyWildcard`.
    public var legacyWildcard: Bool

    /// Creates options.
    public init(controlPlaneID: String = "swiftmesh", legacyWildcard: Bool = true) {
        self.controlPlaneID = controlPlaneID
        self.legacyWildcard = legacyWildcard
    }
}

/// An xDS management server: ADS (SotW and delta) and SDS, served from a ``ResourceCache``.
///
/// Register ``services`` with a `GRPCServer`:
/// ```swift
/// let cache = SnapshotCache()
/// let xds = XDSServer(cache: cache)
/// let server = GRPCServer(transport: .http2NIOPosix(address: .ipv4(host: "127.0.0.1", port: 15010),
///                                                  transportSecurity: .plaintext,
///                                                  config: xds.runningStreamsOnConnectionLoops(XDSServer.transportConfig)),
///                         services: xds.services)
/// ```
/// (or call ``serve(host:port:onListening:)``). With that configuration each stream's tasks run on
/// its connection's event loop.
/// The server keeps all protocol state per stream (nonces, subscriptions, what each client
/// holds). A NACK is recorded in ``status`` and the rejected version is not sent again; the
/// next push happens when the cache changes.
public final class XDSServer: Sendable {
    /// Where resources come from.
    public let cache: any ResourceCache
    /// Status of every connected client.
    public let status: StatusRegistry
    /// The event loops of the connections accepted by transports configured with
    /// ``runningStreamsOnConnectionLoops(_:)``.
    let connectionLoops = ConnectionLoops()
    /// Embedding hooks.
    public let callbacks: XDSCallbacks
    /// Options.
    public let options: XDSServerOptions
    let logger: Logger
    let metrics = XDSMetrics()
    /// Delta changes computed once for every client in the same state.
    let deltaPlans = DeltaPlans()
    let nextStreamID = Atomic<UInt64>(0)
    let connectedStreams = Atomic<Int>(0)

    /// Creates a server.
    public init(
        cache: any ResourceCache, callbacks: XDSCallbacks = XDSCallbacks(),
        options: XDSServerOptions = XDSServerOptions(),
        logger: Logger = Logger(label: "MeshXDS.server")
    ) {
        self.cache = cache
        self.callbacks = callbacks
        self.options = options
        self.logger = logger
        self.status = StatusRegistry()
    }

    /// The gRPC services to register: `AggregatedDiscoveryService` and `SecretDiscoveryService`.
    public var services: [any RegistrableRPCService] {
        [AggregatedDiscoveryService(server: self), SecretDiscoveryService(server: self)]
    }

    func newStreamID() -> UInt64 {
        nextStreamID.add(1, ordering: .relaxed).newValue
    }

    var controlPlane: Envoy_Config_Core_V3_ControlPlane {
        var cp = Envoy_Config_Core_V3_ControlPlane()
        cp.identifier = options.controlPlaneID
        return cp
    }

    /// Runs one stream from `peer` (gRPC's `ServerContext.remotePeer`): a reader task handles
    /// each request as it arrives, and a loop task wakes for cache changes; ``PendingChanges``
    /// gives the session to one of them at a time. Both run on the connection's event loop if the
    /// transport recorded it (``runningStreamsOnConnectionLoops(_:)``).
    func run<Request: Sendable, Session: StreamSession>(
        requests: RPCAsyncSequence<Request, any Error>, peer: String,
        session makeSession: (PendingChanges<Request>) -> Session
    ) async throws where Session.Request == Request {
        try await withTaskExecutorPreference(connectionLoops.executor(forPeer: peer)) {
            let (events, continuation) = AsyncStream<StreamEvent>.makeStream()
            let pending = PendingChanges<Request>(continuation)
            let turns = SessionTurns(session: makeSession(pending), pending: pending)
            try callbacks.onStreamOpen?(turns.session.id, turns.session.mode)
            metrics.connected.record(connectedStreams.add(1, ordering: .relaxed).newValue)
            defer {
                turns.session.close()  // both tasks have ended: the task group waited for the reader
                metrics.connected.record(connectedStreams.subtract(1, ordering: .relaxed).newValue)
                continuation.finish()
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        for try await request in requests {
                            if let request = pending.take(request) { try await turns.handle(request) }
                        }
                        continuation.yield(.end(nil))
                    } catch {
                        continuation.yield(.end(error))
                    }
                }
                defer { group.cancelAll() }
                loop: for await event in events {
                    switch event {
                    case .wake:
                        if pending.takeTurn() { try await turns.drain(pushing: true) }
                    case .end(let error):
                        if let error { throw error }
                        break loop
                    }
                }
            }
        }
    }
}

/// A stream's session as its two tasks (reader and loop) share it: only the task holding the
/// turn of ``pending`` calls into it.
///
/// `@unchecked Sendable`: `session` is not thread-safe, and is only used by the task that took
/// the turn (``PendingChanges/take(_:)`` returned the request, or ``PendingChanges/takeTurn()``
/// returned true) until ``PendingChanges/next(pushing:)`` gives the turn back. Taking and giving back
/// happen under `pending`'s mutex, so everything one holder did happens before the next holder
/// starts. The `defer` of ``XDSServer/run(requests:peer:session:)`` uses it after both tasks ended.
final class SessionTurns<Session: StreamSession>: @unchecked Sendable {
    let session: Session
    let pending: PendingChanges<Session.Request>

    init(session: Session, pending: PendingChanges<Session.Request>) {
        self.session = session
        self.pending = pending
    }

    /// Handles `request` (the reader has the turn), then the requests that arrived meanwhile;
    /// gives the turn back (to the loop, if changes wait).
    func handle(_ request: Session.Request) async throws {
        try await session.handle(request)
        try await drain(pushing: false)
    }

    /// Handles what waits, requests first, then (if `pushing`: the loop) changes, until nothing
    /// does; gives the turn back.
    func drain(pushing: Bool) async throws {
        while true {
            switch pending.next(pushing: pushing) {
            case .request(let request):
                try await session.handle(request)
            case .changes(let changes, let since):
                for (typeURL, change) in changes {
                    try await session.push(typeURL: typeURL, changes: change, since: since)
                }
            case .done:
                return
            }
        }
    }
}

/// The per-stream protocol engine; owned by one task, never shared.
///
/// SotW and delta sessions differ in their protocol state machines; what they share
/// (learning the node, status and metrics bookkeeping, NACK records, closing) lives in
/// the extension in `StreamSession+Shared.swift`.
protocol StreamSession: AnyObject, SendableMetatype {
    associatedtype Request: NodeCarryingRequest
    associatedtype TypeState: WatchHolding
    var id: UInt64 { get }
    var mode: ClientStatus.Mode { get }
    var server: XDSServer { get }
    var node: Envoy_Config_Core_V3_Node? { get set }
    var nodeKey: NodeKey? { get set }
    var statusEntry: StatusRegistry.Entry? { get set }
    var instruments: [String: XDSMetrics.PerType] { get set }
    var types: [String: TypeState] { get }
    func handle(_ request: Request) async throws
    func push(typeURL: String, changes: ChangeSet, since: ContinuousClock.Instant?) async throws
}
