import MeshProto
import Synchronization

/// What a wildcard delta client that holds exactly one view's resources must be sent to hold
/// another view's: the same for every such client, so computed and serialised once.
final class DeltaPlan: Sendable {
    /// The contents the clients hold (kept alive so that the memo's keys stay unique).
    let from: ViewContents
    /// The contents they move to.
    let to: ViewContents
    /// Resources added or changed.
    let resources: [XDSResource]
    /// Names removed.
    let removed: [String]
    /// The whole response, serialised once: the `resources` entries (field 2), then `header`'s
    /// fields, then a `nonce` field of ``DeltaSession/nonceWidth`` bytes that each client's copy
    /// overwrites with its own nonce (protobuf fields may come in any order).
    let response: SharedDeltaResponse

    init(from held: [String: XDSResource], contents: ViewContents, to view: CacheView, header: Envoy_Service_Discovery_V3_DeltaDiscoveryResponse) {
        from = contents
        to = view.contents
        var resources: [XDSResource] = []
        var size = 0
        for (name, resource) in view.resources where held[name]?.version != resource.version {
            resources.append(resource)
            size += resource.deltaEntry.count
        }
        var removed: [String] = []
        for name in held.keys where view.resources[name] == nil { removed.append(name) }
        var header = header
        header.removedResources = removed
        header.nonce = ""
        // Serialising a message of strings cannot fail.
        let head: [UInt8] = (try? header.serializedBytes()) ?? []
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size + head.count + 2 + DeltaSession.nonceWidth)
        for resource in resources { bytes.append(contentsOf: resource.deltaEntry) }
        bytes.append(contentsOf: head)
        bytes.append(0x2a)  // field 5 (nonce), length-delimited
        bytes.append(UInt8(DeltaSession.nonceWidth))
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: DeltaSession.nonceWidth))
        self.resources = resources
        self.removed = removed
        self.response = SharedDeltaResponse(bytes: bytes, nonceOffset: bytes.count - DeltaSession.nonceWidth)
    }
}

/// A small memo of ``DeltaPlan``s, so that a push to many clients in the same state computes
/// the change and its bytes once rather than once per client.
final class DeltaPlans: Sendable {
    struct Key: Hashable {
        var typeURL: String
        var version: String
        var from: ObjectIdentifier
        var to: ObjectIdentifier
    }

    /// Plans kept at most; the memo is emptied when it would grow beyond (plans are cheap to
    /// remake, and many distinct ones only happen when each is used by few clients).
    static let capacity = 64

    let plans = Mutex<[Key: DeltaPlan]>([:])

    /// The plan from `held` (whose identity is `contents`) to `view`, made once; `header` holds
    /// the response's fields that are the same for every client (type, version, control plane).
    func plan(
        typeURL: String, from held: [String: XDSResource], contents: ViewContents, to view: CacheView,
        header: @autoclosure () -> Envoy_Service_Discovery_V3_DeltaDiscoveryResponse
    ) -> DeltaPlan {
        let key = Key(
            typeURL: typeURL, version: view.version, from: ObjectIdentifier(contents),
            to: ObjectIdentifier(view.contents))
        return plans.withLock { plans in
            // A plan in the memo keeps both contents alive, so their identifiers are not reused.
            if let plan = plans[key] { return plan }
            let plan = DeltaPlan(from: held, contents: contents, to: view, header: header())
            if plans.count >= Self.capacity { plans.removeAll(keepingCapacity: true) }
            plans[key] = plan
            return plan
        }
    }
}
