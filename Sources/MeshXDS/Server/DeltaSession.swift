import Foundation
import GRPCCore
import MeshProto

/// Incremental (delta) protocol engine for one stream.
final class DeltaSession: StreamSession {
    typealias Request = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest

    struct TypeState: WatchHolding {
        var wildcard = false
        var names: Set<String> = []
        /// What the client holds: name → version (seeded by `initial_resource_versions`).
        var known = KnownVersions()
        /// Private entries of `known` at which to try sharing a cache view's storage again.
        var nextRebase = KnownVersions.rebaseThreshold
        /// Subscribed names already reported missing in `removed_resources`.
        var reportedAbsent: Set<String> = []
        var watch: (any CacheWatch)?
        var responded = false
        var nonce: String?
        var nonceVersion: String?

        var interest: Interest { wildcard ? .wildcard : .names(names) }
    }

    let id: UInt64
    let mode = ClientStatus.Mode.delta
    let server: XDSServer
    let writer: RPCWriter<DeltaResponseWire>
    let pending: PendingChanges<Request>
    let impliedTypeURL: String?
    var node: Envoy_Config_Core_V3_Node?
    var nodeKey: NodeKey?
    /// This stream's entry in the server's ``StatusRegistry`` (set with `node`).
    var statusEntry: StatusRegistry.Entry?
    /// Metrics instruments by type URL, fetched once per stream.
    var instruments: [String: XDSMetrics.PerType] = [:]
    var types: [String: TypeState] = [:]
    var nonceCounter: UInt64 = 0

    init(
        server: XDSServer, writer: RPCWriter<DeltaResponseWire>,
        pending: PendingChanges<Request>, impliedTypeURL: String? = nil
    ) {
        self.id = server.newStreamID()
        self.server = server
        self.writer = writer
        self.pending = pending
        self.impliedTypeURL = impliedTypeURL
    }

