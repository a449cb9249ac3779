import MeshAPI

/// What produces the services of the model.
enum ServiceSource: Hashable, Sendable {
    case kubernetes(NamespacedName)
    case serviceEntry(NamespacedName)
}

/// Something whose derivation depends on a waypoint.
enum WaypointDependent: Hashable, Sendable {
    case service(ServiceSource)
    case workload(WorkloadOrigin)
}

/// What must be derived again after inputs changed.
struct Dirty {
    var namespaces: Set<String> = []
    var waypoints: Set<NamespacedName> = []
    var serviceSources: Set<ServiceSource> = []
    var workloadOrigins: Set<WorkloadOrigin> = []
    /// Services whose endpoints are recomputed in full.
    var services: Set<ServiceKey> = []
    /// Workloads whose endpoint memberships are recomputed.
    var workloads: Set<String> = []
}

/// The model's mutable state: merged inputs, the derived snapshot, and the reverse indexes
/// that keep updates incremental. Only ``MeshModel`` touches it, under its lock.
struct ModelState: Sendable {
    let builders: Builders
    var sourceOrder: [String] = []
    var synced: Set<String> = []
    var bySource: [String: [ResourceKey: AnyResource]] = [:]
    var inputs = Inputs()
    var view: MeshSnapshot

    var serviceKeysBySource: [ServiceSource: [ServiceKey]] = [:]
    var serviceOwner: [ServiceKey: ServiceSource] = [:]
    var workloadUIDsByOrigin: [WorkloadOrigin: [String]] = [:]
    var workloadOwner: [String: WorkloadOrigin] = [:]
    var waypointDependents = SetIndex<NamespacedName, WaypointDependent>()
    var waypointRequestOf: [WaypointDependent: NamespacedName] = [:]
    var sliceAddresses: [ServiceKey: Set<String>] = [:]
    var sliceServicesByAddress = SetIndex<String, ServiceKey>()

    init(options: MeshModelOptions) {
        builders = Builders(options: options)
        view = MeshSnapshot(options: options)
    }

    var options: MeshModelOptions { builders.options }

    // MARK: Sources

    mutating func register(source: String) {
        if !sourceOrder.contains(source) { sourceOrder.append(source) }
    }

    /// The resource at `key` after merging sources: the first registered source that has it wins.
    func effective(_ key: ResourceKey) -> AnyResource? {
        for source in sourceOrder {
            if let r = bySource[source]?[key] { return r }
        }
        return nil
    }

    /// Applies changes from one source and returns the resulting events.
    mutating func apply(_ changes: some Sequence<ResourceChange>, source: String) -> [MeshEvent] {
        register(source: source)
        var dirty = Dirty()
        var events: [MeshEvent] = []
        for change in changes {
            let key = change.key
            let before = effective(key)
            switch change {
            case .upsert(let r): bySource[source, default: [:]][key] = r
            case .delete: bySource[source]?[key] = nil
            }
            let after = effective(key)
            if before != after { setInput(key, before: before, after: after, dirty: &dirty, events: &events) }
        }
        recompute(&dirty, events: &events)
        return events
    }

    /// Replaces everything `source` holds (of `groupKinds` only, when given) with `resources`.
    mutating func replace(_ resources: [AnyResource], source: String, groupKinds: Set<String>?) -> [MeshEvent] {
        var fresh: [ResourceKey: AnyResource] = [:]
        for r in resources { fresh[ResourceKey(r)] = r }
        var changes: [ResourceChange] = []
        for (key, old) in bySource[source] ?? [:] where groupKinds.map({ $0.contains(key.groupKind) }) ?? true {
            if fresh[key] == nil { changes.append(.delete(key)) } else if fresh[key] == old { fresh[key] = nil }
        }
        for key in fresh.keys.sorted() { changes.append(.upsert(fresh[key]!)) }
        return apply(changes, source: source)
    }

    // MARK: Inputs

