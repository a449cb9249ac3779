import MeshAPI

/// Turns resources into model values. Pure functions: the model calls them for whatever
/// changed, never for the whole mesh.
struct Builders {
    let options: MeshModelOptions

    // MARK: Namespaces

    func namespace(_ ns: Namespace) -> MeshNamespace {
        let name = ns.metadata.name ?? ""
        return MeshNamespace(
            name: name, labels: ns.metadata.labels ?? [:], ambient: ns.isAmbient,
            useWaypoint: request(ns.useWaypoint, namespace: name))
    }

    /// The Gateway an `istio.io/use-waypoint` label asks for; nil when absent or `none`.
    func request(_ binding: WaypointBinding?, namespace: String) -> NamespacedName? {
        guard case .waypoint(let name, let ns)? = binding else { return nil }
        return NamespacedName(namespace: ns ?? namespace, name: name)
    }

    /// The waypoint a resource asks for: its own label, else its namespace's (unless it opted out).
    func waypointRequest(own: WaypointBinding?, namespace: Namespace?, namespaceName: String)
        -> (NamespacedName, WaypointBindingSource)?
    {
        switch own {
        case .optedOut?: return nil
        case .waypoint?: return request(own, namespace: namespaceName).map { ($0, .resource) }
        case nil: return request(namespace?.useWaypoint, namespace: namespaceName).map { ($0, .namespace) }
        }
    }

    /// The binding for a request, when the waypoint exists and takes this kind of traffic.
    func bind(_ request: (NamespacedName, WaypointBindingSource)?, forServices: Bool, waypoints: [NamespacedName: MeshWaypoint]) -> ResolvedWaypoint? {
        guard let (id, source) = request, let waypoint = waypoints[id] else { return nil }
        let accepts = forServices ? waypoint.trafficType.handlesServiceTraffic : waypoint.trafficType.handlesWorkloadTraffic
        guard accepts else { return nil }
        return ResolvedWaypoint(waypoint: id, hostname: waypoint.hostname, addresses: waypoint.addresses, port: waypoint.port, source: source)
    }

    // MARK: Waypoints

    func waypoint(_ gateway: Gateway, service: Service?) -> MeshWaypoint? {
        guard gateway.spec.gatewayClassName == Gateway.waypointClassName,
            let name = gateway.metadata.name, let ns = gateway.metadata.namespace
        else { return nil }
        let traffic = gateway.metadata.label(MeshLabels.waypointFor).flatMap(WaypointTrafficType.init(rawValue:)) ?? .service
        var addresses = (gateway.status?.addresses ?? []).filter { ($0.type ?? "IPAddress") == "IPAddress" }.compactMap(\.value)
        if addresses.isEmpty, let service { addresses = clusterIPs(service) }
        let port = gateway.spec.listeners.first { $0.protocol == Gateway.hboneProtocol }?.port ?? Gateway.hbonePort
        return MeshWaypoint(
            name: name, namespace: ns, trafficType: traffic, hostname: options.serviceHostname(name: name, namespace: ns),
            addresses: addresses, port: port, labels: gateway.metadata.labels ?? [:])
    }

    // MARK: Services

    func clusterIPs(_ service: Service) -> [String] {
        guard let spec = service.spec else { return [] }
        let ips = spec.clusterIPs ?? spec.clusterIP.map { [$0] } ?? []
        return ips.filter { !$0.isEmpty && $0 != "None" }
    }

    func service(_ service: Service, namespace: Namespace?, waypoints: [NamespacedName: MeshWaypoint])
        -> (MeshService, waypointRequest: NamespacedName?)?
    {
        guard let name = service.metadata.name, let ns = service.metadata.namespace else { return nil }
        let spec = service.spec
        let ports: [ServicePort] = (spec?.ports ?? []).map { p in
            let target: TargetPort
            switch p.effectiveTargetPort {
            case .int(let n): target = .number(n)
            case .string(let s): target = Int(s).map(TargetPort.number) ?? .name(s)
            }
            let proto: PortProtocol = p.effectiveProtocol == .UDP ? .udp : PortProtocol.resolve(appProtocol: p.appProtocol, name: p.name)
            return ServicePort(name: p.name, port: p.port, targetPort: target, protocol: proto, appProtocol: p.appProtocol)
        }
        let selector = spec?.selector.flatMap { $0.isEmpty ? nil : $0 }
        // A waypoint's own Service never goes through a waypoint.
        let isWaypointService = waypoints[NamespacedName(namespace: ns, name: name)] != nil
        let request = isWaypointService ? nil : waypointRequest(
            own: MeshLabels.waypointBinding(labels: service.metadata.labels, namespace: ns), namespace: namespace, namespaceName: ns)
        let result = MeshService(
            name: name, namespace: ns, hostname: options.serviceHostname(name: name, namespace: ns),
            addresses: clusterIPs(service), ports: ports, selector: selector, headless: spec?.isHeadless ?? false,
            labels: service.metadata.labels ?? [:], annotations: service.metadata.annotations ?? [:],
            waypoint: bind(request, forServices: true, waypoints: waypoints), origin: .kubernetes,
            type: spec?.effectiveType.rawValue)
        return (result, request?.0)
    }

