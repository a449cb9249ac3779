import Foundation

/// Kubernetes core `Service`: a stable virtual IP (or DNS name) in front of the pods its
/// selector picks. The mesh turns each Service into a mesh service, and routes through the
/// waypoint its `istio.io/use-waypoint` label names.
public struct Service: MeshResource {
    public static let apiGroup = ""
    public static let kind = "Service"
    public static let apiVersions = ["v1"]

    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    /// How a Service is exposed.
    public enum ServiceType: String, ManifestEnum {
        case ClusterIP, NodePort, LoadBalancer, ExternalName
    }

    /// `None` or `ClientIP` session affinity.
    public enum SessionAffinity: String, ManifestEnum {
        case None, ClientIP
    }

    /// An IP family.
    public enum IPFamily: String, ManifestEnum {
        case IPv4, IPv6
    }

    /// Which IP families a Service gets.
    public enum IPFamilyPolicy: String, ManifestEnum {
        case SingleStack, PreferDualStack, RequireDualStack
    }

    /// `Cluster` (all endpoints) or `Local` (node-local endpoints only).
    public enum TrafficPolicy: String, ManifestEnum {
        case Cluster, Local
    }

    /// `ServiceSpec`.
    public struct Spec: Codable, Sendable, Hashable {
        public var ports: [Port]?
        /// Labels of the pods that back the Service; absent for Services whose endpoints are
        /// managed by hand.
        public var selector: [String: String]?
        /// The virtual IP: empty to allocate one, `None` for a headless Service.
        public var clusterIP: String?
        /// The virtual IPs, one per family; the first equals ``clusterIP``.
        public var clusterIPs: [String]?
        /// Defaults to `ClusterIP`.
        public var type: ServiceType?
        public var externalIPs: [String]?
        /// Defaults to `None`.
        public var sessionAffinity: SessionAffinity?
        public var loadBalancerIP: String?
        public var loadBalancerSourceRanges: [String]?
        /// The DNS name an `ExternalName` Service aliases.
        public var externalName: String?
        public var externalTrafficPolicy: TrafficPolicy?
        public var healthCheckNodePort: Int?
        /// Publish endpoints whether or not their pods are ready.
        public var publishNotReadyAddresses: Bool?
        public var sessionAffinityConfig: SessionAffinityConfig?
        /// Removed from Kubernetes; accepted so that old manifests load.
        public var topologyKeys: [String]?
        /// Removed from Kubernetes (replaced by ``ipFamilies``); accepted so that old manifests load.
        public var ipFamily: String?
        public var ipFamilies: [IPFamily]?
        public var ipFamilyPolicy: IPFamilyPolicy?
        public var allocateLoadBalancerNodePorts: Bool?
        public var loadBalancerClass: String?
        public var internalTrafficPolicy: TrafficPolicy?
        /// `PreferClose`, `PreferSameZone` or `PreferSameNode`.
        public var trafficDistribution: String?