    private mutating func setInput(_ key: ResourceKey, before: AnyResource?, after: AnyResource?, dirty: inout Dirty, events: inout [MeshEvent]) {
        let id = key.namespacedName
        switch key.groupKind {
        case "Namespace":
            inputs.namespaces[key.name] = after?.as(Namespace.self)
            dirty.namespaces.insert(key.name)
        case "Service":
            inputs.services.set(key.namespace, key.name, after?.as(Service.self))
            dirty.serviceSources.insert(.kubernetes(id))
            dirty.waypoints.insert(id)
        case "Pod":
            inputs.pods.set(key.namespace, key.name, after?.as(Pod.self))
            dirty.workloadOrigins.insert(.pod(id))
        case "networking.istio.io/WorkloadEntry":
            inputs.workloadEntries.set(key.namespace, key.name, after?.as(WorkloadEntry.self))
            dirty.workloadOrigins.insert(.workloadEntry(id))
        case "networking.istio.io/ServiceEntry":
            inputs.serviceEntries.set(key.namespace, key.name, after?.as(ServiceEntry.self))
            dirty.serviceSources.insert(.serviceEntry(id))
            dirty.workloadOrigins.insert(.serviceEntry(id))
        case "discovery.k8s.io/EndpointSlice":
            inputs.endpointSlices.set(key.namespace, key.name, after?.as(EndpointSlice.self))
            for r in [before, after] {
                if let service = r?.metadata.label(MeshLabels.serviceName) {
                    dirty.services.insert(ServiceKey(namespace: key.namespace, hostname: options.serviceHostname(name: service, namespace: key.namespace)))
                }
            }
        default:
            break
        }
        if case .gateway(let g)? = after ?? before {
            inputs.gateways.set(key.namespace, key.name, after == nil ? nil : g)
            dirty.waypoints.insert(id)
        }
        let old = before.flatMap(MeshPolicy.init)
        let new = after.flatMap(MeshPolicy.init)
        if let change = Change(before: old, after: new) {
            if let old { unindex(policy: old) }
            if let new { index(policy: new) }
            view.policies[key] = new
            events.append(.policy(change))
        }
    }

    private mutating func index(policy: MeshPolicy) {
        let key = policy.key
        view.policiesByNamespace.insert(key, for: policy.namespace)
        view.policiesByTarget.insert(key, for: policy.targetRefs)
        view.policiesByHost.insert(key, for: policy.hosts(domainSuffix: options.domainSuffix))
    }

    private mutating func unindex(policy: MeshPolicy) {
        let key = policy.key
        view.policiesByNamespace.remove(key, for: policy.namespace)
        view.policiesByTarget.remove(key, for: policy.targetRefs)
        view.policiesByHost.remove(key, for: policy.hosts(domainSuffix: options.domainSuffix))
    }

    // MARK: Derivation

    private mutating func recompute(_ dirty: inout Dirty, events: inout [MeshEvent]) {
        for name in dirty.namespaces.sorted() {
            let new = inputs.namespaces[name].map(builders.namespace)
            guard let change = Change(before: view.namespaces[name], after: new) else { continue }
            view.namespaces[name] = new
            events.append(.namespace(change))
            markContents(ofNamespace: name, &dirty)
        }
        for id in dirty.waypoints.sorted() {
            let new = inputs.gateway(id).flatMap { builders.waypoint($0, service: inputs.service(id)) }
            guard let change = Change(before: view.waypoints[id], after: new) else { continue }
            view.waypoints[id] = new
            events.append(.waypoint(change))
            for dependent in waypointDependents[id] {
                switch dependent {
                case .service(let s): dirty.serviceSources.insert(s)
                case .workload(let w): dirty.workloadOrigins.insert(w)
                }
            }
            // Whether a Service or pod is a waypoint's own depends on the waypoint existing.
            if (change.before == nil) != (change.after == nil) {
                dirty.serviceSources.insert(.kubernetes(id))
                for (name, pod) in inputs.pods[id.namespace] ?? [:] where pod.metadata.label(MeshLabels.gatewayName) == id.name {
                    dirty.workloadOrigins.insert(.pod(NamespacedName(namespace: id.namespace, name: name)))
                }
            }
        }
        for source in dirty.serviceSources { rebuild(source, &dirty, &events) }
        for origin in dirty.workloadOrigins { rebuild(origin, &dirty, &events) }
        for key in dirty.services { recomputeEndpoints(service: key, &events) }
        for uid in dirty.workloads { recomputeEndpoints(workload: uid, skipping: dirty.services, &events) }
    }

