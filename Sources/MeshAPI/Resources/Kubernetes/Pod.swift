/// Kubernetes core `Pod`: in the mesh, a workload with an identity (its service account),
/// an address (`status.podIP`), a node and labels.
///
/// The fields the mesh reads are typed; deep subtrees it never reads (volumes, affinity,
/// security contexts, resource requirements) are kept as written in ``JSONValue``s so that
/// real pod manifests load without unknown-field findings.
public struct Pod: MeshResource {
    public static let apiGroup = ""
    public static let kind = "Pod"
    public static let apiVersions = ["v1"]

    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: Status?

    /// `PodSpec`.
    public struct Spec: Codable, Sendable, Hashable {
        public var volumes: [JSONValue]?
        /// Init containers; one with `restartPolicy: Always` is a native sidecar.
        public var initContainers: [Container]?
        /// The containers (at least one).
        public var containers: [Container]
        public var ephemeralContainers: [JSONValue]?
        public var restartPolicy: String?
        public var terminationGracePeriodSeconds: Int64?
        public var activeDeadlineSeconds: Int64?
        public var dnsPolicy: String?
        public var nodeSelector: [String: String]?
        /// The pod's identity; defaults to `default`.
        public var serviceAccountName: String?
        /// Deprecated alias of ``serviceAccountName``.
        public var serviceAccount: String?
        public var automountServiceAccountToken: Bool?
        /// The node the pod runs on (set by the scheduler).
        public var nodeName: String?
        /// A host-network pod shares its node's network namespace; ambient cannot capture it.
        public var hostNetwork: Bool?
        public var hostPID: Bool?
        public var hostIPC: Bool?
        public var shareProcessNamespace: Bool?
        public var securityContext: JSONValue?
        public var imagePullSecrets: [Kubernetes.LocalObjectReference]?
        public var hostname: String?
        public var subdomain: String?
        public var affinity: JSONValue?
        public var schedulerName: String?
        public var tolerations: [JSONValue]?
        public var hostAliases: [JSONValue]?
        public var priorityClassName: String?
        public var priority: Int?
        public var dnsConfig: JSONValue?
        public var readinessGates: [JSONValue]?
        public var runtimeClassName: String?
        public var enableServiceLinks: Bool?
        public var preemptionPolicy: String?
        public var overhead: JSONValue?
        public var topologySpreadConstraints: [JSONValue]?
        public var setHostnameAsFQDN: Bool?
        public var os: JSONValue?
        public var hostUsers: Bool?
        public var schedulingGates: [JSONValue]?
        public var resourceClaims: [JSONValue]?
        public var resources: JSONValue?
        public var hostnameOverride: String?
        public var workloadRef: JSONValue?
        public var schedulingGroup: JSONValue?
        public var evictionResponders: [JSONValue]?