    func services(_ entry: ServiceEntry, namespace: Namespace?, waypoints: [NamespacedName: MeshWaypoint])
        -> ([MeshService], waypointRequest: NamespacedName?)
    {
        guard let name = entry.metadata.name, let ns = entry.metadata.namespace else { return ([], nil) }
        let spec = entry.spec
        let ports: [ServicePort] = (spec.ports ?? []).map { p in
            ServicePort(
                name: p.name, port: Int(p.number), targetPort: .number(Int(p.targetPort ?? p.number)),
                protocol: p.protocol.flatMap(PortProtocol.init(istioName:)) ?? PortProtocol.resolve(appProtocol: nil, name: p.name))
        }
        let selector: [String: String]? = spec.workloadSelector.map { $0.labels ?? [:] }
        let request = waypointRequest(
            own: MeshLabels.waypointBinding(labels: entry.metadata.labels, namespace: ns), namespace: namespace, namespaceName: ns)
        let waypoint = bind(request, forServices: true, waypoints: waypoints)
        let resolution = spec.resolution.flatMap { ServiceResolution(rawValue: $0.rawValue) } ?? ServiceResolution.none
        var seen = Set<String>()
        let services = spec.hosts.filter { seen.insert($0).inserted }.map { host in
            MeshService(
                name: name, namespace: ns, hostname: host, addresses: spec.addresses ?? [], ports: ports, selector: selector,
                headless: false, labels: entry.metadata.labels ?? [:], annotations: entry.metadata.annotations ?? [:],
                waypoint: waypoint, origin: .serviceEntry(name: name), type: nil, resolution: resolution,
                meshExternal: spec.location != .MESH_INTERNAL, subjectAltNames: spec.subjectAltNames ?? [])
        }
        return (services, request?.0)
    }

    // MARK: Workloads

    /// The controller of a pod: (name, type), from its owner references.
    func controller(of pod: Pod) -> (String, WorkloadType) {
        let podName = pod.metadata.name ?? ""
        guard let owner = pod.metadata.ownerReferences?.first(where: { $0["controller"] == .bool(true) })
            ?? pod.metadata.ownerReferences?.first,
            let kind = owner["kind"]?.stringValue, let ownerName = owner["name"]?.stringValue
        else { return (podName, .pod) }
        switch kind {
        case "ReplicaSet":
            if let hash = pod.metadata.label(MeshConstants.podTemplateHashLabel), ownerName.hasSuffix("-\(hash)") {
                return (String(ownerName.dropLast(hash.count + 1)), .deployment)
            }
            return (ownerName, .deployment)
        case "Job":
            // A CronJob names its Jobs `<cronjob>-<scheduled minute>`.
            if let dash = ownerName.lastIndex(of: "-"), ownerName[ownerName.index(after: dash)...].allSatisfy(\.isNumber),
                ownerName.index(after: dash) < ownerName.endIndex
            {
                return (String(ownerName[..<dash]), .cronJob)
            }
            return (ownerName, .job)
        default:
            return (ownerName, .deployment)
        }
    }

    func isAmbient(labels: [String: String]?, annotations: [String: String]?, namespace: Namespace?) -> Bool {
        let own = labels?[MeshLabels.dataplaneMode]
        if own == MeshLabels.dataplaneModeNone { return false }
        if annotations?[MeshLabels.sidecarStatus] != nil { return false }
        if annotations?[MeshLabels.ambientRedirection] == "enabled" { return true }
        return own == MeshLabels.dataplaneModeAmbient || namespace?.isAmbient == true
    }

    func podUID(namespace: String, name: String) -> String { "\(options.clusterID)//v1/Pod/\(namespace)/\(name)" }

