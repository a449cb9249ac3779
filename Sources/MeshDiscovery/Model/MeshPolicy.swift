import MeshAPI

/// What a policy is attached to: how a policy is scoped (xds-and-policy C3).
public enum PolicyScope: Sendable, Hashable {
    /// In the root namespace with no selector and no targetRefs: every workload in the mesh.
    case mesh
    /// No selector and no targetRefs: every workload of its namespace.
    case namespace
    /// `selector.matchLabels` (in the root namespace: matching workloads in every namespace).
    case workloadSelector([String: String])
    /// `targetRef(s)` (or an HTTPRoute's `parentRefs`): a Gateway, Service or ServiceEntry.
    case targetRefs([PolicyTarget])
}

/// A resource a policy is attached to by reference, with defaults applied (the policy's
/// namespace, the core group as "").
public struct PolicyTarget: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var kind: String
    public var namespace: String
    public var name: String

    public init(group: String, kind: String, namespace: String, name: String) {
        self.group = group == "core" ? "" : group
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    /// A Kubernetes Service.
    public static func service(namespace: String, name: String) -> PolicyTarget {
        PolicyTarget(group: "", kind: "Service", namespace: namespace, name: name)
    }

    /// A Gateway API Gateway (waypoints are Gateways).
    public static func gateway(namespace: String, name: String) -> PolicyTarget {
        PolicyTarget(group: Gateway.apiGroup, kind: "Gateway", namespace: namespace, name: name)
    }

    /// An Istio ServiceEntry.
    public static func serviceEntry(namespace: String, name: String) -> PolicyTarget {
        PolicyTarget(group: ServiceEntry.apiGroup, kind: "ServiceEntry", namespace: namespace, name: name)
    }

    public var description: String { "\(group.isEmpty ? "" : group + "/")\(kind) \(namespace)/\(name)" }
}

/// A configuration resource the model keeps as written: security policies, traffic rules
/// and Gateways.
public enum MeshPolicy: Sendable, Equatable {
    case authorizationPolicy(AuthorizationPolicy)
    case peerAuthentication(PeerAuthentication)
    case requestAuthentication(RequestAuthentication)
    case virtualService(VirtualService)
    case destinationRule(DestinationRule)
    case httpRoute(HTTPRoute)
    case gateway(Gateway)

    /// The policy as a loaded resource.
    public var resource: AnyResource {
        switch self {
        case .authorizationPolicy(let r): return .authorizationPolicy(r)
        case .peerAuthentication(let r): return .peerAuthentication(r)
        case .requestAuthentication(let r): return .requestAuthentication(r)
        case .virtualService(let r): return .virtualService(r)
        case .destinationRule(let r): return .destinationRule(r)
        case .httpRoute(let r): return .httpRoute(r)
        case .gateway(let r): return .gateway(r)
        }
    }

    /// The policy for a resource, or nil when the resource is not a policy kind.
    public init?(_ resource: AnyResource) {
        switch resource {
        case .authorizationPolicy(let r): self = .authorizationPolicy(r)
        case .peerAuthentication(let r): self = .peerAuthentication(r)
        case .requestAuthentication(let r): self = .requestAuthentication(r)
        case .virtualService(let r): self = .virtualService(r)
        case .destinationRule(let r): self = .destinationRule(r)
        case .httpRoute(let r): self = .httpRoute(r)
        case .gateway(let r): self = .gateway(r)
        default: return nil
        }
    }

    public var metadata: ObjectMeta { resource.metadata }
    public var namespace: String { metadata.namespace ?? "" }
    public var name: String { metadata.name ?? "" }
    public var key: ResourceKey { ResourceKey(resource) }

    /// True for AuthorizationPolicy, PeerAuthentication and RequestAuthentication.
    public var isSecurityPolicy: Bool {
        switch self {
        case .authorizationPolicy, .peerAuthentication, .requestAuthentication: return true
        default: return false
        }
    }

    /// `selector.matchLabels` (DestinationRule: `workloadSelector.matchLabels`); nil when absent.
    public var selector: [String: String]? {
        switch self {
        case .authorizationPolicy(let r): return r.spec?.selector.map { $0.matchLabels ?? [:] }
        case .peerAuthentication(let r): return r.spec?.selector.map { $0.matchLabels ?? [:] }
        case .requestAuthentication(let r): return r.spec?.selector.map { $0.matchLabels ?? [:] }
        case .destinationRule(let r): return r.spec.workloadSelector.map { $0.matchLabels ?? [:] }
        default: return nil
        }
    }

    /// `targetRef` and `targetRefs` (HTTPRoute: `parentRefs`), with defaults applied.
    public var targetRefs: [PolicyTarget] {
        let ns = namespace
        func convert(_ refs: [IstioType.PolicyTargetReference]) -> [PolicyTarget] {
            refs.map { PolicyTarget(group: $0.canonicalGroup, kind: $0.kind, namespace: $0.namespace ?? ns, name: $0.name) }
        }
        switch self {
        case .authorizationPolicy(let r):
            return convert((r.spec?.targetRef.map { [$0] } ?? []) + (r.spec?.targetRefs ?? []))
        case .requestAuthentication(let r):
            return convert((r.spec?.targetRef.map { [$0] } ?? []) + (r.spec?.targetRefs ?? []))
        case .httpRoute(let r):
            return (r.spec.parentRefs ?? []).map {
                PolicyTarget(group: $0.group ?? Gateway.apiGroup, kind: $0.kind ?? "Gateway", namespace: $0.namespace ?? ns, name: $0.name)
            }
        default: return []
        }
    }

    /// Hostnames the policy applies to (VirtualService `hosts`, DestinationRule `host`,
    /// HTTPRoute `hostnames`), short names qualified with the policy's namespace.
    public func hosts(domainSuffix: String) -> [String] {
        let raw: [String]
        switch self {
        case .virtualService(let r): raw = r.spec.hosts ?? []
        case .destinationRule(let r): raw = [r.spec.host]
        case .httpRoute(let r): raw = r.spec.hostnames ?? []
        default: raw = []
        }
        let ns = namespace
        return raw.map { $0.contains(".") || $0 == "*" ? $0 : "\($0).\(ns).svc.\(domainSuffix)" }
    }

    /// How the policy is scoped, given the mesh's root namespace.
    public func scope(rootNamespace: String) -> PolicyScope {
        let refs = targetRefs
        if !refs.isEmpty { return .targetRefs(refs) }
        if let selector, !selector.isEmpty { return .workloadSelector(selector) }
        return namespace == rootNamespace ? .mesh : .namespace
    }
}

extension ResourceKey {
    /// The key of a loaded resource.
    public init(_ resource: AnyResource) {
        let group: String
        if let typed = resource.typed {
            group = type(of: typed).apiGroup
        } else {
            let api = resource.apiVersion
            group = api.contains("/") ? String(api.split(separator: "/")[0]) : ""
        }
        let meta = resource.metadata
        self.init(group: group, kind: resource.kind, namespace: meta.namespace ?? "", name: meta.name ?? "")
    }
}