    func handle(_ incoming: Request) async throws {
        var request = incoming
        let nodeKey = try identify(&request)
        let typeURL = impliedTypeURL ?? request.typeURL
        guard !typeURL.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "type_url is required on ADS requests")
        }
        try server.callbacks.onRequest?(id, .delta(request))
        let first = types[typeURL] == nil
        var state = types.removeValue(forKey: typeURL) ?? TypeState()  // mutated in place, put back below

        // ACK / NACK (the nonce only correlates; subscription changes apply even when stale).
        if !request.responseNonce.isEmpty && request.responseNonce == state.nonce {
            if request.hasErrorDetail {
                recordNack(typeURL, request, rejected: state.nonceVersion ?? "")
            } else {
                let version = state.nonceVersion
                statusEntry?.updateType(typeURL) {
                    $0.lastAckedVersion = version
                    $0.lastAckedNonce = request.responseNonce
                }
            }
        }

        if first {
            for (name, version) in request.initialResourceVersions { state.known[name] = version }
            if request.resourceNamesSubscribe.isEmpty && server.options.legacyWildcard {
                state.wildcard = true  // legacy wildcard: an empty first subscribe list
            }
        }
        var changedSubscription = first
        for name in request.resourceNamesSubscribe {
            changedSubscription = true
            if name == "*" {
                state.wildcard = true
                continue
            }
            state.names.insert(name)
            state.reportedAbsent.remove(name)
            // A repeated subscribe must be answered even if the client seems to hold it,
            // unless this is the reconnect request that told us its version.
            if request.initialResourceVersions[name] == nil { state.known[name] = nil }
        }
        for name in request.resourceNamesUnsubscribe {
            changedSubscription = true
            if name == "*" {
                state.wildcard = false
                continue
            }
            state.names.remove(name)
            state.reportedAbsent.remove(name)
            // Wildcard still covering it: the client dropped it, so it must be sent again (A6).
            // Not covered: the client forgot it; no removal is needed.
            state.known[name] = nil
        }
        if let watch = state.watch {
            if changedSubscription { watch.update(interest: state.interest) }
        } else {
            let pending = self.pending
            state.watch = server.cache.watch(typeURL: typeURL, node: nodeKey, interest: state.interest) { change in
                pending.add(typeURL, change)
            }
        }
        if changedSubscription {
            let subscribed = state.wildcard ? ["*"] + state.names.sorted() : state.names.sorted()
            statusEntry?.updateType(typeURL) { $0.subscribed = subscribed }
        }
        types[typeURL] = state
        if changedSubscription {
            try await respond(typeURL: typeURL, changes: .all, since: .now)
        }
    }

    func push(typeURL: String, changes: ChangeSet, since: ContinuousClock.Instant?) async throws {
        guard types[typeURL] != nil else { return }
        try await respond(typeURL: typeURL, changes: changes, since: since)
    }

    func respond(typeURL: String, changes: ChangeSet, since: ContinuousClock.Instant?) async throws {
        guard let nodeKey, types[typeURL] != nil,
            let view = server.cache.view(typeURL: typeURL, node: nodeKey)
        else { return }
        // Taken out of `types` while it changes, so that `known` (one entry per resource the
        // client holds) is mutated in place rather than copied on every push.
        var state = types.removeValue(forKey: typeURL)!
        if state.wildcard && state.names.isEmpty && state.reportedAbsent.isEmpty,
            let held = state.known.exactContents
        {
            // In step with a view, like most clients of a push: the change is the same for all of
            // them, computed and serialised once (whatever `changes` says, the plan is the whole
            // difference between what the client holds and the view).
            let plan = server.deltaPlans.plan(
                typeURL: typeURL, from: state.known.base, contents: held, to: view,
                header: header(typeURL, view: view))
            state.known.adopt(view)
            state.nextRebase = KnownVersions.rebaseThreshold
            try await send(
                typeURL, &state, view: view, resources: plan.resources, removed: plan.removed, shared: plan.response,
                since: since)
            return
        }
        // Candidates are visited in set order: a delta response's resources are unordered, and
        // sorting names per client was a measurable share of a push to many clients.
        var resources: [XDSResource] = []
        var removed: [String] = []
        func consider(_ name: String) {
            let interested = state.wildcard || state.names.contains(name)
            if interested, let resource = view.resources[name] {
                if state.known[name] != resource.version {
                    resources.append(resource)
                    state.known[name] = resource.version
                }
                state.reportedAbsent.remove(name)
            } else if state.known.removeValue(forKey: name) != nil {
                removed.append(name)
            } else if state.names.contains(name) && !state.reportedAbsent.contains(name) {
                removed.append(name)  // subscribed but absent: say so at once (A8)
                state.reportedAbsent.insert(name)
            }
        }
        switch changes {
        case .names(let names):
            for name in names { consider(name) }
        case .all:
            var candidates = state.names.union(state.known.names)
            if state.wildcard { candidates.formUnion(view.resources.keys) }
            for name in candidates { consider(name) }
        }
        if state.wildcard && state.known.privateCount >= state.nextRebase {
            // Back in step with the cache: share the view's storage instead of a map per client.
            state.nextRebase = state.known.rebase(onto: view)
                ? KnownVersions.rebaseThreshold : state.known.privateCount * 2
        }
        try await send(typeURL, &state, view: view, resources: resources, removed: removed, shared: nil, since: since)
    }

    /// Puts `state` back into `types` and writes the response, if there is anything to say.
    func send(
        _ typeURL: String, _ state: inout TypeState, view: CacheView, resources: [XDSResource], removed: [String],
        shared: SharedDeltaResponse?, since: ContinuousClock.Instant?
    ) async throws {
        if resources.isEmpty && removed.isEmpty && state.responded {
            types[typeURL] = state
            return
        }
        nonceCounter += 1
        let nonce = Self.nonce(nonceCounter)
        var fields = header(typeURL, view: view)
        fields.nonce = nonce
        fields.removedResources = removed
        let response = DeltaResponseWire(header: fields, resources: resources, shared: shared)
        if let onResponse = server.callbacks.onResponse { onResponse(id, .delta(response.message)) }
        state.responded = true
        state.nonce = nonce
        state.nonceVersion = view.version
        types[typeURL] = state
        recordSending(typeURL, version: view.version, nonce: nonce)
        try await writer.write(response)
        recordSent(typeURL, since: since)
    }

    /// The fields of a response that are the same for every client.
    func header(_ typeURL: String, view: CacheView) -> Envoy_Service_Discovery_V3_DeltaDiscoveryResponse {
        var header = Envoy_Service_Discovery_V3_DeltaDiscoveryResponse()
        header.systemVersionInfo = view.version
        header.typeURL = typeURL
        header.controlPlane = server.controlPlane
        return header
    }

    /// Characters in every nonce: a fixed width lets a response serialised once for many
    /// clients carry each one's nonce in place (see ``SharedDeltaResponse``).
    static let nonceWidth = 16

    /// The stream's `counter`th nonce: the counter in hexadecimal, zero-padded to ``nonceWidth``.
    static func nonce(_ counter: UInt64) -> String {
        let digits = String(counter, radix: 16)
        return String(repeating: "0", count: nonceWidth - digits.count) + digits
    }

    func recordNack(_ typeURL: String, _ request: Request, rejected: String) {
        recordNack(typeURL, message: request.errorDetail.message, nonce: request.responseNonce, rejected: rejected,
            kept: statusEntry?.status.withLock { $0.types[typeURL]?.lastAckedVersion } ?? "")
    }
}