        public init(
            containers: [Container], initContainers: [Container]? = nil, serviceAccountName: String? = nil,
            nodeName: String? = nil, hostNetwork: Bool? = nil, volumes: [JSONValue]? = nil,
            ephemeralContainers: [JSONValue]? = nil, restartPolicy: String? = nil,
            terminationGracePeriodSeconds: Int64? = nil, activeDeadlineSeconds: Int64? = nil, dnsPolicy: String? = nil,
            nodeSelector: [String: String]? = nil, serviceAccount: String? = nil,
            automountServiceAccountToken: Bool? = nil, hostPID: Bool? = nil, hostIPC: Bool? = nil,
            shareProcessNamespace: Bool? = nil, securityContext: JSONValue? = nil,
            imagePullSecrets: [Kubernetes.LocalObjectReference]? = nil, hostname: String? = nil,
            subdomain: String? = nil, affinity: JSONValue? = nil, schedulerName: String? = nil,
            tolerations: [JSONValue]? = nil, hostAliases: [JSONValue]? = nil, priorityClassName: String? = nil,
            priority: Int? = nil, dnsConfig: JSONValue? = nil, readinessGates: [JSONValue]? = nil,
            runtimeClassName: String? = nil, enableServiceLinks: Bool? = nil, preemptionPolicy: String? = nil,
            overhead: JSONValue? = nil, topologySpreadConstraints: [JSONValue]? = nil, setHostnameAsFQDN: Bool? = nil,
            os: JSONValue? = nil, hostUsers: Bool? = nil, schedulingGates: [JSONValue]? = nil,
            resourceClaims: [JSONValue]? = nil, resources: JSONValue? = nil, hostnameOverride: String? = nil,
            workloadRef: JSONValue? = nil, schedulingGroup: JSONValue? = nil, evictionResponders: [JSONValue]? = nil
        ) {
            self.containers = containers
            self.initContainers = initContainers
            self.serviceAccountName = serviceAccountName
            self.nodeName = nodeName
            self.hostNetwork = hostNetwork
            self.volumes = volumes
            self.ephemeralContainers = ephemeralContainers
            self.restartPolicy = restartPolicy
            self.terminationGracePeriodSeconds = terminationGracePeriodSeconds
            self.activeDeadlineSeconds = activeDeadlineSeconds
            self.dnsPolicy = dnsPolicy
            self.nodeSelector = nodeSelector
            self.serviceAccount = serviceAccount
            self.automountServiceAccountToken = automountServiceAccountToken
            self.hostPID = hostPID
            self.hostIPC = hostIPC
            self.shareProcessNamespace = shareProcessNamespace
            self.securityContext = securityContext
            self.imagePullSecrets = imagePullSecrets
            self.hostname = hostname
            self.subdomain = subdomain
            self.affinity = affinity
            self.schedulerName = schedulerName
            self.tolerations = tolerations
            self.hostAliases = hostAliases
            self.priorityClassName = priorityClassName
            self.priority = priority
            self.dnsConfig = dnsConfig
            self.readinessGates = readinessGates
            self.runtimeClassName = runtimeClassName
            self.enableServiceLinks = enableServiceLinks
            self.preemptionPolicy = preemptionPolicy
            self.overhead = overhead
            self.topologySpreadConstraints = topologySpreadConstraints
            self.setHostnameAsFQDN = setHostnameAsFQDN
            self.os = os
            self.hostUsers = hostUsers
            self.schedulingGates = schedulingGates
            self.resourceClaims = resourceClaims
            self.resources = resources
            self.hostnameOverride = hostnameOverride
            self.workloadRef = workloadRef
            self.schedulingGroup = schedulingGroup
            self.evictionResponders = evictionResponders
        }
    }

    /// The lifecycle phase of a pod.
    public enum Phase: String, ManifestEnum {
        case Pending, Running, Succeeded, Failed, Unknown
    }

    /// One address of a pod or host (`PodIP`, `HostIP`).
    public struct IPAddress: Codable, Sendable, Hashable {
        public var ip: String

        public init(ip: String) { self.ip = ip }
    }

    /// `PodStatus`. Container statuses and resource details are kept as written.
    public struct Status: Codable, Sendable, Hashable {
        public var observedGeneration: Int64?
        public var phase: Phase?
        /// `PodScheduled`, `Initialized`, `ContainersReady`, `Ready`, …
        public var conditions: [Kubernetes.Condition]?
        public var message: String?
        public var reason: String?
        public var nominatedNodeName: String?
        /// The node's IP.
        public var hostIP: String?
        public var hostIPs: [IPAddress]?
        /// The pod's IP; in the mesh, the workload's address.
        public var podIP: String?
        /// The pod's IPs, one per family; the first equals ``podIP``.
        public var podIPs: [IPAddress]?
        public var startTime: String?
        public var initContainerStatuses: [JSONValue]?
        public var containerStatuses: [JSONValue]?
        public var qosClass: String?
        public var ephemeralContainerStatuses: [JSONValue]?
        public var resize: String?
        public var resourceClaimStatuses: [JSONValue]?
        public var extendedResourceClaimStatus: JSONValue?
        public var allocatedResources: JSONValue?
        public var resources: JSONValue?
        public var nodeAllocatableResourceClaimStatuses: [JSONValue]?
        public var volumeHealth: [JSONValue]?

