import Logging
import MeshAPI
import NIOCore
import NIOHTTP2
import Synchronization

/// One HTTP/2 connection to an HBONE server, as the pool hands it out.
final class HBONEConnection: Sendable {
    let id: Int
    let key: HBONEConnectionPool.Key
    let channel: any Channel
    let multiplexer: NIOHTTP2Handler.StreamMultiplexer
    /// The server's verified identity.
    let peerIdentity: SpiffeID
    /// SETTINGS_MAX_CONCURRENT_STREAMS of the server's first SETTINGS.
    let initialPeerMaxStreams: Int?

    init(
        id: Int, key: HBONEConnectionPool.Key, channel: any Channel, multiplexer: NIOHTTP2Handler.StreamMultiplexer,
        peerIdentity: SpiffeID, initialPeerMaxStreams: Int?
    ) {
        self.id = id
        self.initialPeerMaxStreams = initialPeerMaxStreams
        self.key = key
        self.channel = channel
        self.multiplexer = multiplexer
        self.peerIdentity = peerIdentity
    }
}

/// HBONE connections shared by tunnels, as ztunnel pools them:
///
/// - keyed by (source identity, expected destination identities, proxy address);
/// - up to ``Configuration/maxStreamsPerConnection`` streams per connection, further capped by
///   the server's SETTINGS_MAX_CONCURRENT_STREAMS; a full connection makes the next checkout
///   dial a new one;
/// - one dial at a time per key: a burst waits for that dial instead of opening many;
/// - a connection nobody checked out for ``Configuration/idleTimeout`` leaves the pool and closes
///   once its last stream ends; a connection that closes or receives GOAWAY leaves at once.
public final class HBONEConnectionPool: Sendable {
    /// Pool settings.
    public struct Configuration: Sendable, Hashable {
        /// Streams per connection before another is dialed.
        public var maxStreamsPerConnection: Int
        /// Unused connections are released after this long.
        public var idleTimeout: TimeAmount

        /// Creates settings; the defaults are ztunnel's.
        public init(
            maxStreamsPerConnection: Int = L4Constants.poolMaxStreamsPerConnection,
            idleTimeout: TimeAmount = L4Constants.poolUnusedReleaseTimeout
        ) {
            self.maxStreamsPerConnection = maxStreamsPerConnection
            self.idleTimeout = idleTimeout
        }
    }

    /// What identifies interchangeable connections.
    public struct Key: Hashable, Sendable {
        /// The identity the client presents.
        public var source: SpiffeID
        /// The identities the server may present (sorted).
        public var expected: [SpiffeID]
        /// The HBONE proxy (IP:15008).
        public var proxy: SocketAddress
        /// The event loop the connection must live on, when the caller asked for one: a relay
        /// whose two sides share a loop never hops between threads. Nil: any loop.
        public var eventLoop: ObjectIdentifier?

        /// Creates a key.
        public init(source: SpiffeID, expected: [SpiffeID], proxy: SocketAddress, eventLoop: ObjectIdentifier? = nil) {
            self.source = source
            self.expected = expected.sorted { $0.description < $1.description }
            self.proxy = proxy
            self.eventLoop = eventLoop
        }
    }

    /// A snapshot of the pool, for tests and diagnostics.
    public struct Snapshot: Sendable, Hashable {
        /// Pooled connections per key, with their open stream counts.
        public var streamsPerConnection: [Key: [Int]]
        /// Connections dialed since the pool was created.
        public var dials: Int
        /// Connections released or evicted.
        public var evictions: Int
    }

    struct Slot {
        var connection: HBONEConnection
        var active = 0
        var peerMaxStreams: Int?
        var lastCheckout: NIODeadline
        var usable = true
    }

    struct Entry {
        var slots: [Int: Slot] = [:]
        var dialing: EventLoopFuture<Void>?
    }

    struct State {
        var entries: [Key: Entry] = [:]
        var dials = 0
        var evictions = 0
        var nextID = 0
        var closed = false
    }

    /// The settings.
    public let configuration: Configuration
    private let state = Mutex(State())
    private let sweeper: Mutex<RepeatedTask?>
    private let eventLoop: any EventLoop
    private let logger: Logger