    private func markContents(ofNamespace ns: String, _ dirty: inout Dirty) {
        for name in (inputs.services[ns] ?? [:]).keys {
            dirty.serviceSources.insert(.kubernetes(NamespacedName(namespace: ns, name: name)))
        }
        for name in (inputs.serviceEntries[ns] ?? [:]).keys {
            let id = NamespacedName(namespace: ns, name: name)
            dirty.serviceSources.insert(.serviceEntry(id))
            dirty.workloadOrigins.insert(.serviceEntry(id))
        }
        for name in (inputs.pods[ns] ?? [:]).keys { dirty.workloadOrigins.insert(.pod(NamespacedName(namespace: ns, name: name))) }
        for name in (inputs.workloadEntries[ns] ?? [:]).keys {
            dirty.workloadOrigins.insert(.workloadEntry(NamespacedName(namespace: ns, name: name)))
        }
    }

    private mutating func record(waypointRequest: NamespacedName?, for dependent: WaypointDependent) {
        let old = waypointRequestOf[dependent]
        guard old != waypointRequest else { return }
        if let old { waypointDependents.remove(dependent, for: old) }
        if let waypointRequest { waypointDependents.insert(dependent, for: waypointRequest) }
        waypointRequestOf[dependent] = waypointRequest
    }

    // MARK: Services

    private mutating func rebuild(_ source: ServiceSource, _ dirty: inout Dirty, _ events: inout [MeshEvent]) {
        var new: [MeshService] = []
        var request: NamespacedName?
        switch source {
        case .kubernetes(let id):
            if let s = inputs.service(id), let built = builders.service(s, namespace: inputs.namespaces[id.namespace], waypoints: view.waypoints) {
                new = [built.0]
                request = built.waypointRequest
            }
        case .serviceEntry(let id):
            if let se = inputs.serviceEntry(id) {
                (new, request) = builders.services(se, namespace: inputs.namespaces[id.namespace], waypoints: view.waypoints)
            }
        }
        record(waypointRequest: request, for: .service(source))
        // A key another source already provides stays with that source.
        new = new.filter { serviceOwner[$0.key] == nil || serviceOwner[$0.key] == source }
        let newKeys = new.map(\.key)
        for key in serviceKeysBySource[source] ?? [] where !newKeys.contains(key) {
            guard let old = view.services[key] else { continue }
            unindex(service: old)
            view.services[key] = nil
            serviceOwner[key] = nil
            events.append(.service(.removed(old)))
            dirty.services.insert(key)
        }
        for service in new {
            let key = service.key
            serviceOwner[key] = source
            let old = view.services[key]
            guard let change = Change(before: old, after: service) else { continue }
            if let old { unindex(service: old) }
            index(service: service)
            view.services[key] = service
            events.append(.service(change))
            if old == nil || old!.selector != service.selector || old!.ports != service.ports {
                dirty.services.insert(key)
            }
        }
        serviceKeysBySource[source] = newKeys.isEmpty ? nil : newKeys
    }

    private mutating func index(service: MeshService) {
        let key = service.key
        view.servicesByAddress.insert(key, for: service.addresses)
        view.servicesByHostname.insert(key, for: service.hostname)
        view.servicesByNamespace.insert(key, for: service.namespace)
        if let selector = service.selector { view.serviceSelectors.insert(key, namespace: service.namespace, selector: selector) }
    }

    private mutating func unindex(service: MeshService) {
        let key = service.key
        view.servicesByAddress.remove(key, for: service.addresses)
        view.servicesByHostname.remove(key, for: service.hostname)
        view.servicesByNamespace.remove(key, for: service.namespace)
        if let selector = service.selector { view.serviceSelectors.remove(key, namespace: service.namespace, selector: selector) }
    }

    // MARK: Workloads

