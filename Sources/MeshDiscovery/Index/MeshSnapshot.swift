import MeshAPI

/// The mesh model at one instant: every namespace, service, workload, endpoint, waypoint and
/// policy, with the indexes that make lookups constant-time.
///
/// A snapshot is a value: it never changes once taken. Taking one is O(1); the model then
/// copies an index the next time it changes it, so hold snapshots briefly (or use
/// ``MeshModel/read(_:)`` for lookups without a copy).
public struct MeshSnapshot: Sendable {
    public internal(set) var options: MeshModelOptions

    public internal(set) var namespaces: [String: MeshNamespace] = [:]
    public internal(set) var services: [ServiceKey: MeshService] = [:]
    public internal(set) var workloads: [String: MeshWorkload] = [:]
    public internal(set) var waypoints: [NamespacedName: MeshWaypoint] = [:]
    public internal(set) var policies: [ResourceKey: MeshPolicy] = [:]
    /// Endpoints by service, then by workload UID.
    public internal(set) var endpoints: [ServiceKey: [String: MeshEndpoint]] = [:]

    var servicesByWorkload = SetIndex<String, ServiceKey>()
    var workloadsByAddress = SetIndex<String, String>()
    var workloadsByNode = SetIndex<String, String>()
    var workloadsByNamespace = SetIndex<String, String>()
    var workloadLabels = LabelIndex()
    var servicesByAddress = SetIndex<String, ServiceKey>()
    var servicesByHostname = SetIndex<String, ServiceKey>()
    var servicesByNamespace = SetIndex<String, ServiceKey>()
    var serviceSelectors = SelectorIndex()
    var nodeAccounts: [NodeAccount: Int] = [:]
    var policiesByNamespace = SetIndex<String, ResourceKey>()
    var policiesByTarget = SetIndex<PolicyTarget, ResourceKey>()
    var policiesByHost = SetIndex<String, ResourceKey>()

    init(options: MeshModelOptions) {
        self.options = options
    }

    // MARK: Workloads

    /// The workload with this UID.
    public func workload(uid: String) -> MeshWorkload? { workloads[uid] }

    /// Workloads with this IP address, optionally only on one network.
    public func workloads(address: String, network: String? = nil) -> [MeshWorkload] {
        workloadsByAddress[address].compactMap { workloads[$0] }.filter { network == nil || $0.network == network }
    }

    /// Workloads running on a node.
    public func workloads(node: String) -> [MeshWorkload] { workloadsByNode[node].compactMap { workloads[$0] } }

    /// Workloads of a namespace.
    public func workloads(namespace: String) -> [MeshWorkload] {
        workloadsByNamespace[namespace].compactMap { workloads[$0] }
    }

    /// Pods and WorkloadEntries of `namespace` whose labels carry every pair of `selector`
    /// (an empty selector matches all of them).
    public func workloads(namespace: String, matching selector: [String: String]) -> [MeshWorkload] {
        workloadLabels.candidates(namespace: namespace, selector: selector).compactMap { workloads[$0] }
            .filter { Labels.match(selector, $0.labels) }
    }

    /// Whether a workload running as `serviceAccount` in `namespace` is on `node`, as a
    /// node agent's certificate request for that identity must prove (MeshCA's node authorizer).
    public func hasWorkload(serviceAccount: String, namespace: String, node: String) -> Bool {
        (nodeAccounts[NodeAccount(namespace: namespace, serviceAccount: serviceAccount, node: node)] ?? 0) > 0
    }

    // MARK: Services

    /// The service with this key.
    public func service(_ key: ServiceKey) -> MeshService? { services[key] }

    /// The service with this hostname in a namespace.
    public func service(hostname: String, namespace: String) -> MeshService? {
        services[ServiceKey(namespace: namespace, hostname: hostname)]
    }

    /// Services with this hostname, in any namespace (ServiceEntries may repeat a host).
    public func services(hostname: String) -> [MeshService] {
        servicesByHostname[hostname].sorted().compactMap { services[$0] }
    }

    /// Services with this virtual IP.
    public func services(address: String) -> [MeshService] {
        servicesByAddress[address].sorted().compactMap { services[$0] }
    }

    /// Services of a namespace.
    public func services(namespace: String) -> [MeshService] {
        servicesByNamespace[namespace].compactMap { services[$0] }
    }

    /// Services a workload is an endpoint of.
    public func services(forWorkload uid: String) -> [MeshService] {
        servicesByWorkload[uid].sorted().compactMap { services[$0] }
    }

    /// Endpoints of a service.
    public func endpoints(service: ServiceKey) -> [MeshEndpoint] {
        (endpoints[service] ?? [:]).values.sorted { $0.workloadUID < $1.workloadUID }
    }

    /// The endpoint of one workload behind one service.
    public func endpoint(service: ServiceKey, workloadUID: String) -> MeshEndpoint? {
        endpoints[service]?[workloadUID]
    }

    // MARK: Waypoints

    /// The waypoint Gateway `namespace/name`.
    public func waypoint(_ id: NamespacedName) -> MeshWaypoint? { waypoints[id] }

    // MARK: Policies

    /// Every policy in a namespace.
    public func policies(namespace: String) -> [MeshPolicy] {
        policiesByNamespace[namespace].sorted().compactMap { policies[$0] }
    }

    /// The security policies (AuthorizationPolicy, PeerAuthentication, RequestAuthentication)
    /// that apply to a workload by scope: the root namespace's mesh-wide ones and its
    /// selector ones that match, the workload namespace's namespace-wide ones and its
    /// selector ones that match. Policies attached with `targetRefs` are not included
    /// (ztunnel ignores them; see ``policies(targeting:)``). A PeerAuthentication with a
    /// selector in the root namespace is ignored, as Istio does.
    public func policies(forWorkload workload: MeshWorkload) -> [MeshPolicy] {
        var namespaces = [options.rootNamespace]
        if workload.namespace != options.rootNamespace { namespaces.append(workload.namespace) }
        var result: [MeshPolicy] = []
        for ns in namespaces {
            for key in policiesByNamespace[ns].sorted() {
                guard let policy = policies[key], policy.isSecurityPolicy, policy.targetRefs.isEmpty else { continue }
                if let selector = policy.selector, !selector.isEmpty {
                    if case .peerAuthentication = policy, ns == options.rootNamespace { continue }
                    if Labels.match(selector, workload.labels) { result.append(policy) }
                } else {
                    result.append(policy)
                }
            }
        }
        return result
    }

    /// Policies attached by `targetRef(s)` (or, for HTTPRoutes, `parentRefs`) to a resource.
    public func policies(targeting target: PolicyTarget) -> [MeshPolicy] {
        policiesByTarget[target].sorted().compactMap { policies[$0] }
    }

    /// VirtualServices, DestinationRules and HTTPRoutes naming this host.
    public func policies(host: String) -> [MeshPolicy] {
        policiesByHost[host].sorted().compactMap { policies[$0] }
    }

    /// Counts, for logs and debug pages.
    public var summary: String {
        "\(namespaces.count) namespaces, \(services.count) services, \(workloads.count) workloads, "
            + "\(endpoints.values.reduce(0) { $0 + $1.count }) endpoints, \(waypoints.count) waypoints, \(policies.count) policies"
    }
}
