/// Any resource a manifest can hold: one case per modelled kind, and ``RawResource`` for the rest.
public enum AnyResource: Sendable, Equatable {
    case authorizationPolicy(AuthorizationPolicy)
    case peerAuthentication(PeerAuthentication)
    case requestAuthentication(RequestAuthentication)
    case virtualService(VirtualService)
    case destinationRule(DestinationRule)
    case serviceEntry(ServiceEntry)
    case workloadEntry(WorkloadEntry)
    case gateway(Gateway)
    case httpRoute(HTTPRoute)
    case namespace(Namespace)
    case service(Service)
    case pod(Pod)
    case serviceAccount(ServiceAccount)
    case endpointSlice(EndpointSlice)
    case raw(RawResource)

    /// The typed resource, or nil for a raw one.
    public var typed: (any MeshResource)? {
        switch self {
        case .authorizationPolicy(let r): return r
        case .peerAuthentication(let r): return r
        case .requestAuthentication(let r): return r
        case .virtualService(let r): return r
        case .destinationRule(let r): return r
        case .serviceEntry(let r): return r
        case .workloadEntry(let r): return r
        case .gateway(let r): return r
        case .httpRoute(let r): return r
        case .namespace(let r): return r
        case .service(let r): return r
        case .pod(let r): return r
        case .serviceAccount(let r): return r
        case .endpointSlice(let r): return r
        case .raw: return nil
        }
    }

    /// The resource's kind, e.g. `VirtualService`.
    public var kind: String {
        if case .raw(let raw) = self { return raw.kind }
        return type(of: typed!).kind
    }

    /// The resource's `apiVersion` as written.
    public var apiVersion: String {
        if case .raw(let raw) = self { return raw.apiVersion }
        return typed!.apiVersion
    }

    /// The resource's metadata.
    public var metadata: ObjectMeta {
        if case .raw(let raw) = self { return raw.metadata }
        return typed!.metadata
    }

    /// The typed resource when it is an `R`.
    public func `as`<R: MeshResource>(_ type: R.Type) -> R? { typed as? R }
}

/// The kinds the loader decodes into typed values.
enum ResourceKinds {
    struct Entry: Sendable {
        let type: any MeshResource.Type
        let decode: @Sendable (ManifestNode, [any CodingKey]) throws(ManifestDecodingError) -> (AnyResource, [ManifestDecoder.UnknownField])
    }

    static func entry<R: MeshResource>(_ type: R.Type, _ wrap: @escaping @Sendable (R) -> AnyResource) -> Entry {
        Entry(type: type) { node, path throws(ManifestDecodingError) in
            let (value, unknown) = try ManifestDecoder.decode(R.self, from: node, at: path)
            return (wrap(value), unknown)
        }
    }

    static let all: [Entry] = [
        entry(AuthorizationPolicy.self, AnyResource.authorizationPolicy),
        entry(PeerAuthentication.self, AnyResource.peerAuthentication),
        entry(RequestAuthentication.self, AnyResource.requestAuthentication),
        entry(VirtualService.self, AnyResource.virtualService),
        entry(DestinationRule.self, AnyResource.destinationRule),
        entry(ServiceEntry.self, AnyResource.serviceEntry),
        entry(WorkloadEntry.self, AnyResource.workloadEntry),
        entry(Gateway.self, AnyResource.gateway),
        entry(HTTPRoute.self, AnyResource.httpRoute),
        entry(Namespace.self, AnyResource.namespace),
        entry(Service.self, AnyResource.service),
        entry(Pod.self, AnyResource.pod),
        entry(ServiceAccount.self, AnyResource.serviceAccount),
        entry(EndpointSlice.self, AnyResource.endpointSlice),
    ]

    /// Entries by `group` + "/" + `kind`.
    static let byGroupKind: [String: Entry] = Dictionary(
        uniqueKeysWithValues: all.map { ("\($0.type.apiGroup)/\($0.type.kind)", $0) })
}
