/// `networking.istio.io` ServiceEntry: adds a service to Istio's registry, typically one
/// outside the mesh (an external API) or workloads not on Kubernetes.
///
/// Field names and meaning follow `istio/api:networking/v1alpha3/service_entry.proto`
/// (served as `v1`, `v1beta1` and `v1alpha3`).
public struct ServiceEntry: MeshResource {
    public static let apiGroup = "networking.istio.io"
    public static let kind = "ServiceEntry"
    public static let apiVersions = ["v1", "v1beta1", "v1alpha3"]

    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: JSONValue?

    public init(
        apiVersion: String = "networking.istio.io/v1", kind: String = ServiceEntry.kind,
        metadata: ObjectMeta, spec: Spec, status: JSONValue? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// The body of a ServiceEntry.
    public struct Spec: Codable, Sendable, Hashable {
        /// Host names of the service (matched against Host/:authority for HTTP and SNI for
        /// TLS); `*.` wildcards allowed, `*` alone is not. Required, at least one.
        public var hosts: [String]
        /// Virtual IPs or CIDR blocks of the service.
        public var addresses: [String]?
        /// Ports of the service.
        public var ports: [ServicePort]?
        /// Inside or outside the mesh (MESH_EXTERNAL by default).
        public var location: Location?
        /// How endpoints are found (NONE by default).
        public var resolution: Resolution?
        /// The service's endpoints (or use workloadSelector).
        public var endpoints: [WorkloadEntry.Spec]?
        /// Selects pods and WorkloadEntries as endpoints (MESH_INTERNAL only).
        public var workloadSelector: WorkloadSelector?
        /// Namespaces that see this service: `.`, `*`, `~` (no one) or namespace names.
        public var exportTo: [String]?
        /// Identities the service's workloads may present.
        public var subjectAltNames: [String]?

        public init(
            hosts: [String], addresses: [String]? = nil, ports: [ServicePort]? = nil, location: Location? = nil,
            resolution: Resolution? = nil, endpoints: [WorkloadEntry.Spec]? = nil,
            workloadSelector: WorkloadSelector? = nil, exportTo: [String]? = nil, subjectAltNames: [String]? = nil
        ) {
            self.hosts = hosts
            self.addresses = addresses
            self.ports = ports
            self.location = location
            self.resolution = resolution
            self.endpoints = endpoints
            self.workloadSelector = workloadSelector
            self.exportTo = exportTo
            self.subjectAltNames = subjectAltNames
        }
    }

    /// A port of the service.
    public struct ServicePort: Codable, Sendable, Hashable {
        /// Required, 1-65535.
        public var number: UInt32
        /// HTTP, HTTPS, GRPC, HTTP2, MONGO, TCP or TLS; empty means detected.
        public var `protocol`: String?
        /// Required; an RFC 1123 label, referred to by endpoints' `ports`.
        public var name: String
        /// The port endpoints listen on, when it differs from `number`.
        public var targetPort: UInt32?

        public init(number: UInt32, protocol: String? = nil, name: String, targetPort: UInt32? = nil) {
            self.number = number
            self.protocol = `protocol`
            self.name = name
            self.targetPort = targetPort
        }
    }

    /// Selects workloads by labels (`labels`).
    public struct WorkloadSelector: Codable, Sendable, Hashable {
        public var labels: [String: String]?
        public init(labels: [String: String]? = nil) { self.labels = labels }
    }

    /// Whether the service is part of the mesh.
    public enum Location: String, ManifestEnum {
        case MESH_EXTERNAL, MESH_INTERNAL
    }

    /// How the proxy finds the service's endpoints.
    public enum Resolution: String, ManifestEnum {
        /// Use the original destination address.
        case NONE
        /// Use the endpoints' IPs.
        case STATIC
        /// Resolve the endpoints (or the hosts) asynchronously with DNS.
        case DNS
        /// Resolve with DNS when connecting and use the first address.
        case DNS_ROUND_ROBIN
        /// Resolve wildcard hosts per request from Host or SNI.
        case DYNAMIC_DNS
    }

    public func validate(into context: inout ValidationContext) {
        ServiceEntryValidation.validate(self, into: &context)
    }
}

/// Validation of a ServiceEntry as Istio's webhook (`ValidateServiceEntry`) and its CRD
/// schema do it.
enum ServiceEntryValidation {
    static func validate(_ entry: ServiceEntry, into context: inout ValidationContext) {
        let spec = entry.spec
        let root = FieldPath.root("spec")
        let resolution = spec.resolution ?? .NONE
        let endpoints = spec.endpoints ?? []
        let ports = spec.ports ?? []

        if let selector = spec.workloadSelector {
            let before = context.findings.count
            NetworkingRules.validateSelectorLabels(selector.labels, at: root("workloadSelector")("labels"), into: &context)
            if context.findings.count > before { return }
            if (selector.labels ?? [:]).isEmpty {
                context.warning(root("workloadSelector"), "workload selector has no labels, so every workload in the namespace becomes an endpoint; add labels")
            }
        }
        if spec.workloadSelector != nil && spec.endpoints != nil {
            context.error(root("workloadSelector"), "set only one of endpoints and workloadSelector")
        }

        if spec.hosts.isEmpty {
            context.error(root("hosts"), "a ServiceEntry needs at least one host, e.g. api.example.com")
        }
        for (i, host) in spec.hosts.enumerated() {
            if host == "*" {
                context.error(root("hosts")[i], "host * is not allowed in a ServiceEntry; name the hosts, e.g. *.example.com")
                continue
            }
            if let problem = NetworkingRules.wildcardDomainProblem(host) {
                context.error(root("hosts")[i], problem)
            } else if resolution != .DYNAMIC_DNS, host.contains("*"), !host.hasPrefix("*.") {
                context.warning(root("hosts")[i], "partial wildcard \"\(host)\" is not supported; use a whole first label such as *.example.com")
            }
        }

        var hasCIDR = false
        for (i, address) in (spec.addresses ?? []).enumerated() {
            hasCIDR = hasCIDR || address.contains("/")
            if let problem = NetworkingRules.ipSubnetProblem(address) { context.error(root("addresses")[i], problem) }
        }
        if hasCIDR && resolution != .NONE && resolution != .STATIC {
            context.error(root("resolution"), "CIDR addresses are allowed only with resolution NONE or STATIC, not \(resolution.rawValue)")
        }

        // Istio allocates a virtual IP unless resolution is NONE or the label opts out.
        let autoAllocation = resolution != .NONE
            && entry.metadata.labels?["networking.istio.io/enable-autoallocate-ip"]?.lowercased() != "false"
        var portNames: [String: Int] = [:]
        var portNumbers: [UInt32: Int] = [:]
        for (i, port) in ports.enumerated() {
            let p = root("ports")[i]
            if let earlier = portNames[port.name] {
                context.error(p("name"), "port name \"\(port.name)\" is already used by ports[\(earlier)]; give each port a unique name")
            } else {
                portNames[port.name] = i
            }
            if let earlier = portNumbers[port.number] {
                context.error(p("number"), "port \(port.number) is already defined by ports[\(earlier)]; each port number may appear once")
            } else {
                portNumbers[port.number] = i
            }
            if let target = port.targetPort, target != 0, let problem = NetworkingRules.portProblem(target) {
                context.error(p("targetPort"), problem)
            }
            if (spec.addresses ?? []).isEmpty && !autoAllocation
                && ((port.protocol ?? "").isEmpty || port.protocol?.uppercased() == "TCP")
            {
                context.warning(p, "a port serving TCP (or an unset protocol) needs addresses when IP auto-allocation does not apply (resolution NONE, or the networking.istio.io/enable-autoallocate-ip: \"false\" label): without them traffic is identified by port alone")
            }
            if let problem = NetworkingRules.portNameProblem(port.name) { context.error(p("name"), problem) }
            if let problem = NetworkingRules.protocolProblem(port.protocol ?? "") { context.error(p("protocol"), problem) }
            if let problem = NetworkingRules.portProblem(port.number) { context.error(p("number"), problem) }
        }
        let servicePorts = Set(ports.map(\.name))

        switch resolution {
        case .NONE:
            if !endpoints.isEmpty {
                context.error(root("endpoints"), "resolution NONE uses the original destination address, so it cannot have endpoints; use STATIC or DNS, or remove endpoints")
            }
            if spec.workloadSelector != nil {
                context.warning(root("workloadSelector"), "workloadSelector has no effect with resolution NONE; use STATIC")
            }
        case .STATIC:
            for (i, endpoint) in endpoints.enumerated() {
                WorkloadEntryValidation.validate(endpoint, at: root("endpoints")[i], servicePorts: servicePorts,
                    allowFQDNAddress: false, into: &context)
            }
        case .DNS, .DNS_ROUND_ROBIN:
            if endpoints.isEmpty {
                for (i, host) in spec.hosts.enumerated() {
                    if let problem = NetworkingRules.fqdnProblem(host) {
                        context.error(root("hosts")[i], "with resolution \(resolution.rawValue) and no endpoints the hosts are resolved, so they must be DNS names without wildcards (\(problem))")
                        break
                    }
                }
            }
            if resolution == .DNS_ROUND_ROBIN && endpoints.count > 1 {
                context.error(root("endpoints"), "resolution DNS_ROUND_ROBIN allows at most 1 endpoint (it has \(endpoints.count)); use DNS for several")
            }
            for (i, endpoint) in endpoints.enumerated() {
                let p = root("endpoints")[i]
                let address = endpoint.address ?? ""
                if !Rules.isIPAddress(address) && NetworkingRules.fqdnProblem(address) != nil {
                    context.error(p("address"), "endpoint address \"\(address)\" is not a valid DNS name or IP address")
                }
                NetworkingRules.validateLabels(endpoint.labels, at: p("labels"), into: &context)
                for name in (endpoint.ports ?? [:]).keys.sorted() {
                    let port = endpoint.ports?[name] ?? 0
                    if !servicePorts.contains(name) {
                        context.error(p("ports")(name), "endpoint port \"\(name)\" is not defined by the ServiceEntry's ports; use one of \(servicePorts.sorted().joined(separator: ", "))")
                    }
                    if let problem = NetworkingRules.portNameProblem(name) { context.error(p("ports")(name), problem) }
                    if let problem = NetworkingRules.portProblem(port) { context.error(p("ports")(name), problem) }
                }
            }
            if !(spec.addresses ?? []).isEmpty && spec.hosts.count > 1,
                let i = ports.firstIndex(where: { NetworkingRules.isTCPProtocol($0.protocol ?? "") })
            {
                context.warning(root("ports")[i], "a ServiceEntry with addresses and a TCP port should have only one host")
            }
        case .DYNAMIC_DNS:
            for (i, host) in spec.hosts.enumerated() where !NetworkingRules.isWildcarded(host) {
                context.error(root("hosts")[i], "resolution DYNAMIC_DNS needs wildcard hosts such as *.example.com")
            }
            if !(spec.addresses ?? []).isEmpty {
                context.error(root("addresses"), "resolution DYNAMIC_DNS cannot have addresses: routes come from the hosts")
            }
            if !endpoints.isEmpty {
                context.error(root("endpoints"), "resolution DYNAMIC_DNS cannot have endpoints: the destination comes from the request's Host or SNI")
            }
            for (i, port) in ports.enumerated() {
                let proto = (port.protocol ?? "").uppercased()
                if !["HTTP", "TLS", "GRPC", "HTTP2"].contains(proto) {
                    context.error(root("ports")[i]("protocol"), "resolution DYNAMIC_DNS supports only the protocols HTTP, TLS, GRPC and HTTP2")
                }
            }
            if spec.location == .MESH_INTERNAL, let waypoint = entry.metadata.labels?["istio.io/use-waypoint"],
                !waypoint.isEmpty, waypoint.lowercased() != "none"
            {
                context.error(root("location"), "location MESH_INTERNAL with resolution DYNAMIC_DNS is not supported with a waypoint; use MESH_EXTERNAL")
            }
        }

        // Several hosts on plain TCP cannot be told apart (except with NONE, which ignores hosts).
        if resolution != .NONE && spec.hosts.count > 1 {
            if let i = ports.firstIndex(where: { !NetworkingRules.isHTTPProtocol($0.protocol ?? "") && !NetworkingRules.isTLSProtocol($0.protocol ?? "") }) {
                context.error(root("ports")[i]("protocol"), "several hosts need HTTP or TLS ports to tell them apart (by Host header or SNI); this port is \((ports[i].protocol ?? "").isEmpty ? "unset" : ports[i].protocol ?? "")")
            }
        }

        NetworkingRules.validateExportTo(spec.exportTo, namespace: entry.metadata.namespace, isServiceEntry: true,
            destinationRuleWithSelector: false, at: root("exportTo"), into: &context)
    }
}