    private mutating func rebuild(_ origin: WorkloadOrigin, _ dirty: inout Dirty, _ events: inout [MeshEvent]) {
        var new: [MeshWorkload] = []
        var request: NamespacedName?
        switch origin {
        case .pod(let id):
            if let pod = inputs.pod(id), let built = builders.workload(pod, namespace: inputs.namespaces[id.namespace], waypoints: view.waypoints) {
                new = [built.0]
                request = built.waypointRequest
            }
        case .workloadEntry(let id):
            if let entry = inputs.workloadEntry(id) {
                let built = builders.workload(
                    entry: entry.spec, uid: builders.workloadEntryUID(namespace: id.namespace, name: id.name), name: id.name,
                    namespace: id.namespace, metadata: entry.metadata, namespace: inputs.namespaces[id.namespace],
                    origin: origin, waypoints: view.waypoints)
                new = [built.0]
                request = built.waypointRequest
            }
        case .serviceEntry(let id):
            if let se = inputs.serviceEntry(id) {
                var seen = Set<String>()
                for (i, endpoint) in (se.spec.endpoints ?? []).enumerated() {
                    let address = endpoint.address ?? "\(i)"
                    let uid = builders.serviceEntryEndpointUID(namespace: id.namespace, name: id.name, address: address)
                    guard seen.insert(uid).inserted else { continue }
                    var metadata = ObjectMeta(name: id.name, namespace: id.namespace)
                    metadata.annotations = se.metadata.annotations
                    let built = builders.workload(
                        entry: endpoint, uid: uid, name: id.name, namespace: id.namespace, metadata: metadata,
                        namespace: inputs.namespaces[id.namespace], origin: origin, waypoints: view.waypoints)
                    new.append(built.0)
                    request = request ?? built.waypointRequest
                }
            }
        }
        record(waypointRequest: request, for: .workload(origin))
        new = new.filter { workloadOwner[$0.uid] == nil || workloadOwner[$0.uid] == origin }
        let newUIDs = new.map(\.uid)
        for uid in workloadUIDsByOrigin[origin] ?? [] where !newUIDs.contains(uid) {
            guard let old = view.workloads[uid] else { continue }
            unindex(workload: old)
            view.workloads[uid] = nil
            workloadOwner[uid] = nil
            events.append(.workload(.removed(old)))
            dirty.workloads.insert(uid)
        }
        for workload in new {
            let uid = workload.uid
            workloadOwner[uid] = origin
            let old = view.workloads[uid]
            guard let change = Change(before: old, after: workload) else { continue }
            if let old { unindex(workload: old) }
            index(workload: workload)
            view.workloads[uid] = workload
            events.append(.workload(change))
            if let old, old.labels == workload.labels, old.namespace == workload.namespace,
                old.addresses == workload.addresses, old.namedPorts == workload.namedPorts
            {
                continue  // endpoints do not depend on what changed
            }
            dirty.workloads.insert(uid)
        }
        workloadUIDsByOrigin[origin] = newUIDs.isEmpty ? nil : newUIDs
    }

    private static func selectable(_ w: MeshWorkload) -> Bool {
        if case .serviceEntry = w.origin { return false }
        return true
    }

    private mutating func index(workload w: MeshWorkload) {
        view.workloadsByAddress.insert(w.uid, for: w.addresses)
        if let node = w.node {
            view.workloadsByNode.insert(w.uid, for: node)
            view.nodeAccounts[NodeAccount(namespace: w.namespace, serviceAccount: w.serviceAccount, node: node), default: 0] += 1
        }
        view.workloadsByNamespace.insert(w.uid, for: w.namespace)
        if Self.selectable(w) { view.workloadLabels.insert(w.uid, namespace: w.namespace, labels: w.labels) }
    }

    private mutating func unindex(workload w: MeshWorkload) {
        view.workloadsByAddress.remove(w.uid, for: w.addresses)
        if let node = w.node {
            view.workloadsByNode.remove(w.uid, for: node)
            let key = NodeAccount(namespace: w.namespace, serviceAccount: w.serviceAccount, node: node)
            let count = (view.nodeAccounts[key] ?? 1) - 1
            view.nodeAccounts[key] = count > 0 ? count : nil
        }
        view.workloadsByNamespace.remove(w.uid, for: w.namespace)
        if Self.selectable(w) { view.workloadLabels.remove(w.uid, namespace: w.namespace, labels: w.labels) }
    }

    // MARK: Endpoints