    func workload(_ pod: Pod, namespace: Namespace?, waypoints: [NamespacedName: MeshWaypoint])
        -> (MeshWorkload, waypointRequest: NamespacedName?)?
    {
        guard let name = pod.metadata.name, let ns = pod.metadata.namespace else { return nil }
        if let phase = pod.status?.phase, phase == .Succeeded || phase == .Failed { return nil }
        let ips = pod.ips
        guard !ips.isEmpty else { return nil }
        let (workloadName, type) = controller(of: pod)
        let canonical = MeshLabels.canonicalService(labels: pod.metadata.labels, workloadName: workloadName)
        let hostNetwork = pod.spec?.hostNetwork ?? false
        let ambient = !hostNetwork && isAmbient(labels: pod.metadata.labels, annotations: pod.metadata.annotations, namespace: namespace)
        let ready = pod.isReady && pod.metadata.deletionTimestamp == nil
        var namedPorts: [String: Int] = [:]
        for container in pod.spec?.containers ?? [] {
            for port in container.ports ?? [] { if let n = port.name { namedPorts[n] = port.containerPort } }
        }
        // A waypoint's own pods never go through a waypoint.
        let isWaypointPod = pod.metadata.label(MeshLabels.gatewayName).map {
            waypoints[NamespacedName(namespace: ns, name: $0)] != nil } ?? false
        let request = isWaypointPod ? nil : waypointRequest(own: pod.useWaypoint, namespace: namespace, namespaceName: ns)
        let labels = pod.metadata.labels ?? [:]
        let workload = MeshWorkload(
            uid: podUID(namespace: ns, name: name), name: name, namespace: ns, addresses: ips,
            network: pod.network ?? namespace?.network ?? options.defaultNetwork, clusterID: options.clusterID,
            trustDomain: options.trustDomain, serviceAccount: pod.serviceAccountName, node: pod.spec?.nodeName,
            nodeAddress: pod.status?.hostIP, labels: labels, canonicalName: canonical.name,
            canonicalRevision: canonical.revision, workloadName: workloadName, workloadType: type,
            status: ready ? .healthy : .unhealthy, tunnelProtocol: ambient ? .hbone : .none,
            waypoint: bind(request, forServices: false, waypoints: waypoints), hostNetwork: hostNetwork,
            namedPorts: namedPorts, locality: locality(labels),
            applicationTunnel: pod.metadata.annotations?[MeshLabels.applicationTunnel].flatMap(MeshWorkload.ApplicationTunnel.init(annotation:)),
            origin: .pod(NamespacedName(namespace: ns, name: name)))
        return (workload, request?.0)
    }

    func locality(_ labels: [String: String]) -> String? {
        guard let region = labels[MeshLabels.region] else { return nil }
        return [region, labels[MeshLabels.zone]].compactMap { $0 }.joined(separator: "/")
    }

    /// A workload for a WorkloadEntry spec (a WorkloadEntry, or a ServiceEntry endpoint).
    func workload(
        entry spec: WorkloadEntry.Spec, uid: String, name: String, namespace ns: String, metadata: ObjectMeta,
        namespace: Namespace?, origin: WorkloadOrigin, waypoints: [NamespacedName: MeshWaypoint]
    ) -> (MeshWorkload, waypointRequest: NamespacedName?) {
        var addresses: [String] = []
        var hostname: String?
        if let address = spec.address, !address.isEmpty {
            if Self.isIPAddress(address) { addresses = [address] } else { hostname = address }
        }
        let labels = (metadata.labels ?? [:]).merging(spec.labels ?? [:]) { _, spec in spec }
        let canonical = MeshLabels.canonicalService(labels: labels, workloadName: name)
        let request = waypointRequest(
            own: MeshLabels.waypointBinding(labels: labels, namespace: ns), namespace: namespace, namespaceName: ns)
        let workload = MeshWorkload(
            uid: uid, name: name, namespace: ns, addresses: addresses, hostname: hostname,
            network: spec.network ?? namespace?.network ?? options.defaultNetwork, clusterID: options.clusterID,
            trustDomain: options.trustDomain, serviceAccount: spec.serviceAccount ?? MeshConstants.defaultServiceAccount,
            labels: labels, canonicalName: canonical.name, canonicalRevision: canonical.revision, workloadName: name,
            workloadType: .pod, status: .healthy,
            tunnelProtocol: isAmbient(labels: labels, annotations: metadata.annotations, namespace: namespace) ? .hbone : .none,
            waypoint: bind(request, forServices: false, waypoints: waypoints),
            namedPorts: (spec.ports ?? [:]).mapValues { Int($0) }, namedPortsOverrideTarget: true,
            locality: spec.locality, origin: origin)
        return (workload, request?.0)
    }

    func workloadEntryUID(namespace: String, name: String) -> String {
        "\(options.clusterID)/networking.istio.io/WorkloadEntry/\(namespace)/\(name)"
    }

    func serviceEntryEndpointUID(namespace: String, name: String, address: String) -> String {
        "\(options.clusterID)/networking.istio.io/ServiceEntry/\(namespace)/\(name)/\(address)"
    }

    /// True for a dotted IPv4 address or an IPv6 address.
    static func isIPAddress(_ s: String) -> Bool {
        if s.contains(":") { return s.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." } }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in !p.isEmpty && p.count <= 3 && p.allSatisfy(\.isNumber) && Int(p)! <= 255 }
    }

    // MARK: Endpoints

    /// The port map of `workload` behind `service`: service port → target port.
    func endpointPorts(service: MeshService, workload: MeshWorkload) -> [Int: Int] {
        var ports: [Int: Int] = [:]
        for port in service.ports {
            if workload.namedPortsOverrideTarget, let name = port.name, let n = workload.namedPorts[name] {
                ports[port.port] = n
                continue
            }
            switch port.targetPort {
            case .number(let n): ports[port.port] = n
            case .name(let s): if let n = workload.namedPorts[s] { ports[port.port] = n }
            }
        }
        return ports
    }
}
