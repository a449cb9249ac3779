/// `discovery.k8s.io/v1` EndpointSlice: a slice of a Service's endpoints (addresses with
/// readiness) and their ports. The Service is named by the `kubernetes.io/service-name` label.
///
/// Like the real API, its fields sit at the top level (there is no `spec`).
public struct EndpointSlice: MeshResource {
    public static let apiGroup = "discovery.k8s.io"
    public static let kind = "EndpointSlice"
    public static let apiVersions = ["v1"]

    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    /// The type of every address in the slice.
    public var addressType: AddressType
    /// At most 1000 endpoints.
    public var endpoints: [Endpoint]?
    /// At most 100 ports, with unique names.
    public var ports: [Port]?

    /// The kind of addresses a slice carries.
    public enum AddressType: String, ManifestEnum {
        case IPv4, IPv6, FQDN
    }

    /// One backend of the Service.
    public struct Endpoint: Codable, Sendable, Hashable {
        /// 1-100 addresses of the slice's ``EndpointSlice/addressType``; consumers use the first.
        public var addresses: [String]
        public var conditions: Conditions?
        public var hostname: String?
        /// The object behind the endpoint, usually its Pod.
        public var targetRef: Kubernetes.ObjectReference?
        /// v1beta1 topology; ignored by the v1 API but accepted so that old output loads.
        public var deprecatedTopology: [String: String]?
        public var nodeName: String?
        public var zone: String?
        public var hints: Hints?

        public init(
            addresses: [String], conditions: Conditions? = nil, hostname: String? = nil,
            targetRef: Kubernetes.ObjectReference? = nil, deprecatedTopology: [String: String]? = nil,
            nodeName: String? = nil, zone: String? = nil, hints: Hints? = nil
        ) {
            self.addresses = addresses
            self.conditions = conditions
            self.hostname = hostname
            self.targetRef = targetRef
            self.deprecatedTopology = deprecatedTopology
            self.nodeName = nodeName
            self.zone = zone
            self.hints = hints
        }

        /// Ready to receive traffic (`conditions.ready`, nil meaning true).
        public var isReady: Bool { conditions?.ready ?? true }
        /// Able to serve (`conditions.serving`, nil meaning true).
        public var isServing: Bool { conditions?.serving ?? true }
        /// Shutting down (`conditions.terminating`, nil meaning false).
        public var isTerminating: Bool { conditions?.terminating ?? false }
    }

    /// `EndpointConditions`.
    public struct Conditions: Codable, Sendable, Hashable {
        public var ready: Bool?
        public var serving: Bool?
        public var terminating: Bool?

        public init(ready: Bool? = nil, serving: Bool? = nil, terminating: Bool? = nil) {
            self.ready = ready
            self.serving = serving
            self.terminating = terminating
        }
    }

    /// `EndpointHints`: where consumers should prefer this endpoint.
    public struct Hints: Codable, Sendable, Hashable {
        public var forZones: [Named]?
        public var forNodes: [Named]?

        /// `ForZone` / `ForNode`.
        public struct Named: Codable, Sendable, Hashable {
            public var name: String

            public init(name: String) { self.name = name }
        }

        public init(forZones: [Named]? = nil, forNodes: [Named]? = nil) {
            self.forZones = forZones
            self.forNodes = forNodes
        }
    }

    /// `EndpointPort`: the port on the endpoints (the Service's resolved `targetPort`).
    public struct Port: Codable, Sendable, Hashable {
        /// The Service port's name; empty or a lowercase RFC 1123 label.
        public var name: String?
        /// Defaults to `TCP`.
        public var `protocol`: Kubernetes.PortProtocol?
        public var port: Int?
        public var appProtocol: String?

        public init(name: String? = nil, protocol: Kubernetes.PortProtocol? = nil, port: Int? = nil, appProtocol: String? = nil) {
            self.name = name
            self.protocol = `protocol`
            self.port = port
            self.appProtocol = appProtocol
        }
    }

    public init(
        apiVersion: String = "discovery.k8s.io/v1", kind: String = "EndpointSlice", metadata: ObjectMeta = ObjectMeta(),
        addressType: AddressType, endpoints: [Endpoint]? = nil, ports: [Port]? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.addressType = addressType
        self.endpoints = endpoints
        self.ports = ports
    }

    /// The Service the slice belongs to (`kubernetes.io/service-name`).
    public var serviceName: String? { metadata.label(MeshLabels.serviceName) }

    public func validate(into context: inout ValidationContext) {
        let endpoints = self.endpoints ?? []
        if endpoints.count > 1000 {
            context.error("endpoints", "an EndpointSlice holds at most 1000 endpoints, found \(endpoints.count); split them across slices")
        }
        for (i, endpoint) in endpoints.prefix(1000).enumerated() {
            let at = FieldPath.root("endpoints")[i]
            if endpoint.addresses.isEmpty {
                context.error(at("addresses"), "an endpoint needs at least one address")
            } else if endpoint.addresses.count > 100 {
                context.error(at("addresses"), "an endpoint holds at most 100 addresses, found \(endpoint.addresses.count)")
            }
            for (j, address) in endpoint.addresses.prefix(100).enumerated() {
                if let problem = addressProblem(address) { context.error(at("addresses")[j], problem) }
            }
            if let hostname = endpoint.hostname, !Rules.isDNS1123Label(hostname) {
                context.error(at("hostname"), "hostname \"\(hostname)\" must be a lowercase RFC 1123 label: letters, digits and '-', at most 63 characters")
            }
        }
        let ports = self.ports ?? []
        if ports.count > 100 {
            context.error("ports", "an EndpointSlice holds at most 100 ports, found \(ports.count)")
        }
        var names: [String: Int] = [:]
        for (i, port) in ports.prefix(100).enumerated() {
            let at = FieldPath.root("ports")[i]
            let name = port.name ?? ""
            if !name.isEmpty && !Rules.isDNS1123Label(name) {
                context.error(at("name"), "port name \"\(name)\" must be empty or a lowercase RFC 1123 label (the Service port's name)")
            } else if let first = names[name] {
                context.error(at("name"), name.isEmpty
                    ? "ports[\(first)] is already unnamed; every port of a slice needs its own name (the Service port's name)"
                    : "port name \"\(name)\" is already used by ports[\(first)]; names must be unique")
            } else {
                names[name] = i
            }
            if let number = port.port, let problem = KubernetesRules.rangeProblem(number, 1...65535, "port") {
                context.warning(at("port"), problem + "; no endpoint can listen there")
            }
            if let appProtocol = port.appProtocol,
                let problem = KubernetesRules.qualifiedNameProblem(appProtocol, what: "appProtocol")
            {
                context.error(at("appProtocol"), problem)
            }
        }
    }

    private func addressProblem(_ address: String) -> String? {
        switch addressType {
        case .IPv4:
            guard !Rules.isIPv4(address) else { return nil }
            return Rules.isIPv6(address)
                ? "\"\(address)\" is an IPv6 address in an IPv4 slice: put it in a slice with addressType IPv6"
                : "\"\(address)\" is not an IPv4 address (addressType IPv4), e.g. 10.244.1.7"
        case .IPv6:
            guard !Rules.isIPv6(address) else { return nil }
            return Rules.isIPv4(address)
                ? "\"\(address)\" is an IPv4 address in an IPv6 slice: put it in a slice with addressType IPv4"
                : "\"\(address)\" is not an IPv6 address (addressType IPv6), e.g. fd00:10:244::7"
        case .FQDN:
            return KubernetesRules.fqdnProblem(address).map { $0 + " (addressType FQDN)" }
        }
    }
}
