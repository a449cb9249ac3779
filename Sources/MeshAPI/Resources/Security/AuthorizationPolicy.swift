/// `security.istio.io` AuthorizationPolicy: access control for the workloads in its scope.
///
/// Policies are evaluated CUSTOM, then DENY, then ALLOW: a request is denied when a matching
/// CUSTOM check or DENY policy says so; otherwise it is allowed when the workload has no ALLOW
/// policy or a matching one, and denied when it has ALLOW policies none of which match.
/// AUDIT policies only mark requests for auditing.
public struct AuthorizationPolicy: MeshResource {
    public static let apiGroup = "security.istio.io"
    public static let kind = "AuthorizationPolicy"
    public static let apiVersions = ["v1", "v1beta1"]

    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    /// The policy; a missing spec is an ALLOW policy without rules (it allows nothing).
    public var spec: Spec?
    public var status: JSONValue?

    public init(
        apiVersion: String = "security.istio.io/v1", kind: String = "AuthorizationPolicy",
        metadata: ObjectMeta, spec: Spec? = Spec(), status: JSONValue? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// What the policy does with the requests its rules match.
    public enum Action: String, ManifestEnum {
        /// Allow matching requests (the default).
        case ALLOW
        /// Deny matching requests.
        case DENY
        /// Mark matching requests for auditing; never changes the decision.
        case AUDIT
        /// Ask the extension provider named in `provider` for a decision.
        case CUSTOM
    }

    /// The body of an AuthorizationPolicy.
    public struct Spec: Codable, Sendable, Hashable {
        /// Workloads the policy applies to; all workloads of the namespace when absent.
        /// Mutually exclusive with `targetRef` and `targetRefs`.
        public var selector: IstioType.WorkloadSelector?
        /// Deprecated single form of `targetRefs`.
        public var targetRef: IstioType.PolicyTargetReference?
        /// Resources the policy is attached to (at most 16). Waypoints honour only these.
        public var targetRefs: [IstioType.PolicyTargetReference]?
        /// The rules; the policy matches when any rule matches. Absent means no rule matches.
        public var rules: [Rule]?
        /// ALLOW when absent.
        public var action: Action?
        /// The extension provider asked by a CUSTOM policy.
        public var provider: ExtensionProvider?

        public init(
            selector: IstioType.WorkloadSelector? = nil, targetRef: IstioType.PolicyTargetReference? = nil,
            targetRefs: [IstioType.PolicyTargetReference]? = nil, rules: [Rule]? = nil, action: Action? = nil,
            provider: ExtensionProvider? = nil
        ) {
            self.selector = selector
            self.targetRef = targetRef
            self.targetRefs = targetRefs
            self.rules = rules
            self.action = action
            self.provider = provider
        }

        /// The action, with its default applied.
        public var effectiveAction: Action { action ?? .ALLOW }
    }

    /// A MeshConfig extension provider (`meshConfig.extensionProviders[].name`).
    public struct ExtensionProvider: Codable, Sendable, Hashable {
        public var name: String?

        public init(name: String? = nil) {
            self.name = name
        }
    }

    /// One rule: it matches when a `from` matches, a `to` matches and every `when` holds.
    /// A missing `from`, `to` or `when` matches anything.
    public struct Rule: Codable, Sendable, Hashable {
        public var from: [From]?
        public var to: [To]?
        public var when: [Condition]?

        public init(from: [From]? = nil, to: [To]? = nil, when: [Condition]? = nil) {
            self.from = from
            self.to = to
            self.when = when
        }

        /// One accepted source of a rule.
        public struct From: Codable, Sendable, Hashable {
            public var source: Source?

            public init(source: Source? = nil) {
                self.source = source
            }
        }

        /// One accepted operation of a rule.
        public struct To: Codable, Sendable, Hashable {
            public var operation: Operation?

            public init(operation: Operation? = nil) {
                self.operation = operation
            }
        }
    }

    /// Who sends the request. Every set field must match; within a field any value may.
    ///
    /// String values are exact, prefix (`abc*`), suffix (`*abc`) or presence (`*`) matches.
    public struct Source: Codable, Sendable, Hashable {
        /// Peer identities (`<trust domain>/ns/<namespace>/sa/<service account>`); needs mTLS.
        public var principals: [String]?
        public var notPrincipals: [String]?
        /// JWT identities (`<iss>/<sub>`) set by a RequestAuthentication; HTTP only.
        public var requestPrincipals: [String]?
        public var notRequestPrincipals: [String]?
        /// Namespaces of the peer identity; needs mTLS.
        public var namespaces: [String]?
        public var notNamespaces: [String]?
        /// Service accounts as `<namespace>/<name>` or `<name>` (policy's namespace); no
        /// wildcards, at most 16, not together with principals or namespaces.
        public var serviceAccounts: [String]?
        public var notServiceAccounts: [String]?
        /// IP addresses or CIDR blocks of the packet's source.
        public var ipBlocks: [String]?
        public var notIpBlocks: [String]?
        /// IP addresses or CIDR blocks of the original client (X-Forwarded-For or PROXY protocol).
        public var remoteIpBlocks: [String]?
        public var notRemoteIpBlocks: [String]?
        /// Trust domains of the peer identity.
        public var trustDomains: [String]?
        public var notTrustDomains: [String]?

        public init(
            principals: [String]? = nil, notPrincipals: [String]? = nil, requestPrincipals: [String]? = nil,
            notRequestPrincipals: [String]? = nil, namespaces: [String]? = nil, notNamespaces: [String]? = nil,
            serviceAccounts: [String]? = nil, notServiceAccounts: [String]? = nil, ipBlocks: [String]? = nil,
            notIpBlocks: [String]? = nil, remoteIpBlocks: [String]? = nil, notRemoteIpBlocks: [String]? = nil,
            trustDomains: [String]? = nil, notTrustDomains: [String]? = nil
        ) {
            self.principals = principals
            self.notPrincipals = notPrincipals
            self.requestPrincipals = requestPrincipals
            self.notRequestPrincipals = notRequestPrincipals
            self.namespaces = namespaces
            self.notNamespaces = notNamespaces
            self.serviceAccounts = serviceAccounts
            self.notServiceAccounts = notServiceAccounts
            self.ipBlocks = ipBlocks
            self.notIpBlocks = notIpBlocks
            self.remoteIpBlocks = remoteIpBlocks
            self.notRemoteIpBlocks = notRemoteIpBlocks
            self.trustDomains = trustDomains
            self.notTrustDomains = notTrustDomains
        }

        /// Every field with its JSON name, in the API's order.
        public var fields: [(name: String, values: [String]?)] {
            [
                ("principals", principals), ("notPrincipals", notPrincipals),
                ("requestPrincipals", requestPrincipals), ("notRequestPrincipals", notRequestPrincipals),
                ("namespaces", namespaces), ("notNamespaces", notNamespaces),
                ("serviceAccounts", serviceAccounts), ("notServiceAccounts", notServiceAccounts),
                ("ipBlocks", ipBlocks), ("notIpBlocks", notIpBlocks),
                ("remoteIpBlocks", remoteIpBlocks), ("notRemoteIpBlocks", notRemoteIpBlocks),
                ("trustDomains", trustDomains), ("notTrustDomains", notTrustDomains),
            ]
        }
    }

    /// What the request does. Every set field must match; within a field any value may.
    public struct Operation: Codable, Sendable, Hashable {
        /// HTTP Host / `:authority`, matched case-insensitively; HTTP only.
        public var hosts: [String]?
        public var notHosts: [String]?
        /// Destination ports as decimal strings (`"8080"`); works for TCP too.
        public var ports: [String]?
        public var notPorts: [String]?
        /// HTTP methods (always `POST` for gRPC); HTTP only.
        public var methods: [String]?
        public var notMethods: [String]?
        /// Normalized request paths without the query (`/package.Service/Method` for gRPC),
        /// or templates with `{*}` and `{**}`; HTTP only.
        public var paths: [String]?
        public var notPaths: [String]?

        public init(
            hosts: [String]? = nil, notHosts: [String]? = nil, ports: [String]? = nil, notPorts: [String]? = nil,
            methods: [String]? = nil, notMethods: [String]? = nil, paths: [String]? = nil,
            notPaths: [String]? = nil
        ) {
            self.hosts = hosts
            self.notHosts = notHosts
            self.ports = ports
            self.notPorts = notPorts
            self.methods = methods
            self.notMethods = notMethods
            self.paths = paths
            self.notPaths = notPaths
        }

        /// Every field with its JSON name, in the API's order.
        public var fields: [(name: String, values: [String]?)] {
            [
                ("hosts", hosts), ("notHosts", notHosts), ("ports", ports), ("notPorts", notPorts),
                ("methods", methods), ("notMethods", notMethods), ("paths", paths), ("notPaths", notPaths),
            ]
        }
    }

    /// An extra condition on an attribute of the request or connection, e.g.
    /// `request.auth.claims[groups]`, `source.ip` or `destination.port`.
    public struct Condition: Codable, Sendable, Hashable {
        /// The attribute name. Required.
        public var key: String
        /// The attribute must match one of these.
        public var values: [String]?
        /// The attribute must match none of these.
        public var notValues: [String]?

        public init(key: String, values: [String]? = nil, notValues: [String]? = nil) {
            self.key = key
            self.values = values
            self.notValues = notValues
        }
    }

    public func validate(into context: inout ValidationContext) {
        AuthorizationPolicyValidator.validate(self, into: &context)
    }
}
