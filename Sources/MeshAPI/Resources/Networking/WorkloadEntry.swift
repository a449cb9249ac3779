/// `networking.istio.io` WorkloadEntry: a workload that is not a Kubernetes pod (a VM, a
/// bare-metal host), described so the mesh can route to it. The same spec describes the
/// `endpoints` of a ServiceEntry.
///
/// Field names and meaning follow `istio/api:networking/v1alpha3/workload_entry.proto`.
public struct WorkloadEntry: MeshResource {
    public static let apiGroup = "networking.istio.io"
    public static let kind = "WorkloadEntry"
    public static let apiVersions = ["v1", "v1beta1", "v1alpha3"]

    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: JSONValue?

    public init(
        apiVersion: String = "networking.istio.io/v1", kind: String = WorkloadEntry.kind,
        metadata: ObjectMeta, spec: Spec = Spec(), status: JSONValue? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// A workload's address, ports and identity.
    public struct Spec: Codable, Sendable, Hashable {
        /// An IP address, a DNS name (for DNS resolution), or `unix:///absolute/path`. When
        /// empty, `network` is required (the workload is reached through that network's gateway).
        public var address: String?
        /// Port name (of the service) to the port this workload listens on; takes precedence
        /// over the service's targetPort.
        public var ports: [String: UInt32]?
        public var labels: [String: String]?
        /// The network the workload is on, for multi-network meshes.
        public var network: String?
        /// `region/zone/subzone`.
        public var locality: String?
        /// Load-balancing weight relative to other endpoints.
        public var weight: UInt32?
        /// Service account of the workload, in the entry's namespace.
        public var serviceAccount: String?

        public init(
            address: String? = nil, ports: [String: UInt32]? = nil, labels: [String: String]? = nil,
            network: String? = nil, locality: String? = nil, weight: UInt32? = nil, serviceAccount: String? = nil
        ) {
            self.address = address
            self.ports = ports
            self.labels = labels
            self.network = network
            self.locality = locality
            self.weight = weight
            self.serviceAccount = serviceAccount
        }
    }

    public func validate(into context: inout ValidationContext) {
        WorkloadEntryValidation.validate(spec, at: FieldPath.root("spec"), servicePorts: nil, allowFQDNAddress: true,
            into: &context)
    }
}

/// Validation of a WorkloadEntry spec, shared with ServiceEntry endpoints (Istio's
/// `validateWorkloadEntry` and the CRD's rules).
enum WorkloadEntryValidation {
    static let unixPrefix = "unix://"

    /// - Parameters:
    ///   - servicePorts: the ServiceEntry's port names when validating its endpoints.
    ///   - allowFQDNAddress: accept a DNS name as address (false for STATIC resolution).
    static func validate(
        _ spec: WorkloadEntry.Spec, at path: FieldPath, servicePorts: Set<String>?, allowFQDNAddress: Bool,
        into context: inout ValidationContext
    ) {
        let address = spec.address ?? ""
        if address.isEmpty {
            if (spec.network ?? "").isEmpty {
                context.error(path("address"), "address is required: give an IP address, a DNS name or unix:///path (or set network for a workload reached through a network gateway)")
                return
            }
            context.warning(path("address"), "address is unset, so the workload is reached through the gateway of network \"\(spec.network ?? "")\"")
        }
        if address.utf8.count > 256 {
            context.error(path("address"), "address is longer than 256 characters")
        }
        var unix = false
        if address.hasPrefix(unixPrefix) {
            unix = true
            let socket = String(address.dropFirst(unixPrefix.count))
            if socket.isEmpty {
                context.error(path("address"), "unix address must not be empty; use unix:///absolute/path or unix://@abstract")
            } else if !socket.hasPrefix("@") && (!socket.hasPrefix("/") || socket.hasSuffix("/")) {
                context.error(path("address"), "unix address \"\(address)\" must be an absolute path to a file (unix:///var/run/app.sock) or an abstract socket (unix://@name)")
            }
            if !(spec.ports ?? [:]).isEmpty {
                context.error(path("ports"), "a unix socket endpoint (\(address)) must not include ports")
            }
        } else if !address.isEmpty && !Rules.isIPAddress(address) {
            if !allowFQDNAddress {
                context.error(path("address"), "address \"\(address)\" is not a valid IP address; STATIC resolution needs IPs (use resolution: DNS for host names)")
            } else if NetworkingRules.fqdnProblem(address) != nil {
                context.error(path("address"), "address \"\(address)\" is not a valid IP address or DNS name; use e.g. 10.0.0.1, vm1.example.com or unix:///path")
            }
        }
        for name in (spec.ports ?? [:]).keys.sorted() {
            let port = spec.ports?[name] ?? 0
            if let servicePorts, !servicePorts.contains(name) {
                context.error(path("ports")(name), "endpoint port \"\(name)\" is not defined by the ServiceEntry's ports; use one of \(servicePorts.sorted().joined(separator: ", "))")
            }
            if let problem = NetworkingRules.portNameProblem(name) { context.error(path("ports")(name), problem) }
            if let problem = NetworkingRules.portProblem(port) { context.error(path("ports")(name), problem) }
        }
        NetworkingRules.validateLabels(spec.labels, at: path("labels"), into: &context)
        if unix, let servicePorts, servicePorts.count != 1 {
            context.error(path("address"), "a unix socket endpoint needs the ServiceEntry to have exactly 1 port (it has \(servicePorts.count))")
        }
        if let locality = spec.locality, !locality.isEmpty {
            let parts = locality.split(separator: "/", omittingEmptySubsequences: false)
            if parts.count > 3 || parts.contains(where: \.isEmpty) {
                context.warning(path("locality"), "locality \"\(locality)\" should be region, region/zone or region/zone/subzone")
            }
        }
        if let account = spec.serviceAccount, !account.isEmpty, !Rules.isDNS1123Subdomain(account) {
            context.warning(path("serviceAccount"), "serviceAccount \"\(account)\" is not a valid service account name: use a lowercase RFC 1123 name such as bookinfo-ratings")
        }
    }
}