    init(configuration: Configuration, eventLoop: any EventLoop, logger: Logger) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.logger = logger
        self.sweeper = Mutex(nil)
        let interval = max(
            TimeAmount.milliseconds(10), min(TimeAmount.seconds(30), TimeAmount.nanoseconds(configuration.idleTimeout.nanoseconds / 4)))
        let task = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in
            self?.sweep()
        }
        sweeper.withLock { $0 = task }
    }

    /// What the pool holds now.
    public var snapshot: Snapshot {
        state.withLock { state in
            var streams: [Key: [Int]] = [:]
            for (key, entry) in state.entries {
                let usable = entry.slots.values.filter(\.usable).sorted { $0.connection.id < $1.connection.id }
                if !usable.isEmpty { streams[key] = usable.map(\.active) }
            }
            return Snapshot(streamsPerConnection: streams, dials: state.dials, evictions: state.evictions)
        }
    }

    private enum Action {
        case use(HBONEConnection)
        case wait(EventLoopFuture<Void>)
        case dial(EventLoopPromise<Void>)
        case closed
    }

    /// A pooled connection with a free stream slot (counted as taken), or nil when none has one
    /// now (the caller then uses ``checkout(_:dial:)``, which waits for or makes a dial).
    func checkoutIfAvailable(_ key: Key) -> HBONEConnection? {
        let now = NIODeadline.now()
        return state.withLock { state in
            state.closed ? nil : Self.takeSlot(&state, key, limit: configuration.maxStreamsPerConnection, now: now)
        }
    }

    private static func takeSlot(_ state: inout State, _ key: Key, limit: Int, now: NIODeadline) -> HBONEConnection? {
        guard let id = state.entries[key]?.slots.first(where: { $0.value.usable && $0.value.active < min(limit, $0.value.peerMaxStreams ?? limit) })?.key
        else { return nil }
        // In place: a copy of the entry taken out and written back would copy its slots on
        // every tunnel opened.
        state.entries[key]!.slots[id]!.active += 1
        state.entries[key]!.slots[id]!.lastCheckout = now
        return state.entries[key]!.slots[id]!.connection
    }

    /// A connection with a free stream slot (counted as taken), dialing one when needed.
    func checkout(
        _ key: Key, dial: @Sendable (_ id: Int) async throws -> HBONEConnection
    ) async throws -> HBONEConnection {
        while true {
            let now = NIODeadline.now()
            let action: Action = state.withLock { state in
                if state.closed { return .closed }
                if let connection = Self.takeSlot(&state, key, limit: configuration.maxStreamsPerConnection, now: now) {
                    return .use(connection)
                }
                var entry = state.entries[key, default: Entry()]
                if let dialing = entry.dialing { return .wait(dialing) }
                let promise = eventLoop.makePromise(of: Void.self)
                entry.dialing = promise.futureResult
                state.entries[key] = entry
                return .dial(promise)
            }
            switch action {
            case .closed:
                throw HBONEError.shutDown
            case .use(let connection):
                return connection
            case .wait(let future):
                try await future.get()
            case .dial(let promise):
                let id = state.withLock { state -> Int in
                    state.nextID += 1
                    state.dials += 1
                    return state.nextID
                }
                do {
                    let connection = try await dial(id)
                    let added = state.withLock { state -> Bool in
                        state.entries[key]?.dialing = nil
                        guard !state.closed, connection.channel.isActive else { return false }
                        state.entries[key, default: Entry()].slots[id] = Slot(
                            connection: connection, peerMaxStreams: connection.initialPeerMaxStreams, lastCheckout: now)
                        return true
                    }
                    promise.succeed(())
                    if added {
                        connection.channel.closeFuture.whenComplete { [weak self] _ in self?.evict(connection, reason: "closed") }
                    } else {
                        connection.channel.close(promise: nil)
                    }
                } catch {
                    state.withLock { $0.entries[key]?.dialing = nil }
                    promise.fail(error)
                    throw error
                }
            }
        }
    }

    /// Records the server's SETTINGS_MAX_CONCURRENT_STREAMS for a connection.
    func updatePeerMaxStreams(key: Key, id: Int, _ value: Int?) {
        state.withLock { $0.entries[key]?.slots[id]?.peerMaxStreams = value }
    }

    /// The server sent GOAWAY: no new streams on this connection.
    func goAway(key: Key, id: Int, channel: any Channel) {
        let close: Bool = state.withLock { state in
            guard var slot = state.entries[key]?.slots[id] else { return false }
            slot.usable = false
            state.entries[key]!.slots[id] = slot
            return slot.active == 0
        }
        if close { channel.close(promise: nil) }
    }

    /// A stream on `connection` ended.
    func release(_ connection: HBONEConnection) {
        let close: Bool = state.withLock { state in
            guard var slot = state.entries[connection.key]?.slots[connection.id] else { return false }
            slot.active -= 1
            state.entries[connection.key]!.slots[connection.id] = slot
            if !slot.usable && slot.active == 0 {
                state.entries[connection.key]!.slots[connection.id] = nil
                return true
            }
            return false
        }
        if close { connection.channel.close(promise: nil) }
    }

    private func evict(_ connection: HBONEConnection, reason: String) {
        let removed = state.withLock { state -> Bool in
            guard let slot = state.entries[connection.key]?.slots.removeValue(forKey: connection.id) else { return false }
            if slot.usable { state.evictions += 1 }
            if state.entries[connection.key]?.slots.isEmpty == true, state.entries[connection.key]?.dialing == nil {
                state.entries[connection.key] = nil
            }
            return true
        }
        if removed {
            logger.debug("HBONE connection left the pool", metadata: ["reason": "\(reason)", "proxy": "\(connection.key.proxy)"])
        }
    }

    /// Releases connections unused for longer than the idle timeout.
    func sweep(now: NIODeadline = .now()) {
        let idle = configuration.idleTimeout
        let toClose: [HBONEConnection] = state.withLock { state in
            var out: [HBONEConnection] = []
            for (key, entry) in state.entries {
                for (id, slot) in entry.slots where slot.usable && now - slot.lastCheckout >= idle {
                    if slot.active == 0 {
                        state.entries[key]!.slots[id] = nil
                        state.evictions += 1
                        out.append(slot.connection)
                    } else {
                        // Out of the pool; closes when its last stream ends.
                        state.entries[key]!.slots[id]!.usable = false
                        state.evictions += 1
                    }
                }
            }
            return out
        }
        for connection in toClose { connection.channel.close(promise: nil) }
    }

    /// Closes every connection and refuses further checkouts.
    func close() async {
        sweeper.withLock { $0?.cancel() }
        let all: [HBONEConnection] = state.withLock { state in
            state.closed = true
            let connections = state.entries.values.flatMap { $0.slots.values.map(\.connection) }
            state.entries.removeAll()
            return connections
        }
        for connection in all { try? await connection.channel.close() }
    }
}
