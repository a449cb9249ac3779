import Foundation
import MeshProto
import MeshXDS
import Synchronization

/// Counts, from the server's callbacks, the streams that have ACKed a target version of each
/// type (an ACK is a request echoing the nonce of the response that carried that version).
final class AckTracker: Sendable {
    struct State {
        /// stream → type → newest ACKed version.
        var acked: [UInt64: [String: String]] = [:]
        var target: [String: String] = [:]
        var done: Set<UInt64> = []
        /// Resumed once `done` holds this many streams (or on timeout).
        var waiter: (count: Int, continuation: CheckedContinuation<Void, Never>)?

        /// The waiter, taken, if `done` reached its count.
        mutating func satisfiedWaiter() -> CheckedContinuation<Void, Never>? {
            guard let waiter, done.count >= waiter.count else { return nil }
            self.waiter = nil
            return waiter.continuation
        }
    }

    let state = Mutex(State())

    /// The server whose status tells which nonce carried which version (set once it exists).
    let server = Mutex<XDSServer?>(nil)

    var callbacks: XDSCallbacks {
        XDSCallbacks(
            onStreamClosed: { [self] id, _ in
                state.withLock { state in
                    state.acked[id] = nil
                    state.done.remove(id)
                }
            },
            onRequest: { [self] id, request in
                guard case .delta(let request) = request, !request.responseNonce.isEmpty, !request.hasErrorDetail,
                    let status = server.withLock({ $0 })?.status.typeStatus(streamID: id, typeURL: request.typeURL),
                    status.lastSentNonce == request.responseNonce, let version = status.lastSentVersion
                else { return }
                let waiter = state.withLock { state in
                    state.acked[id, default: [:]][request.typeURL] = version
                    if !state.target.isEmpty,
                        state.target.allSatisfy({ state.acked[id]?[$0.key] == $0.value })
                    {
                        state.done.insert(id)
                    }
                    return state.satisfiedWaiter()
                }
                waiter?.resume()
            })
    }

    /// Starts waiting for `target` (type → version); streams already there count at once.
    func expect(_ target: [String: String]) {
        state.withLock { state in
            state.target = target
            state.done = Set(state.acked.compactMap { id, acked in
                target.allSatisfy { acked[$0.key] == $0.value } ? id : nil
            })
        }
    }

    var doneCount: Int { state.withLock { $0.done.count } }

    /// Returns once `count` streams are done or `timeout` has passed (no polling: the ACK that
    /// completes the count resumes the waiter).
    func wait(forDone count: Int, timeout: Duration) async {
        let timer = Task {
            try await Task.sleep(for: timeout)
            state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter?.continuation
            }?.resume()
        }
        defer { timer.cancel() }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.waiter = (count, continuation)
                return state.satisfiedWaiter()
            }
            now?.resume()
        }
    }
}

/// An xDS server with `clients` delta clients connected (in another process by default, so
/// the server's memory is measured alone), and the full and incremental pushes of the
/// benchmark: `clusters` clusters with as many endpoint sets, and `listeners` listeners.
public final class XDSBenchEnvironment: Sendable {
    /// Connected delta clients.
    public let clientCount: Int
    /// Which client they are.
    public let clientVariant: LoadClients.Variant
    /// Clusters (and as many endpoint sets) in a full push.
    public let clusterCount: Int
    /// Listeners in a full push.
    public let listenerCount: Int
    let snapshots: SnapshotCache
    let endpoints: LinearCache
    let tracker: AckTracker
    /// The server under test.
    public let server: XDSServer
    let serverTask: Task<Void, any Error>
    let clientsTask: Task<Void, any Error>?
    let clientProcess: Process?
    /// Queries to the client process's ``Receipts`` and its answers (nil: clients in process).
    let receiptQueries: (commands: FileHandle, answers: FileHandle)?
    /// ``MonotonicClock`` instant at which the last push started.
    let pushStart = Atomic<UInt64>(0)
    /// Server RSS before any client connected, in KiB.
    public let residentBeforeKB: Int
    /// Server RSS with every client connected and nothing pushed yet, in KiB.
    public let residentConnectedKB: Int
    let generation = Atomic<Int>(0)
    static let key = NodeKey("all")

