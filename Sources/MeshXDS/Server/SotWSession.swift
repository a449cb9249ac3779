import Foundation
import GRPCCore
import MeshProto
import SwiftProtobuf

/// State-of-the-world protocol engine for one stream (ADS, or a per-type stream such as SDS).
final class SotWSession: StreamSession {
    typealias Request = Envoy_Service_Discovery_V3_DiscoveryRequest

    struct TypeState: WatchHolding {
        var wildcard = false
        var names: Set<String> = []
        var everNamed = false
        var sentVersion: String?
        var nonce: String?
        var watch: (any CacheWatch)?

        var interest: Interest { wildcard ? .wildcard : .names(names) }
    }

    let id: UInt64
    let mode = ClientStatus.Mode.sotw
    let server: XDSServer
    let writer: RPCWriter<Envoy_Service_Discovery_V3_DiscoveryResponse>
    let pending: PendingChanges<Request>
    /// The type every request is about on a per-type stream (SDS); nil on ADS.
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
        server: XDSServer, writer: RPCWriter<Envoy_Service_Discovery_V3_DiscoveryResponse>,
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
        try server.callbacks.onRequest?(id, .sotw(request))
        var state = types[typeURL] ?? TypeState()
        let stale = !request.responseNonce.isEmpty && request.responseNonce != state.nonce
        if !stale && !request.responseNonce.isEmpty {
            if request.hasErrorDetail {
                recordNack(typeURL, request, rejected: state.sentVersion ?? "")
            } else {
                statusEntry?.updateType(typeURL) {
                    $0.lastAckedVersion = request.versionInfo
                    $0.lastAckedNonce = request.responseNonce
                }
            }
        }

        // Subscription (A6): an empty list is wildcard only until the first explicit name.
        let before = state.interest
        let requested = Set(request.resourceNames)
        if requested.isEmpty {
            state.wildcard = !state.everNamed && server.options.legacyWildcard
            state.names = []
        } else {
            state.everNamed = true
            state.wildcard = requested.contains("*")
            state.names = requested.subtracting(["*"])
        }
        var added = false
        switch (before, state.interest) {
        case (.wildcard, _): added = false
        case (.names, .wildcard): added = true
        case (.names(let old), .names(let new)): added = !new.isSubset(of: old)
        }
        let removed: Bool
        switch (before, state.interest) {
        case (.wildcard, .wildcard): removed = false
        case (.wildcard, .names): removed = true
        case (.names(let old), .names(let new)): removed = !old.isSubset(of: new)
        case (.names, .wildcard): removed = false
        }
        if let watch = state.watch {
            if before != state.interest { watch.update(interest: state.interest) }
        } else {
            let pending = self.pending
            state.watch = server.cache.watch(typeURL: typeURL, node: nodeKey, interest: state.interest) { change in
                pending.add(typeURL, change)
            }
        }
        let subscribed = state.wildcard ? ["*"] + state.names.sorted() : state.names.sorted()
        statusEntry?.updateType(typeURL) { $0.subscribed = subscribed }
        types[typeURL] = state
        if stale { return }
        let force = state.sentVersion == nil || added
            || (removed && TypeURL.requiresFullStateInSotW(typeURL))
        try await respond(typeURL: typeURL, force: force, since: .now)
    }

    func push(typeURL: String, changes: ChangeSet, since: ContinuousClock.Instant?) async throws {
        guard types[typeURL] != nil else { return }
        try await respond(typeURL: typeURL, force: false, since: since)
    }

    func respond(typeURL: String, force: Bool, since: ContinuousClock.Instant?) async throws {
        guard let nodeKey, var state = types[typeURL],
            let view = server.cache.view(typeURL: typeURL, node: nodeKey)
        else { return }
        // Not forced: send only a new version. A NACKed version equals sentVersion, so it is
        // never resent (go-control-plane#962).
        if !force && view.version == state.sentVersion { return }
        var resources: [Google_Protobuf_Any] = []
        if state.wildcard {
            resources.reserveCapacity(view.resources.count)
            for name in view.resources.keys.sorted() { resources.append(view.resources[name]!.any) }
        } else {
            for name in state.names.sorted() {
                if let resource = view.resources[name] { resources.append(resource.any) }
            }
        }
        // SotW has no "does not exist": for types that are not full state, say nothing when
        // none of the requested resources exist.
        if resources.isEmpty && !state.wildcard && !TypeURL.requiresFullStateInSotW(typeURL) { return }
        nonceCounter += 1
        let nonce = String(nonceCounter)
        var response = Envoy_Service_Discovery_V3_DiscoveryResponse()
        response.versionInfo = view.version
        response.typeURL = typeURL
        response.nonce = nonce
        response.resources = resources
        response.controlPlane = server.controlPlane
        server.callbacks.onResponse?(id, .sotw(response))
        state.sentVersion = view.version
        state.nonce = nonce
        types[typeURL] = state
        recordSending(typeURL, version: view.version, nonce: nonce)
        try await writer.write(response)
        recordSent(typeURL, since: since)
    }

    func recordNack(_ typeURL: String, _ request: Request, rejected: String) {
        recordNack(typeURL, message: request.errorDetail.message, nonce: request.responseNonce, rejected: rejected,
            kept: request.versionInfo)
    }
}