        public init(
            phase: Phase? = nil, conditions: [Kubernetes.Condition]? = nil, hostIP: String? = nil,
            podIP: String? = nil, podIPs: [IPAddress]? = nil, hostIPs: [IPAddress]? = nil,
            observedGeneration: Int64? = nil, message: String? = nil, reason: String? = nil,
            nominatedNodeName: String? = nil, startTime: String? = nil, initContainerStatuses: [JSONValue]? = nil,
            containerStatuses: [JSONValue]? = nil, qosClass: String? = nil, ephemeralContainerStatuses: [JSONValue]? = nil,
            resize: String? = nil, resourceClaimStatuses: [JSONValue]? = nil, extendedResourceClaimStatus: JSONValue? = nil,
            allocatedResources: JSONValue? = nil, resources: JSONValue? = nil,
            nodeAllocatableResourceClaimStatuses: [JSONValue]? = nil, volumeHealth: [JSONValue]? = nil
        ) {
            self.phase = phase
            self.conditions = conditions
            self.hostIP = hostIP
            self.podIP = podIP
            self.podIPs = podIPs
            self.hostIPs = hostIPs
            self.observedGeneration = observedGeneration
            self.message = message
            self.reason = reason
            self.nominatedNodeName = nominatedNodeName
            self.startTime = startTime
            self.initContainerStatuses = initContainerStatuses
            self.containerStatuses = containerStatuses
            self.qosClass = qosClass
            self.ephemeralContainerStatuses = ephemeralContainerStatuses
            self.resize = resize
            self.resourceClaimStatuses = resourceClaimStatuses
            self.extendedResourceClaimStatus = extendedResourceClaimStatus
            self.allocatedResources = allocatedResources
            self.resources = resources
            self.nodeAllocatableResourceClaimStatuses = nodeAllocatableResourceClaimStatuses
            self.volumeHealth = volumeHealth
        }

        /// The condition of this type, if reported.
        public func condition(_ type: String) -> Kubernetes.Condition? { conditions?.first { $0.type == type } }
    }

