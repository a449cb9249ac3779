/// `security.istio.io` PeerAuthentication: which mutual TLS mode workloads accept traffic in.
///
/// Policies apply at three levels: mesh (root namespace, no selector), namespace (no
/// selector) and workload (a selector); each level's non-`UNSET` mode overrides the one above,
/// and port-level entries override the workload's mode on their port.
public struct PeerAuthentication: MeshResource {
    public static let apiGroup = "security.istio.io"
    public static let kind = "PeerAuthentication"
    public static let apiVersions = ["v1", "v1beta1"]

    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    /// The policy; a missing spec leaves every mode `UNSET` (inherited).
    public var spec: Spec?
    public var status: JSONValue?

    public init(
        apiVersion: String = "security.istio.io/v1", kind: String = "PeerAuthentication",
        metadata: ObjectMeta, spec: Spec? = Spec(), status: JSONValue? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// The body of a PeerAuthentication.
    public struct Spec: Codable, Sendable, Hashable {
        /// Workloads the policy applies to; the whole namespace (or mesh, in the root
        /// namespace) when absent.
        public var selector: IstioType.WorkloadSelector?
        /// The mode for the selected workloads; inherited from the parent level when absent.
        public var mtls: MutualTLS?
        /// Per-port modes, keyed by the **workload** port (not the Service port) written as a
        /// decimal string. Only allowed with a selector.
        public var portLevelMtls: [String: MutualTLS]?

        public init(
            selector: IstioType.WorkloadSelector? = nil, mtls: MutualTLS? = nil,
            portLevelMtls: [String: MutualTLS]? = nil
        ) {
            self.selector = selector
            self.mtls = mtls
            self.portLevelMtls = portLevelMtls
        }

        /// The port-level settings whose keys are valid ports (1-65535), keyed by number.
        public var portLevelMtlsByPort: [Int: MutualTLS] {
            var result: [Int: MutualTLS] = [:]
            for (key, value) in portLevelMtls ?? [:] {
                if let port = SecurityRules.parsePort(key), Rules.isValidPort(port) { result[port] = value }
            }
            return result
        }
    }

    /// Mutual TLS settings.
    public struct MutualTLS: Codable, Sendable, Hashable {
        /// `UNSET` when absent.
        public var mode: Mode?

        public init(mode: Mode? = nil) {
            self.mode = mode
        }
    }

    /// How a workload accepts connections.
    public enum Mode: String, ManifestEnum {
        /// Inherit from the parent level; `PERMISSIVE` when there is none.
        case UNSET
        /// Plaintext only (not supported in ambient mode).
        case DISABLE
        /// Plaintext or mutual TLS.
        case PERMISSIVE
        /// Mutual TLS with a client certificate only.
        case STRICT
    }

    public func validate(into context: inout ValidationContext) {
        let specPath = FieldPath.root("spec")
        let spec = self.spec ?? Spec()
        SecurityRules.validateDryRunAnnotation(metadata, kind: Self.kind, authorizationAction: nil, into: &context)
        SecurityRules.validateSelector(spec.selector, at: specPath("selector"), into: &context)
        guard let portLevel = spec.portLevelMtls else { return }
        let path = specPath("portLevelMtls")
        if portLevel.isEmpty {
            context.error(path, "portLevelMtls, if set, must have at least one port; remove it or add a port")
            return
        }
        if (spec.selector?.matchLabels ?? [:]).isEmpty {
            context.error(path, "portLevelMtls needs a selector with matchLabels: a namespace or mesh-wide policy cannot set port-level mTLS")
        }
        for key in portLevel.keys.sorted() where SecurityRules.parsePort(key).map(Rules.isValidPort) != true {
            context.error(path(key), "port \"\(key)\" must be a workload port number in 1-65535")
        }
    }
}