    /// Recomputes every endpoint of a service.
    private mutating func recomputeEndpoints(service key: ServiceKey, _ events: inout [MeshEvent]) {
        var members: Set<String> = []
        let service = view.services[key]
        var addresses: Set<String> = []
        if let service {
            if let selector = service.selector {
                members = view.workloadLabels.candidates(namespace: service.namespace, selector: selector)
                    .filter { view.workloads[$0].map { Labels.match(selector, $0.labels) } ?? false }
            } else if case .serviceEntry = service.origin {
                members = Set(workloadUIDsByOrigin[.serviceEntry(NamespacedName(namespace: service.namespace, name: service.name))] ?? [])
            } else {
                let slices = inputs.endpointSlices(of: NamespacedName(namespace: service.namespace, name: service.name))
                for slice in slices {
                    for endpoint in slice.endpoints ?? [] {
                        addresses.formUnion(endpoint.addresses)
                        if let ref = endpoint.targetRef, ref.kind == "Pod", let name = ref.name {
                            let uid = builders.podUID(namespace: ref.namespace ?? service.namespace, name: name)
                            if view.workloads[uid] != nil { members.insert(uid) }
                        }
                    }
                }
                for address in addresses { members.formUnion(view.workloadsByAddress[address]) }
            }
        }
        let oldAddresses = sliceAddresses[key] ?? []
        if oldAddresses != addresses {
            sliceServicesByAddress.remove(key, for: oldAddresses.subtracting(addresses))
            sliceServicesByAddress.insert(key, for: addresses.subtracting(oldAddresses))
            sliceAddresses[key] = addresses.isEmpty ? nil : addresses
        }
        let old = view.endpoints[key] ?? [:]
        for (uid, endpoint) in old where !members.contains(uid) {
            view.endpoints[key]?[uid] = nil
            view.servicesByWorkload.remove(key, for: uid)
            events.append(.endpoint(.removed(endpoint)))
        }
        if let service {
            for uid in members.sorted() {
                guard let workload = view.workloads[uid] else { continue }
                set(endpoint: MeshEndpoint(service: key, workloadUID: uid, ports: builders.endpointPorts(service: service, workload: workload)), &events)
            }
        }
        if view.endpoints[key]?.isEmpty == true { view.endpoints[key] = nil }
    }

    private mutating func set(endpoint: MeshEndpoint, _ events: inout [MeshEvent]) {
        let old = view.endpoints[endpoint.service]?[endpoint.workloadUID]
        guard let change = Change(before: old, after: endpoint) else { return }
        view.endpoints[endpoint.service, default: [:]][endpoint.workloadUID] = endpoint
        if old == nil { view.servicesByWorkload.insert(endpoint.service, for: endpoint.workloadUID) }
        events.append(.endpoint(change))
    }

    /// Recomputes which services a workload backs, except those recomputed in full already.
    private mutating func recomputeEndpoints(workload uid: String, skipping done: Set<ServiceKey>, _ events: inout [MeshEvent]) {
        var current: Set<ServiceKey> = []
        let workload = view.workloads[uid]
        if let w = workload {
            switch w.origin {
            case .pod, .workloadEntry:
                for key in view.serviceSelectors.candidates(namespace: w.namespace, labels: w.labels) {
                    if let selector = view.services[key]?.selector, Labels.match(selector, w.labels) { current.insert(key) }
                }
                for address in w.addresses { current.formUnion(sliceServicesByAddress[address]) }
            case .serviceEntry(let id):
                for key in serviceKeysBySource[.serviceEntry(id)] ?? [] where view.services[key]?.selector == nil {
                    current.insert(key)
                }
            }
        }
        for key in view.servicesByWorkload[uid] where !current.contains(key) && !done.contains(key) {
            if let endpoint = view.endpoints[key]?[uid] {
                view.endpoints[key]?[uid] = nil
                if view.endpoints[key]?.isEmpty == true { view.endpoints[key] = nil }
                view.servicesByWorkload.remove(key, for: uid)
                events.append(.endpoint(.removed(endpoint)))
            }
        }
        guard let workload else { return }
        for key in current.sorted() where !done.contains(key) {
            guard let service = view.services[key] else { continue }
            set(endpoint: MeshEndpoint(service: key, workloadUID: uid, ports: builders.endpointPorts(service: service, workload: workload)), &events)
        }
    }
}
