/// `networking.istio.io` VirtualService: how requests to a set of hosts are routed.
///
/// Field names and meaning follow `istio/api:networking/v1alpha3/virtual_service.proto`
/// (served as `v1`, `v1beta1` and `v1alpha3`). Rules are evaluated in order and the first
/// matching rule wins. A VirtualService without `hosts` is a delegate, included by another
/// VirtualService's `delegate`.
public struct VirtualService: MeshResource {
    public static let apiGroup = "networking.istio.io"
    public static let kind = "VirtualService"
    public static let apiVersions = ["v1", "v1beta1", "v1alpha3"]

    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: JSONValue?

    public init(
        apiVersion: String = "networking.istio.io/v1", kind: String = VirtualService.kind,
        metadata: ObjectMeta, spec: Spec = Spec(), status: JSONValue? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// The body of a VirtualService.
    public struct Spec: Codable, Sendable, Hashable {
        /// Destination hosts the rules apply to: short names (resolved in the VirtualService's
        /// namespace), FQDNs, `*.` wildcards, or IPs. Empty for a delegate VirtualService.
        public var hosts: [String]?
        /// Gateways and sidecars the rules apply to: `mesh` (all sidecars, the default when
        /// omitted), `<namespace>/<gateway>`, or a gateway in the same namespace.
        public var gateways: [String]?
        /// HTTP rules, first match wins.
        public var http: [HTTPRoute]?
        /// Rules for unterminated TLS and HTTPS traffic, routed by SNI.
        public var tls: [TLSRoute]?
        /// Rules for opaque TCP traffic.
        public var tcp: [TCPRoute]?
        /// Namespaces that see this VirtualService: `.` (own), `*` (all) or namespace names.
        public var exportTo: [String]?

        public init(
            hosts: [String]? = nil, gateways: [String]? = nil, http: [HTTPRoute]? = nil, tls: [TLSRoute]? = nil,
            tcp: [TCPRoute]? = nil, exportTo: [String]? = nil
        ) {
            self.hosts = hosts
            self.gateways = gateways
            self.http = http
            self.tls = tls
            self.tcp = tcp
            self.exportTo = exportTo
        }
    }

    /// A service (and optionally subset and port) that traffic is forwarded to.
    public struct Destination: Codable, Sendable, Hashable {
        /// The service: a short name (resolved in the rule's namespace) or an FQDN from the
        /// service registry. Required.
        public var host: String
        /// A subset defined in the DestinationRule for `host`.
        public var subset: String?
        /// The port on `host`; needed only when the service exposes more than one.
        public var port: PortSelector?

        public init(host: String, subset: String? = nil, port: PortSelector? = nil) {
            self.host = host
            self.subset = subset
            self.port = port
        }
    }

    /// Selects a port of a service by number.
    public struct PortSelector: Codable, Sendable, Hashable {
        public var number: UInt32?
        public init(number: UInt32? = nil) { self.number = number }
    }

    /// A percentage, 0.0 to 100.0.
    public struct Percent: Codable, Sendable, Hashable {
        public var value: Double?
        public init(value: Double? = nil) { self.value = value }
    }

    /// How to match a string: set exactly one of `exact`, `prefix` or `regex` (RE2).
    public struct StringMatch: Codable, Sendable, Hashable {
        public var exact: String?
        public var prefix: String?
        /// An RE2 regular expression matched against the whole value.
        public var regex: String?

        public init(exact: String? = nil, prefix: String? = nil, regex: String? = nil) {
            self.exact = exact
            self.prefix = prefix
            self.regex = regex
        }

        /// `{exact: value}`.
        public static func exact(_ value: String) -> StringMatch { StringMatch(exact: value) }
        /// `{prefix: value}`.
        public static func prefix(_ value: String) -> StringMatch { StringMatch(prefix: value) }
        /// `{regex: value}`.
        public static func regex(_ value: String) -> StringMatch { StringMatch(regex: value) }

        /// True when none of exact, prefix and regex is set.
        public var isEmpty: Bool { exact == nil && prefix == nil && regex == nil }
    }

    /// Header manipulation for requests and responses.
    public struct Headers: Codable, Sendable, Hashable {
        public var request: HeaderOperations?
        public var response: HeaderOperations?

        public init(request: HeaderOperations? = nil, response: HeaderOperations? = nil) {
            self.request = request
            self.response = response
        }

        /// Operations on one direction's headers.
        public struct HeaderOperations: Codable, Sendable, Hashable {
            /// Overwrite these headers.
            public var set: [String: String]?
            /// Append to these headers (comma-joined with existing values).
            public var add: [String: String]?
            /// Remove these headers.
            public var remove: [String]?

            public init(set: [String: String]? = nil, add: [String: String]? = nil, remove: [String]? = nil) {
                self.set = set
                self.add = add
                self.remove = remove
            }
        }
    }

    /// An HTTP rule: conditions and what to do with matching requests.
    public struct HTTPRoute: Codable, Sendable, Hashable {
        /// Name used in logs and statistics.
        public var name: String?
        /// Conditions, ORed; the fields within one match are ANDed. None matches everything.
        public var match: [HTTPMatchRequest]?
        /// Forward to these destinations, split by relative weight.
        public var route: [HTTPRouteDestination]?
        /// Answer with a redirect (exclusive with `route` and `directResponse`).
        public var redirect: HTTPRedirect?
        /// Answer directly with a fixed status and body.
        public var directResponse: HTTPDirectResponse?
        /// Hand the routing to another VirtualService (one level deep).
        public var delegate: Delegate?
        /// Rewrite the path or authority before forwarding.
        public var rewrite: HTTPRewrite?
        /// Request timeout, e.g. `10s`. Disabled (0s) by default.
        public var timeout: String?
        /// Retry policy.
        public var retries: HTTPRetry?
        /// Fault injection (delays and aborts).
        public var fault: HTTPFaultInjection?
        /// Mirror traffic to this destination as well.
        public var mirror: Destination?
        /// Mirror traffic to several destinations.
        public var mirrors: [HTTPMirrorPolicy]?
        /// Deprecated: percentage of traffic mirrored, as an integer. Use `mirrorPercentage`.
        public var mirrorPercent: UInt32?
        /// Deprecated spelling of `mirrorPercent` still in the CRD schema.
        public var mirror_percent: UInt32?
        /// Percentage of traffic mirrored by `mirror` (100 when unset).
        public var mirrorPercentage: Percent?
        /// Cross-origin resource sharing policy.
        public var corsPolicy: CorsPolicy?
        /// Header manipulation.
        public var headers: Headers?

        public init(
            name: String? = nil, match: [HTTPMatchRequest]? = nil, route: [HTTPRouteDestination]? = nil,
            redirect: HTTPRedirect? = nil, directResponse: HTTPDirectResponse? = nil, delegate: Delegate? = nil,
            rewrite: HTTPRewrite? = nil, timeout: String? = nil, retries: HTTPRetry? = nil,
            fault: HTTPFaultInjection? = nil, mirror: Destination? = nil, mirrors: [HTTPMirrorPolicy]? = nil,
            mirrorPercent: UInt32? = nil, mirror_percent: UInt32? = nil, mirrorPercentage: Percent? = nil,
            corsPolicy: CorsPolicy? = nil, headers: Headers? = nil
        ) {
            self.name = name
            self.match = match
            self.route = route
            self.redirect = redirect
            self.directResponse = directResponse
            self.delegate = delegate
            self.rewrite = rewrite
            self.timeout = timeout
            self.retries = retries
            self.fault = fault
            self.mirror = mirror
            self.mirrors = mirrors
            self.mirrorPercent = mirrorPercent
            self.mirror_percent = mirror_percent
            self.mirrorPercentage = mirrorPercentage
            self.corsPolicy = corsPolicy
            self.headers = headers
        }
    }

    /// Another VirtualService that routes this rule's traffic.
    public struct Delegate: Codable, Sendable, Hashable {
        public var name: String?
        /// Defaults to the delegating VirtualService's namespace.
        public var namespace: String?
        public init(name: String? = nil, namespace: String? = nil) {
            self.name = name
            self.namespace = namespace
        }
    }

    /// Conditions on an HTTP request; all set fields must match.
    public struct HTTPMatchRequest: Codable, Sendable, Hashable {
        /// Name used in logs; concatenated with the route's name.
        public var name: String?
        public var uri: StringMatch?
        public var scheme: StringMatch?
        public var method: StringMatch?
        public var authority: StringMatch?
        /// Header matches by lowercase name. An empty match (`{}`) checks presence.
        public var headers: [String: StringMatch]?
        /// The port the request arrived on (for services exposing several ports).
        public var port: UInt32?
        /// Config-time selector: labels of the calling workloads (needs `mesh` in gateways).
        public var sourceLabels: [String: String]?
        /// Config-time selector: gateways this match applies to, overriding the top level.
        public var gateways: [String]?
        /// Query parameter matches (`exact` and `regex`).
        public var queryParams: [String: StringMatch]?
        /// Match `uri` without case (exact and prefix only).
        public var ignoreUriCase: Bool?
        /// Headers that must not match.
        public var withoutHeaders: [String: StringMatch]?
        /// Config-time selector: namespace of the calling workloads.
        public var sourceNamespace: String?
        /// Prefix for the statistics of this route.
        public var statPrefix: String?

        public init(
            name: String? = nil, uri: StringMatch? = nil, scheme: StringMatch? = nil, method: StringMatch? = nil,
            authority: StringMatch? = nil, headers: [String: StringMatch]? = nil, port: UInt32? = nil,
            sourceLabels: [String: String]? = nil, gateways: [String]? = nil,
            queryParams: [String: StringMatch]? = nil, ignoreUriCase: Bool? = nil,
            withoutHeaders: [String: StringMatch]? = nil, sourceNamespace: String? = nil, statPrefix: String? = nil
        ) {
            self.name = name
            self.uri = uri
            self.scheme = scheme
            self.method = method
            self.authority = authority
            self.headers = headers
            self.port = port
            self.sourceLabels = sourceLabels
            self.gateways = gateways
            self.queryParams = queryParams
            self.ignoreUriCase = ignoreUriCase
            self.withoutHeaders = withoutHeaders
            self.sourceNamespace = sourceNamespace
            self.statPrefix = statPrefix
        }
    }

    /// A weighted HTTP destination.
    public struct HTTPRouteDestination: Codable, Sendable, Hashable {
        public var destination: Destination
        /// Relative weight: the destination gets weight/sum of the traffic.
        public var weight: Int32?
        /// Header manipulation applied only when this destination is chosen.
        public var headers: Headers?

        public init(destination: Destination, weight: Int32? = nil, headers: Headers? = nil) {
            self.destination = destination
            self.weight = weight
            self.headers = headers
        }
    }

    /// A weighted TCP or TLS destination.
    public struct RouteDestination: Codable, Sendable, Hashable {
        public var destination: Destination
        /// Relative weight: the destination gets weight/sum of the traffic.
        public var weight: Int32?

        public init(destination: Destination, weight: Int32? = nil) {
            self.destination = destination
            self.weight = weight
        }
    }

    /// A rule for TLS traffic routed by SNI without terminating it.
    public struct TLSRoute: Codable, Sendable, Hashable {
        /// Conditions, ORed. Required.
        public var match: [TLSMatchAttributes]
        public var route: [RouteDestination]?

        public init(match: [TLSMatchAttributes], route: [RouteDestination]? = nil) {
            self.match = match
            self.route = route
        }
    }

    /// A rule for opaque TCP traffic.
    public struct TCPRoute: Codable, Sendable, Hashable {
        public var match: [L4MatchAttributes]?
        public var route: [RouteDestination]?

        public init(match: [L4MatchAttributes]? = nil, route: [RouteDestination]? = nil) {
            self.match = match
            self.route = route
        }
    }

    /// Conditions on a TCP connection.
    public struct L4MatchAttributes: Codable, Sendable, Hashable {
        /// Destination IPs or CIDR blocks.
        public var destinationSubnets: [String]?
        public var port: UInt32?
        /// Source IP or CIDR block (applies to gateways).
        public var sourceSubnet: String?
        public var sourceLabels: [String: String]?
        public var gateways: [String]?
        public var sourceNamespace: String?

        public init(
            destinationSubnets: [String]? = nil, port: UInt32? = nil, sourceSubnet: String? = nil,
            sourceLabels: [String: String]? = nil, gateways: [String]? = nil, sourceNamespace: String? = nil
        ) {
            self.destinationSubnets = destinationSubnets
            self.port = port
            self.sourceSubnet = sourceSubnet
            self.sourceLabels = sourceLabels
            self.gateways = gateways
            self.sourceNamespace = sourceNamespace
        }
    }

    /// Conditions on a TLS connection.
    public struct TLSMatchAttributes: Codable, Sendable, Hashable {
        /// SNI values to match; each must be covered by the VirtualService's hosts. Required.
        public var sniHosts: [String]
        public var destinationSubnets: [String]?
        public var port: UInt32?
        public var sourceLabels: [String: String]?
        public var gateways: [String]?
        public var sourceNamespace: String?

        public init(
            sniHosts: [String], destinationSubnets: [String]? = nil, port: UInt32? = nil,
            sourceLabels: [String: String]? = nil, gateways: [String]? = nil, sourceNamespace: String? = nil
        ) {
            self.sniHosts = sniHosts
            self.destinationSubnets = destinationSubnets
            self.port = port
            self.sourceLabels = sourceLabels
            self.gateways = gateways
            self.sourceNamespace = sourceNamespace
        }
    }

    /// An HTTP redirect response (301 by default).
    public struct HTTPRedirect: Codable, Sendable, Hashable {
        /// Replace the whole path with this.
        public var uri: String?
        /// Replace the authority (host) with this.
        public var authority: String?
        /// Redirect to this port.
        public var port: UInt32?
        /// Derive the port from the protocol (80/443) or from the request.
        public var derivePort: RedirectPortSelection?
        /// `http` or `https`.
        public var scheme: String?
        /// 3xx status; 301 when unset.
        public var redirectCode: UInt32?
        /// Replace the matched prefix with this (needs prefix URI matches).
        public var prefixRewrite: String?

        public init(
            uri: String? = nil, authority: String? = nil, port: UInt32? = nil,
            derivePort: RedirectPortSelection? = nil, scheme: String? = nil, redirectCode: UInt32? = nil,
            prefixRewrite: String? = nil
        ) {
            self.uri = uri
            self.authority = authority
            self.port = port
            self.derivePort = derivePort
            self.scheme = scheme
            self.redirectCode = redirectCode
            self.prefixRewrite = prefixRewrite
        }

        /// How a redirect chooses its port.
        public enum RedirectPortSelection: String, ManifestEnum {
            case FROM_PROTOCOL_DEFAULT, FROM_REQUEST_PORT
        }
    }

    /// A fixed response sent without forwarding.
    public struct HTTPDirectResponse: Codable, Sendable, Hashable {
        /// The HTTP status, 200-599. Required.
        public var status: UInt32
        public var body: HTTPBody?

        public init(status: UInt32, body: HTTPBody? = nil) {
            self.status = status
            self.body = body
        }
    }

    /// A response body: text or base64 bytes.
    public struct HTTPBody: Codable, Sendable, Hashable {
        public var string: String?
        /// Base64-encoded bytes.
        public var bytes: String?

        public init(string: String? = nil, bytes: String? = nil) {
            self.string = string
            self.bytes = bytes
        }
    }

    /// Rewrites applied before forwarding.
    public struct HTTPRewrite: Codable, Sendable, Hashable {
        /// Replace the path, or the matched prefix when the match was a prefix.
        public var uri: String?
        /// Replace the Host/authority header.
        public var authority: String?
        /// Rewrite the path with a regular expression.
        public var uriRegexRewrite: RegexRewrite?

        public init(uri: String? = nil, authority: String? = nil, uriRegexRewrite: RegexRewrite? = nil) {
            self.uri = uri
            self.authority = authority
            self.uriRegexRewrite = uriRegexRewrite
        }
    }

    /// A regular-expression rewrite: `match` (RE2) replaced by `rewrite` (`\1` for groups).
    public struct RegexRewrite: Codable, Sendable, Hashable {
        public var match: String?
        public var rewrite: String?

        public init(match: String? = nil, rewrite: String? = nil) {
            self.match = match
            self.rewrite = rewrite
        }
    }

    /// Retry policy.
    public struct HTTPRetry: Codable, Sendable, Hashable {
        /// Number of retries; 0 disables retries.
        public var attempts: Int32?
        /// Timeout per attempt, e.g. `2s`; defaults to the route timeout.
        public var perTryTimeout: String?
        /// Comma-separated Envoy retry conditions and status codes, e.g. `5xx,reset,503`.
        public var retryOn: String?
        /// Retry on endpoints in other localities.
        public var retryRemoteLocalities: Bool?
        /// Avoid hosts already tried (true by default).
        public var retryIgnorePreviousHosts: Bool?
        /// Base interval between retries (25ms by default).
        public var backoff: String?

        public init(
            attempts: Int32? = nil, perTryTimeout: String? = nil, retryOn: String? = nil,
            retryRemoteLocalities: Bool? = nil, retryIgnorePreviousHosts: Bool? = nil, backoff: String? = nil
        ) {
            self.attempts = attempts
            self.perTryTimeout = perTryTimeout
            self.retryOn = retryOn
            self.retryRemoteLocalities = retryRemoteLocalities
            self.retryIgnorePreviousHosts = retryIgnorePreviousHosts
            self.backoff = backoff
        }
    }

    /// Cross-origin resource sharing policy.
    public struct CorsPolicy: Codable, Sendable, Hashable {
        /// Deprecated exact origins; use `allowOrigins`.
        public var allowOrigin: [String]?
        /// Origins allowed; a matching origin is echoed in Access-Control-Allow-Origin.
        public var allowOrigins: [StringMatch]?
        public var allowMethods: [String]?
        public var allowHeaders: [String]?
        public var exposeHeaders: [String]?
        /// How long a preflight result may be cached, in whole seconds, e.g. `24h`.
        public var maxAge: String?
        public var allowCredentials: Bool?
        /// What to do with preflight requests whose origin does not match.
        public var unmatchedPreflights: UnmatchedPreflights?

        public init(
            allowOrigin: [String]? = nil, allowOrigins: [StringMatch]? = nil, allowMethods: [String]? = nil,
            allowHeaders: [String]? = nil, exposeHeaders: [String]? = nil, maxAge: String? = nil,
            allowCredentials: Bool? = nil, unmatchedPreflights: UnmatchedPreflights? = nil
        ) {
            self.allowOrigin = allowOrigin
            self.allowOrigins = allowOrigins
            self.allowMethods = allowMethods
            self.allowHeaders = allowHeaders
            self.exposeHeaders = exposeHeaders
            self.maxAge = maxAge
            self.allowCredentials = allowCredentials
            self.unmatchedPreflights = unmatchedPreflights
        }

        /// Handling of preflight requests from origins that do not match.
        public enum UnmatchedPreflights: String, ManifestEnum {
            case UNSPECIFIED, FORWARD, IGNORE
        }
    }

    /// Faults injected into matching requests.
    public struct HTTPFaultInjection: Codable, Sendable, Hashable {
        public var delay: Delay?
        public var abort: Abort?

        public init(delay: Delay? = nil, abort: Abort? = nil) {
            self.delay = delay
            self.abort = abort
        }

        /// Delay requests before forwarding.
        public struct Delay: Codable, Sendable, Hashable {
            /// Deprecated integer percentage; use `percentage`.
            public var percent: Int32?
            /// The delay, e.g. `5s`.
            public var fixedDelay: String?
            /// Not supported by Istio yet.
            public var exponentialDelay: String?
            /// Share of requests delayed. Without it nothing is delayed.
            public var percentage: Percent?

            public init(
                percent: Int32? = nil, fixedDelay: String? = nil, exponentialDelay: String? = nil,
                percentage: Percent? = nil
            ) {
                self.percent = percent
                self.fixedDelay = fixedDelay
                self.exponentialDelay = exponentialDelay
                self.percentage = percentage
            }
        }

        /// Abort requests with an error.
        public struct Abort: Codable, Sendable, Hashable {
            /// HTTP status returned, 200-599.
            public var httpStatus: Int32?
            /// gRPC status name returned, e.g. `UNAVAILABLE`.
            public var grpcStatus: String?
            /// Not supported by Istio yet.
            public var http2Error: String?
            /// Share of requests aborted. Without it nothing is aborted.
            public var percentage: Percent?

            public init(
                httpStatus: Int32? = nil, grpcStatus: String? = nil, http2Error: String? = nil,
                percentage: Percent? = nil
            ) {
                self.httpStatus = httpStatus
                self.grpcStatus = grpcStatus
                self.http2Error = http2Error
                self.percentage = percentage
            }
        }
    }

    /// A mirror destination with its own percentage.
    public struct HTTPMirrorPolicy: Codable, Sendable, Hashable {
        public var destination: Destination
        /// Share of traffic mirrored; 100 when unset.
        public var percentage: Percent?

        public init(destination: Destination, percentage: Percent? = nil) {
            self.destination = destination
            self.percentage = percentage
        }
    }

    public func validate(into context: inout ValidationContext) {
        VirtualServiceValidator(resource: self).validate(into: &context)
    }
}
