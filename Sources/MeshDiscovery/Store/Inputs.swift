import MeshAPI

/// The resources the model is derived from, by kind and namespace, after merging sources.
struct Inputs: Sendable {
    var namespaces: [String: Namespace] = [:]
    var services: [String: [String: Service]] = [:]
    var pods: [String: [String: Pod]] = [:]
    var workloadEntries: [String: [String: WorkloadEntry]] = [:]
    var serviceEntries: [String: [String: ServiceEntry]] = [:]
    var gateways: [String: [String: Gateway]] = [:]
    var endpointSlices: [String: [String: EndpointSlice]] = [:]

    func service(_ id: NamespacedName) -> Service? { services[id.namespace]?[id.name] }
    func pod(_ id: NamespacedName) -> Pod? { pods[id.namespace]?[id.name] }
    func workloadEntry(_ id: NamespacedName) -> WorkloadEntry? { workloadEntries[id.namespace]?[id.name] }
    func serviceEntry(_ id: NamespacedName) -> ServiceEntry? { serviceEntries[id.namespace]?[id.name] }
    func gateway(_ id: NamespacedName) -> Gateway? { gateways[id.namespace]?[id.name] }

    /// EndpointSlices of the Service `id` (by the `kubernetes.io/service-name` label).
    func endpointSlices(of id: NamespacedName) -> [EndpointSlice] {
        (endpointSlices[id.namespace] ?? [:]).values.filter { $0.metadata.label(MeshLabels.serviceName) == id.name }
    }
}

extension Dictionary where Key == String {
    /// Sets or removes `value` at `[namespace][name]` in a two-level map.
    mutating func set<V>(_ namespace: String, _ name: String, _ value: V?) where Value == [String: V] {
        if let value {
            self[namespace, default: [:]][name] = value
        } else {
            self[namespace]?[name] = nil
            if self[namespace]?.isEmpty == true { self[namespace] = nil }
        }
    }
}