        public init(
            ports: [Port]? = nil, selector: [String: String]? = nil, clusterIP: String? = nil, clusterIPs: [String]? = nil,
            type: ServiceType? = nil, externalIPs: [String]? = nil, sessionAffinity: SessionAffinity? = nil,
            loadBalancerIP: String? = nil, loadBalancerSourceRanges: [String]? = nil, externalName: String? = nil,
            externalTrafficPolicy: TrafficPolicy? = nil, healthCheckNodePort: Int? = nil,
            publishNotReadyAddresses: Bool? = nil, sessionAffinityConfig: SessionAffinityConfig? = nil,
            topologyKeys: [String]? = nil, ipFamily: String? = nil, ipFamilies: [IPFamily]? = nil,
            ipFamilyPolicy: IPFamilyPolicy? = nil, allocateLoadBalancerNodePorts: Bool? = nil,
            loadBalancerClass: String? = nil, internalTrafficPolicy: TrafficPolicy? = nil,
            trafficDistribution: String? = nil
        ) {
            self.ports = ports
            self.selector = selector
            self.clusterIP = clusterIP
            self.clusterIPs = clusterIPs
            self.type = type
            self.externalIPs = externalIPs
            self.sessionAffinity = sessionAffinity
            self.loadBalancerIP = loadBalancerIP
            self.loadBalancerSourceRanges = loadBalancerSourceRanges
            self.externalName = externalName
            self.externalTrafficPolicy = externalTrafficPolicy
            self.healthCheckNodePort = healthCheckNodePort
            self.publishNotReadyAddresses = publishNotReadyAddresses
            self.sessionAffinityConfig = sessionAffinityConfig
            self.topologyKeys = topologyKeys
            self.ipFamily = ipFamily
            self.ipFamilies = ipFamilies
            self.ipFamilyPolicy = ipFamilyPolicy
            self.allocateLoadBalancerNodePorts = allocateLoadBalancerNodePorts
            self.loadBalancerClass = loadBalancerClass
            self.internalTrafficPolicy = internalTrafficPolicy
            self.trafficDistribution = trafficDistribution
        }

        /// ``type``, or its default `ClusterIP`.
        public var effectiveType: ServiceType { type ?? .ClusterIP }

        /// Whether the Service is headless (`clusterIP: None`): DNS returns the pods' IPs.
        public var isHeadless: Bool { clusterIP == "None" }
    }

    /// `ServicePort`.
    public struct Port: Codable, Sendable, Hashable {
        /// Required when the Service has more than one port. Istio also reads the protocol
        /// from a prefix of it (`http-web`, `grpc`) when ``appProtocol`` is absent.
        public var name: String?
        /// Defaults to `TCP`.
        public var `protocol`: Kubernetes.PortProtocol?
        /// The application protocol (`http`, `http2`, `grpc`, `tcp`, `kubernetes.io/h2c`).
        public var appProtocol: String?
        /// The port the Service listens on.
        public var port: Int
        /// The pods' port, by number or by container port name; defaults to ``port``.
        public var targetPort: IntOrString?
        public var nodePort: Int?

        public init(
            name: String? = nil, protocol: Kubernetes.PortProtocol? = nil, appProtocol: String? = nil, port: Int,
            targetPort: IntOrString? = nil, nodePort: Int? = nil
        ) {
            self.name = name
            self.protocol = `protocol`
            self.appProtocol = appProtocol
            self.port = port
            self.targetPort = targetPort
            self.nodePort = nodePort
        }

        /// ``protocol``, or its default `TCP`.
        public var effectiveProtocol: Kubernetes.PortProtocol { self.protocol ?? .TCP }

        /// ``targetPort`` with Kubernetes' defaulting applied: absent, `0` or `""` mean ``port``.
        public var effectiveTargetPort: IntOrString {
            switch targetPort {
            case nil, .int(0)?, .string("")?: return .int(port)
            case let value?: return value
            }
        }
    }

    /// `SessionAffinityConfig`.
    public struct SessionAffinityConfig: Codable, Sendable, Hashable {
        public var clientIP: ClientIPConfig?

        /// `ClientIPConfig`.
        public struct ClientIPConfig: Codable, Sendable, Hashable {
            /// Sticky-session time, 1-86400 seconds (default 10800).
            public var timeoutSeconds: Int?

            public init(timeoutSeconds: Int? = nil) { self.timeoutSeconds = timeoutSeconds }
        }

        public init(clientIP: ClientIPConfig? = nil) { self.clientIP = clientIP }
    }

    /// `ServiceStatus`.
    public struct Status: Codable, Sendable, Hashable {
        public var loadBalancer: LoadBalancerStatus?
        public var conditions: [Kubernetes.Condition]?

        public init(loadBalancer: LoadBalancerStatus? = nil, conditions: [Kubernetes.Condition]? = nil) {
            self.loadBalancer = loadBalancer
            self.conditions = conditions
        }
    }