    public init(
        apiVersion: String = "v1", kind: String = "Pod", metadata: ObjectMeta = ObjectMeta(), spec: Spec? = nil,
        status: Status? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    // MARK: What the mesh reads

    /// Whether the pod's `Ready` condition is `True`: only ready pods receive traffic.
    public var isReady: Bool { status?.condition("Ready")?.isTrue ?? false }

    /// The pod's IPs: `status.podIPs`, else `status.podIP`; empty before the pod has one.
    public var ips: [String] {
        if let ips = status?.podIPs, !ips.isEmpty { return ips.map(\.ip) }
        if let ip = status?.podIP, !ip.isEmpty { return [ip] }
        return []
    }

    /// The service account the pod runs as: `serviceAccountName`, its deprecated alias
    /// `serviceAccount`, else `default`.
    public var serviceAccountName: String {
        let name = spec?.serviceAccountName ?? spec?.serviceAccount ?? ""
        return name.isEmpty ? "default" : name
    }

    /// The pod's own `istio.io/dataplane-mode` label, when it has a value Istio knows.
    public var dataplaneMode: DataplaneMode? {
        metadata.label(MeshLabels.dataplaneMode).flatMap(DataplaneMode.init(rawValue:))
    }

    /// Whether Istio's CNI captures the pod's traffic for ztunnel (`PodRedirectionEnabled`):
    /// the namespace or the pod is labelled `istio.io/dataplane-mode: ambient`, the pod is not
    /// labelled `none`, has no injected sidecar (`sidecar.istio.io/status`) and is not on the
    /// host network.
    public func isAmbient(namespace: Namespace?) -> Bool {
        let podMode = metadata.label(MeshLabels.dataplaneMode)
        guard namespace?.isAmbient == true || podMode == MeshLabels.dataplaneModeAmbient else { return false }
        if podMode == MeshLabels.dataplaneModeNone { return false }
        if metadata.annotation(MeshLabels.sidecarStatus) != nil { return false }
        if spec?.hostNetwork == true { return false }
        return true
    }

    /// The waypoint the pod's `istio.io/use-waypoint` label names, nil when unlabelled.
    public var useWaypoint: WaypointBinding? {
        MeshLabels.waypointBinding(labels: metadata.labels, namespace: metadata.namespace)
    }

    /// The pod's canonical service name and revision (see ``MeshLabels/canonicalService(labels:workloadName:)``);
    /// `workloadName` defaults to the pod's name.
    public func canonicalService(workloadName: String? = nil) -> (name: String, revision: String) {
        MeshLabels.canonicalService(labels: metadata.labels, workloadName: workloadName ?? metadata.name ?? "")
    }

    /// The network (`topology.istio.io/network`) label, when set.
    public var network: String? { metadata.label(MeshLabels.network) }

    // MARK: Validation

    public func validate(into context: inout ValidationContext) {
        KubernetesRules.validateMeshLabels(metadata, into: &context)
        let path = FieldPath.root("spec")
        guard let spec else {
            context.error(path("containers"), "required: a Pod needs spec.containers with at least one container (name and image)")
            return
        }
        if spec.containers.isEmpty {
            context.error(path("containers"), "a Pod needs at least one container (name and image)")
        }
        var names: [String: String] = [:]
        for (i, container) in (spec.initContainers ?? []).enumerated() {
            Pod.validate(container, at: path("initContainers")[i], names: &names, into: &context)
        }
        for (i, container) in spec.containers.enumerated() {
            Pod.validate(container, at: path("containers")[i], names: &names, into: &context)
        }
        for key in ["serviceAccountName", "serviceAccount"] {
            let value = key == "serviceAccountName" ? spec.serviceAccountName : spec.serviceAccount
            if let value, !value.isEmpty, !Rules.isDNS1123Subdomain(value) {
                context.error(path(key), "service account name \"\(value)\" must be a lowercase RFC 1123 name: letters, digits, '-' and '.'")
            }
        }
        if let node = spec.nodeName, !node.isEmpty, !Rules.isDNS1123Subdomain(node) {
            context.error(path("nodeName"), "node name \"\(node)\" must be a lowercase RFC 1123 name: letters, digits, '-' and '.'")
        }
        for key in ["hostname", "subdomain"] {
            let value = key == "hostname" ? spec.hostname : spec.subdomain
            if let value, !value.isEmpty, !Rules.isDNS1123Label(value) {
                context.error(path(key), "\(key) \"\(value)\" must be a lowercase RFC 1123 label: letters, digits and '-', at most 63 characters")
            }
        }
        if let status { validateStatus(status, into: &context) }
    }

    private func validateStatus(_ status: Status, into context: inout ValidationContext) {
        let path = FieldPath.root("status")
        Kubernetes.validateIP(status.podIP, at: path("podIP"), what: "podIP", into: &context)
        Kubernetes.validateIP(status.hostIP, at: path("hostIP"), what: "hostIP", into: &context)
        for (i, ip) in (status.podIPs ?? []).enumerated() {
            Kubernetes.validateIP(ip.ip, at: path("podIPs")[i]("ip"), what: "pod IP", into: &context)
        }
        for (i, ip) in (status.hostIPs ?? []).enumerated() {
            Kubernetes.validateIP(ip.ip, at: path("hostIPs")[i]("ip"), what: "host IP", into: &context)
        }
        if let podIP = status.podIP, !podIP.isEmpty, let first = status.podIPs?.first, first.ip != podIP {
            context.error(path("podIPs")[0]("ip"), "podIPs[0] \"\(first.ip)\" must equal podIP \"\(podIP)\"")
        }
        if let ips = status.podIPs, ips.count > 2 {
            context.error(path("podIPs"), "at most two pod IPs (one IPv4, one IPv6) are allowed, found \(ips.count)")
        }
    }
}