    /// Starts the server and the clients and waits until every client is connected and synced
    /// with empty CDS, EDS and LDS.
    ///
    /// - Parameter clientExecutable: the `xds-load-clients` executable; nil runs the clients in
    ///   this process (then memory figures include them).
    /// - Parameter variant: the clients: load-test clients (wire or lean) or full ``XDSClient``s.
    public init(
        clients: Int = 1000, clusters: Int = 1000, listeners: Int = 100, clientExecutable: String?,
        variant: LoadClients.Variant = .wire
    ) async throws {
        clientCount = clients
        clientVariant = variant
        clusterCount = clusters
        listenerCount = listeners
        snapshots = SnapshotCache(hash: { _ in XDSBenchEnvironment.key })
        endpoints = LinearCache(typeURL: TypeURL.endpoint, versionPrefix: "e")
        let cache = MuxCache(caches: [TypeURL.endpoint: endpoints], fallback: snapshots, hash: { _ in XDSBenchEnvironment.key })
        snapshots.setSnapshot(
            Snapshot(version: "0", resources: [TypeURL.cluster: [], TypeURL.listener: []]), for: Self.key)
        endpoints.setResources([])
        tracker = AckTracker()
        server = XDSServer(cache: cache, callbacks: tracker.callbacks)
        tracker.server.withLock { [server] in $0 = server }
        let bound = Mutex<Int?>(nil)
        let server = self.server
        serverTask = Task { try await server.serve(host: "127.0.0.1", port: 0) { p in bound.withLock { $0 = p } } }
        var port: Int?
        for _ in 0..<1000 {
            port = bound.withLock { $0 }
            if port != nil { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        guard let port else { throw BenchError("the xDS server did not start") }
        residentBeforeKB = ProcessStats.residentKB()
        if let clientExecutable {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: clientExecutable)
            process.arguments = ["--port", String(port), "--clients", String(clients), "--client", variant.rawValue]
            let commands = Pipe()  // the child exits when this process (and the pipe) goes
            let answers = Pipe()
            process.standardInput = commands
            process.standardOutput = answers
            try process.run()
            clientProcess = process
            receiptQueries = (commands.fileHandleForWriting, answers.fileHandleForReading)
            clientsTask = nil
        } else {
            clientProcess = nil
            receiptQueries = nil
            clientsTask = Task { try await LoadClients.run(port: port, count: clients, variant: variant) }
        }
        let deadline = ContinuousClock.now + .seconds(300)
        while true {
            let all = server.status.all
            if all.count == clients && all.allSatisfy({ $0.types.count == 3 && $0.isSynced }) { break }
            if ContinuousClock.now > deadline { throw BenchError("only \(all.count) of \(clients) clients connected") }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(500))  // let allocations settle
        residentConnectedKB = ProcessStats.residentKB()
    }

    /// CPU seconds used so far by the server process and by the client process (0 when the
    /// clients run in this process).
    public var cpuSeconds: (server: Double, clients: Double) {
        (ProcessStats.cpuSeconds(), clientProcess.map { ProcessStats.cpuSeconds(pid: $0.processIdentifier) } ?? 0)
    }

    /// Server memory per connected client (nothing pushed yet), in KiB.
    public var connectedKBPerClient: Double { Double(residentConnectedKB - residentBeforeKB) / Double(clientCount) }

    /// Server memory per client now (e.g. after a full push), in KiB.
    public var currentKBPerClient: Double { Double(ProcessStats.residentKB() - residentBeforeKB) / Double(clientCount) }

    /// A change ready to apply: resources built and marshalled, versions known.
    public struct PreparedPush: Sendable {
        let snapshot: Snapshot?
        let endpoints: [XDSResource]
        let replaceEndpoints: Bool
        let target: [String: String]
        let what: String
    }

    /// New contents for every cluster, endpoint set and listener (a full push).
    public func prepareFullPush() throws -> PreparedPush {
        let g = generation.add(1, ordering: .relaxed).newValue
        var clusters: [XDSResource] = []
        var assignments: [XDSResource] = []
        clusters.reserveCapacity(clusterCount)
        assignments.reserveCapacity(clusterCount)
        for c in 0..<clusterCount {
            clusters.append(try XDSFixtures.cluster("cluster-\(c)", generation: g))
            assignments.append(try XDSFixtures.endpoints("cluster-\(c)", ports: [10_000 + c + g, 20_000 + c + g]))
        }
        let listeners = try (0..<listenerCount).map { l in
            try XDSFixtures.listener("listener-\(l)", port: 15_000 + l + g, route: "route-\(l)-\(g)")
        }
        let version = "g\(g)"
        return PreparedPush(
            snapshot: Snapshot(version: version, resources: [TypeURL.cluster: clusters, TypeURL.listener: listeners]),
            endpoints: assignments, replaceEndpoints: true,
            target: [TypeURL.cluster: version, TypeURL.endpoint: nextEndpointVersion(), TypeURL.listener: version],
            what: "full push")
    }

    /// New endpoints for one cluster (an incremental push).
    public func prepareIncrementalPush() throws -> PreparedPush {
        let g = generation.add(1, ordering: .relaxed).newValue
        let changed = try XDSFixtures.endpoints("cluster-0", ports: [40_000 + g % 20_000])
        var target = tracker.state.withLock { $0.target }
        target[TypeURL.endpoint] = nextEndpointVersion()
        return PreparedPush(snapshot: nil, endpoints: [changed], replaceEndpoints: false, target: target, what: "incremental push")
    }

    /// Applies `prepared` and returns the time until every client has ACKed the new versions.
    public func push(_ prepared: PreparedPush) async throws -> Duration {
        tracker.expect(prepared.target)
        let start = ContinuousClock.now
        pushStart.store(MonotonicClock.nanoseconds(), ordering: .relaxed)
        if let snapshot = prepared.snapshot { snapshots.setSnapshot(snapshot, for: Self.key) }
        if prepared.replaceEndpoints {
            endpoints.setResources(prepared.endpoints)
        } else {
            endpoints.updateResources(prepared.endpoints)
        }
        try await waitForAll(since: start, what: prepared.what)
        return ContinuousClock.now - start
    }

    /// For the last push (call after ``push(_:)`` returned): the time from its start until the
    /// last client received the last of `prepared`'s new versions, from the instants the load-test
    /// clients record on receipt (nil for other clients, or if some client does not hold them).
    /// The server sees the ACKs later: this is the part of ``push(_:)`` that ends at the clients.
    public func receivedByAll(_ prepared: PreparedPush) -> Duration? {
        guard clientVariant != .full else { return nil }
        let start = pushStart.load(ordering: .relaxed)
        var latest: UInt64 = 0
        for (typeURL, version) in prepared.target {
            guard let (count, received) = receipts(typeURL: typeURL, version: version), count == clientCount
            else { return nil }
            latest = max(latest, received)
        }
        guard latest >= start else { return nil }  // nothing of it was new
        return .nanoseconds(Int64(latest - start))
    }

    /// How many clients hold `version` of `typeURL`, and when the last of them received it.
    func receipts(typeURL: String, version: String) -> (count: Int, latest: UInt64)? {
        guard let (commands, answers) = receiptQueries else {
            return Receipts.shared.received(typeURL: typeURL, version: version)
        }
        commands.write(Data("received \(typeURL) \(version)\n".utf8))
        var line: [UInt8] = []
        while true {
            let byte = answers.readData(ofLength: 1)
            guard let first = byte.first else { return nil }  // the client process ended
            if first == UInt8(ascii: "\n") { break }
            line.append(first)
        }
        let words = String(decoding: line, as: UTF8.self).split(separator: " ")
        guard words.count == 2, let count = Int(words[0]), let latest = UInt64(words[1]) else { return nil }
        return (count, latest)
    }

    /// Replaces every cluster, endpoint set and listener; returns the time until all ACKed.
    public func fullPush() async throws -> Duration { try await push(try prepareFullPush()) }

    /// Changes the endpoints of one cluster; returns the time until all ACKed.
    public func incrementalPush() async throws -> Duration { try await push(try prepareIncrementalPush()) }

    func nextEndpointVersion() -> String {
        let current = endpoints.view(typeURL: TypeURL.endpoint, node: Self.key)?.version ?? "e0"
        return "e" + String((Int(current.dropFirst()) ?? 0) + 1)
    }

    func waitForAll(since start: ContinuousClock.Instant, what: String) async throws {
        await tracker.wait(forDone: clientCount, timeout: .seconds(600) - (ContinuousClock.now - start))
        if tracker.doneCount < clientCount {
            throw BenchError("\(what): only \(tracker.doneCount) of \(clientCount) clients ACKed")
        }
    }

    /// Stops the clients and the server.
    public func stop() async {
        if let clientProcess {
            clientProcess.terminate()
            clientProcess.waitUntilExit()
        }
        clientsTask?.cancel()
        _ = await clientsTask?.result
        serverTask.cancel()
        _ = await serverTask.result
    }
}

/// A benchmark that could not run.
public struct BenchError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
