/// `gateway.networking.k8s.io` HTTPRoute: HTTP routing rules attached to Gateways or, in a
/// mesh, to Services and waypoints. Istio turns each match into a VirtualService route.
public struct HTTPRoute: MeshResource {
    public static let apiGroup = "gateway.networking.k8s.io"
    public static let kind = "HTTPRoute"
    public static let apiVersions = ["v1", "v1beta1"]

    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: GatewayAPI.RouteStatus?

    /// `HTTPRouteSpec`.
    public struct Spec: Codable, Sendable, Hashable {
        /// Where the route attaches (at most 32): Gateways, waypoints or Services.
        public var parentRefs: [GatewayAPI.ParentReference]?
        /// Experimental: `All` or `None`.
        public var useDefaultGateways: String?
        /// Hosts the route serves (at most 16); `*.` prefix means a suffix match.
        public var hostnames: [String]?
        /// At most 16 rules; absent means one rule matching every request.
        public var rules: [Rule]?

        public init(
            parentRefs: [GatewayAPI.ParentReference]? = nil, hostnames: [String]? = nil, rules: [Rule]? = nil,
            useDefaultGateways: String? = nil
        ) {
            self.parentRefs = parentRefs
            self.hostnames = hostnames
            self.rules = rules
            self.useDefaultGateways = useDefaultGateways
        }
    }

    /// `HTTPRouteRule`: requests matching any of ``matches`` get ``filters`` applied and go to
    /// ``backendRefs``.
    public struct Rule: Codable, Sendable, Hashable {
        public var name: String?
        /// At most 64; absent means a `PathPrefix` `/` match.
        public var matches: [Match]?
        /// At most 16.
        public var filters: [Filter]?
        /// At most 16; traffic is split by weight.
        public var backendRefs: [BackendRef]?
        public var timeouts: Timeouts?
        public var retry: Retry?
        public var sessionPersistence: GatewayAPI.SessionPersistence?

        public init(
            name: String? = nil, matches: [Match]? = nil, filters: [Filter]? = nil, backendRefs: [BackendRef]? = nil,
            timeouts: Timeouts? = nil, retry: Retry? = nil, sessionPersistence: GatewayAPI.SessionPersistence? = nil
        ) {
            self.name = name
            self.matches = matches
            self.filters = filters
            self.backendRefs = backendRefs
            self.timeouts = timeouts
            self.retry = retry
            self.sessionPersistence = sessionPersistence
        }
    }

    /// `HTTPRouteMatch`: every field must hold.
    public struct Match: Codable, Sendable, Hashable {
        /// Absent means `PathPrefix` `/`.
        public var path: PathMatch?
        /// At most 16, names compared case-insensitively.
        public var headers: [HeaderMatch]?
        /// At most 16.
        public var queryParams: [QueryParamMatch]?
        public var method: Method?

        public init(path: PathMatch? = nil, headers: [HeaderMatch]? = nil, queryParams: [QueryParamMatch]? = nil, method: Method? = nil) {
            self.path = path
            self.headers = headers
            self.queryParams = queryParams
            self.method = method
        }
    }

    /// How a path is matched.
    public enum PathMatchType: String, ManifestEnum {
        case Exact, PathPrefix, RegularExpression
    }

    /// `HTTPPathMatch`.
    public struct PathMatch: Codable, Sendable, Hashable {
        /// Defaults to `PathPrefix`.
        public var type: PathMatchType?
        /// Defaults to `/`.
        public var value: String?

        public init(type: PathMatchType? = nil, value: String? = nil) {
            self.type = type
            self.value = value
        }

        /// ``type`` with its default applied.
        public var effectiveType: PathMatchType { type ?? .PathPrefix }
        /// ``value`` with its default applied.
        public var effectiveValue: String { value ?? "/" }
    }

    /// How a header or query parameter value is matched.
    public enum ValueMatchType: String, ManifestEnum {
        case Exact, RegularExpression
    }

    /// `HTTPHeaderMatch`.
    public struct HeaderMatch: Codable, Sendable, Hashable {
        /// Defaults to `Exact`.
        public var type: ValueMatchType?
        public var name: String
        public var value: String

        public init(type: ValueMatchType? = nil, name: String, value: String) {
            self.type = type
            self.name = name
            self.value = value
        }
    }

    /// `HTTPQueryParamMatch`.
    public struct QueryParamMatch: Codable, Sendable, Hashable {
        /// Defaults to `Exact`.
        public var type: ValueMatchType?
        public var name: String
        public var value: String

        public init(type: ValueMatchType? = nil, name: String, value: String) {
            self.type = type
            self.name = name
            self.value = value
        }
    }

    /// An HTTP method.
    public enum Method: String, ManifestEnum {
        case GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH
    }

    /// `HTTPBackendRef`: where matching requests go.
    public struct BackendRef: Codable, Sendable, Hashable {
        /// Defaults to `""` (core).
        public var group: String?
        /// Defaults to `Service`.
        public var kind: String?
        public var name: String
        public var namespace: String?
        /// Required for a Service.
        public var port: Int?
        /// Relative share of traffic, 0-1000000; defaults to 1.
        public var weight: Int?
        /// Filters applied only to requests sent to this backend.
        public var filters: [Filter]?

        public init(
            group: String? = nil, kind: String? = nil, name: String, namespace: String? = nil, port: Int? = nil,
            weight: Int? = nil, filters: [Filter]? = nil
        ) {
            self.group = group
            self.kind = kind
            self.name = name
            self.namespace = namespace
            self.port = port
            self.weight = weight
            self.filters = filters
        }

        /// ``weight`` with its default applied.
        public var effectiveWeight: Int { weight ?? 1 }

        /// The reference without weight and filters.
        public var objectReference: GatewayAPI.BackendObjectReference {
            GatewayAPI.BackendObjectReference(group: group, kind: kind, name: name, namespace: namespace, port: port)
        }
    }

    /// `HTTPRouteTimeouts`: Gateway API durations (`10s`, `500ms`); `0s` disables.
    public struct Timeouts: Codable, Sendable, Hashable {
        /// The whole request, including retries.
        public var request: String?
        /// One attempt to the backend.
        public var backendRequest: String?

        public init(request: String? = nil, backendRequest: String? = nil) {
            self.request = request
            self.backendRequest = backendRequest
        }
    }

    /// `HTTPRouteRetry` (experimental).
    public struct Retry: Codable, Sendable, Hashable {
        /// Status codes (400-599) that are retried.
        public var codes: [Int]?
        /// Retries, at least 1 when set.
        public var attempts: Int?
        public var backoff: String?

        public init(codes: [Int]? = nil, attempts: Int? = nil, backoff: String? = nil) {
            self.codes = codes
            self.attempts = attempts
            self.backoff = backoff
        }
    }

    public init(
        apiVersion: String = "gateway.networking.k8s.io/v1", kind: String = "HTTPRoute", metadata: ObjectMeta = ObjectMeta(),
        spec: Spec = Spec(), status: GatewayAPI.RouteStatus? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// The rules with the API's default applied: one rule matching every request when none
    /// are given.
    public var effectiveRules: [Rule] {
        if let rules = spec.rules, !rules.isEmpty { return rules }
        return [Rule(matches: [Match(path: PathMatch(type: .PathPrefix, value: "/"))])]
    }
}