    /// `LoadBalancerStatus`.
    public struct LoadBalancerStatus: Codable, Sendable, Hashable {
        public var ingress: [Ingress]?

        /// `LoadBalancerIngress`.
        public struct Ingress: Codable, Sendable, Hashable {
            public var ip: String?
            public var hostname: String?
            /// `VIP` or `Proxy`.
            public var ipMode: String?
            public var ports: [PortStatus]?

            public init(ip: String? = nil, hostname: String? = nil, ipMode: String? = nil, ports: [PortStatus]? = nil) {
                self.ip = ip
                self.hostname = hostname
                self.ipMode = ipMode
                self.ports = ports
            }
        }

        /// `PortStatus`.
        public struct PortStatus: Codable, Sendable, Hashable {
            public var port: Int
            public var `protocol`: Kubernetes.PortProtocol
            public var error: String?

            public init(port: Int, protocol: Kubernetes.PortProtocol, error: String? = nil) {
                self.port = port
                self.protocol = `protocol`
                self.error = error
            }
        }

        public init(ingress: [Ingress]? = nil) { self.ingress = ingress }
    }

    public init(
        apiVersion: String = "v1", kind: String = "Service", metadata: ObjectMeta = ObjectMeta(), spec: Spec? = nil,
        status: Status? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// The Service's cluster IPs (``Spec/clusterIPs``, else ``Spec/clusterIP``), without `None`.
    public var clusterIPs: [String] {
        let ips = spec?.clusterIPs ?? (spec?.clusterIP.map { [$0] } ?? [])
        return ips.filter { !$0.isEmpty && $0 != "None" }
    }

    /// The Service's cluster DNS name, `<name>.<namespace>.svc.<domainSuffix>`.
    public func hostname(domainSuffix: String = "cluster.local") -> String {
        "\(metadata.name ?? "").\(metadata.namespace ?? "default").svc.\(domainSuffix)"
    }

    /// The port with this name, if any.
    public func port(named name: String) -> Port? { spec?.ports?.first { $0.name == name } }

    /// The waypoint the Service's `istio.io/use-waypoint` label names, nil when unlabelled.
    public var useWaypoint: WaypointBinding? {
        MeshLabels.waypointBinding(labels: metadata.labels, namespace: metadata.namespace)
    }

    public func validate(into context: inout ValidationContext) {
        if let name = metadata.name, Rules.isDNS1123Subdomain(name), !KubernetesRules.isDNS1035Label(name) {
            context.error(FieldPath.root("metadata")("name"),
                "Service name \"\(name)\" must be an RFC 1035 label: lowercase letters, digits and '-', starting with a letter, no dots, at most 63 characters")
        }
        KubernetesRules.validateMeshLabels(metadata, into: &context)
        validateSpec(spec ?? Spec(), into: &context)
    }

    private func validateSpec(_ spec: Spec, into context: inout ValidationContext) {
        let path = FieldPath.root("spec")
        let type = spec.effectiveType
        let ports = spec.ports ?? []
        if ports.isEmpty && !spec.isHeadless && type != .ExternalName {
            context.error(path("ports"),
                "required: a Service needs at least one port (port, and name when there are several), unless it is headless (clusterIP: None) or of type ExternalName")
        }
        switch type {
        case .LoadBalancer, .NodePort:
            if spec.isHeadless {
                context.error(path("clusterIP"), "clusterIP may not be None for \(type.rawValue) Services; leave it empty or use type ClusterIP")
            }
        case .ExternalName:
            if let ip = spec.clusterIP, !ip.isEmpty {
                context.error(path("clusterIP"), "clusterIP must be empty for ExternalName Services; remove it")
            }
            if let name = spec.externalName, !name.isEmpty {
                let trimmed = name.hasSuffix(".") ? String(name.dropLast()) : name
                if !Rules.isDNS1123Subdomain(trimmed) {
                    context.error(path("externalName"),
                        "externalName \"\(name)\" must be a lowercase DNS name, e.g. api.example.com")
                }
            } else {
                context.error(path("externalName"), "required for type ExternalName: the DNS name the Service aliases, e.g. api.example.com")
            }
        case .ClusterIP:
            break
        }
        validatePorts(ports, type: type, at: path("ports"), into: &context)
        Rules.validateLabels(spec.selector, at: path("selector"), into: &context)
        validateAddresses(spec, at: path, into: &context)
        validateAffinityAndPolicies(spec, at: path, into: &context)
    }

    private func validatePorts(_ ports: [Port], type: ServiceType, at path: FieldPath, into context: inout ValidationContext) {
        var names: [String: Int] = [:]
        var numbers: [String: Int] = [:]
        var nodePorts: [String: Int] = [:]
        for (i, port) in ports.enumerated() {
            let at = path[i]
            if let name = port.name, !name.isEmpty {
                if !Rules.isDNS1123Label(name) {
                    context.error(at("name"), "port name \"\(name)\" must be a lowercase RFC 1123 label: letters, digits and '-', at most 63 characters (e.g. http, grpc-web)")
                } else if let first = names[name] {
                    context.error(at("name"), "port name \"\(name)\" is already used by spec.ports[\(first)]; each port needs its own name")
                } else {
                    names[name] = i
                }
            } else if ports.count > 1 {
                context.error(at("name"), "required: every port needs a name when a Service has more than one port (e.g. http, grpc)")
            }
            if let problem = KubernetesRules.rangeProblem(port.port, 1...65535, "port") { context.error(at("port"), problem) }
            switch port.targetPort {
            case .int(let value)? where value != 0:
                if let problem = KubernetesRules.rangeProblem(value, 1...65535, "targetPort") {
                    context.error(at("targetPort"), problem + ", or name a container port")
                }
            case .string(let name)? where !name.isEmpty:
                if let problem = KubernetesRules.portNameProblem(name) {
                    context.error(at("targetPort"), "targetPort must be a port number or the name of a container port; " + problem)
                }
            default:
                break
            }
            if let nodePort = port.nodePort, nodePort != 0 {
                if type == .ClusterIP || type == .ExternalName {
                    context.error(at("nodePort"), "nodePort may not be used when type is \(type.rawValue); use type NodePort or LoadBalancer, or remove it")
                } else if let problem = KubernetesRules.rangeProblem(nodePort, 1...65535, "nodePort") {
                    context.error(at("nodePort"), problem)
                } else if !(30000...32767).contains(nodePort) {
                    context.warning(at("nodePort"), "nodePort \(nodePort) is outside Kubernetes' default node port range 30000-32767; the apiserver rejects it unless --service-node-port-range allows it")
                } else {
                    let key = "\(nodePort)/\(port.effectiveProtocol.rawValue)"
                    if let first = nodePorts[key] {
                        context.error(at("nodePort"), "nodePort \(key) is already used by spec.ports[\(first)]; each node port and protocol pair must be unique")
                    } else {
                        nodePorts[key] = i
                    }
                }
            }
            if let appProtocol = port.appProtocol,
                let problem = KubernetesRules.qualifiedNameProblem(appProtocol, what: "appProtocol")
            {
                context.error(at("appProtocol"), problem)
            }
            let key = "\(port.port)/\(port.effectiveProtocol.rawValue)"
            if let first = numbers[key] {
                context.error(at, "port \(key) is already used by spec.ports[\(first)]; each port and protocol pair must be unique")
            } else {
                numbers[key] = i
            }
        }
    }

    private func validateAddresses(_ spec: Spec, at path: FieldPath, into context: inout ValidationContext) {
        if let ip = spec.clusterIP, !ip.isEmpty, ip != "None", !Rules.isIPAddress(ip) {
            context.error(path("clusterIP"), "clusterIP \"\(ip)\" must be empty (allocate one), None (headless) or an IP address")
        }
        for (i, ip) in (spec.clusterIPs ?? []).enumerated() where ip != "None" && !Rules.isIPAddress(ip) {
            context.error(path("clusterIPs")[i], "clusterIPs entry \"\(ip)\" must be None or an IP address")
        }
        if let ips = spec.clusterIPs, let first = ips.first, let ip = spec.clusterIP, !ip.isEmpty, first != ip {
            context.error(path("clusterIPs")[0], "clusterIPs[0] \"\(first)\" must equal clusterIP \"\(ip)\"")
        }
        if let ips = spec.clusterIPs, ips.count > 2 {
            context.error(path("clusterIPs"), "at most two cluster IPs (one IPv4, one IPv6) are allowed, found \(ips.count)")
        }
        for (i, ip) in (spec.externalIPs ?? []).enumerated() where !Rules.isIPAddress(ip) {
            context.error(path("externalIPs")[i], "externalIPs entry \"\(ip)\" must be an IP address")
        }
        if let families = spec.ipFamilies {
            if families.count > 2 {
                context.error(path("ipFamilies"), "at most two IP families (IPv4 and IPv6) are allowed, found \(families.count)")
            } else if families.count == 2 && families[0] == families[1] {
                context.error(path("ipFamilies")[1], "IP family \(families[1].rawValue) is listed twice; use IPv4 and IPv6 once each")
            } else if families.count == 2 && spec.ipFamilyPolicy == .SingleStack {
                context.error(path("ipFamilies"), "ipFamilyPolicy SingleStack allows one IP family; list one or use PreferDualStack/RequireDualStack")
            }
        }
    }

    private func validateAffinityAndPolicies(_ spec: Spec, at path: FieldPath, into context: inout ValidationContext) {
        let type = spec.effectiveType
        if spec.sessionAffinity == .ClientIP {
            if let timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds,
                let problem = KubernetesRules.rangeProblem(timeout, 1...86400, "timeoutSeconds")
            {
                context.error(path("sessionAffinityConfig")("clientIP")("timeoutSeconds"), problem)
            }
        } else if spec.sessionAffinityConfig != nil {
            context.error(path("sessionAffinityConfig"), "sessionAffinityConfig may only be set with sessionAffinity: ClientIP")
        }
        let externallyAccessible = type == .LoadBalancer || type == .NodePort
            || (type == .ClusterIP && !(spec.externalIPs ?? []).isEmpty)
        if spec.externalTrafficPolicy != nil && !externallyAccessible {
            context.error(path("externalTrafficPolicy"),
                "externalTrafficPolicy may only be set for externally-accessible Services (type NodePort or LoadBalancer, or with externalIPs); use internalTrafficPolicy for cluster traffic")
        }
        if let port = spec.healthCheckNodePort, port != 0 {
            if type != .LoadBalancer || spec.externalTrafficPolicy != .Local {
                context.error(path("healthCheckNodePort"), "healthCheckNodePort may only be set on LoadBalancer Services with externalTrafficPolicy: Local")
            } else if let problem = KubernetesRules.rangeProblem(port, 1...65535, "healthCheckNodePort") {
                context.error(path("healthCheckNodePort"), problem)
            }
        }
        if let ranges = spec.loadBalancerSourceRanges, !ranges.isEmpty {
            if type != .LoadBalancer {
                context.error(path("loadBalancerSourceRanges"), "loadBalancerSourceRanges may only be used when type is LoadBalancer")
            }
            for (i, range) in ranges.enumerated() {
                let trimmed = range.trimmingCharacters(in: .whitespaces)
                if !trimmed.contains("/") || !Rules.isIPOrCIDR(trimmed) {
                    context.error(path("loadBalancerSourceRanges")[i], "\"\(range)\" is not an IP range; use CIDR notation such as 10.0.0.0/8")
                }
            }
        }
    }
}
