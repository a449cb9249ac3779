extension HTTPRoute {
    /// The kinds of ``Filter``; each needs its own configuration field.
    public enum FilterType: String, ManifestEnum {
        case RequestHeaderModifier, ResponseHeaderModifier, RequestMirror, RequestRedirect, URLRewrite, ExtensionRef, CORS
        /// Experimental.
        case ExternalAuth

        /// The ``Filter`` field that configures this type, e.g. `requestHeaderModifier`.
        public var configField: String {
            switch self {
            case .RequestHeaderModifier: return "requestHeaderModifier"
            case .ResponseHeaderModifier: return "responseHeaderModifier"
            case .RequestMirror: return "requestMirror"
            case .RequestRedirect: return "requestRedirect"
            case .URLRewrite: return "urlRewrite"
            case .ExtensionRef: return "extensionRef"
            case .CORS: return "cors"
            case .ExternalAuth: return "externalAuth"
            }
        }
    }

    /// `HTTPRouteFilter`: one processing step; ``type`` says which configuration field is set.
    public struct Filter: Codable, Sendable, Hashable {
        public var type: FilterType
        public var requestHeaderModifier: HeaderFilter?
        public var responseHeaderModifier: HeaderFilter?
        public var requestMirror: RequestMirror?
        public var requestRedirect: RequestRedirect?
        public var urlRewrite: URLRewrite?
        public var cors: CORS?
        public var externalAuth: ExternalAuth?
        /// An implementation-specific filter object in the route's namespace.
        public var extensionRef: GatewayAPI.LocalObjectReference?

        public init(
            type: FilterType, requestHeaderModifier: HeaderFilter? = nil, responseHeaderModifier: HeaderFilter? = nil,
            requestMirror: RequestMirror? = nil, requestRedirect: RequestRedirect? = nil, urlRewrite: URLRewrite? = nil,
            cors: CORS? = nil, externalAuth: ExternalAuth? = nil, extensionRef: GatewayAPI.LocalObjectReference? = nil
        ) {
            self.type = type
            self.requestHeaderModifier = requestHeaderModifier
            self.responseHeaderModifier = responseHeaderModifier
            self.requestMirror = requestMirror
            self.requestRedirect = requestRedirect
            self.urlRewrite = urlRewrite
            self.cors = cors
            self.externalAuth = externalAuth
            self.extensionRef = extensionRef
        }

        /// Which configuration fields are present, by field name, in the API's order.
        var presentConfigFields: [FilterType] {
            var present: [FilterType] = []
            if requestHeaderModifier != nil { present.append(.RequestHeaderModifier) }
            if responseHeaderModifier != nil { present.append(.ResponseHeaderModifier) }
            if requestMirror != nil { present.append(.RequestMirror) }
            if requestRedirect != nil { present.append(.RequestRedirect) }
            if urlRewrite != nil { present.append(.URLRewrite) }
            if cors != nil { present.append(.CORS) }
            if externalAuth != nil { present.append(.ExternalAuth) }
            if extensionRef != nil { present.append(.ExtensionRef) }
            return present
        }
    }

    /// `HTTPHeader`: a header name and value.
    public struct Header: Codable, Sendable, Hashable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// `HTTPHeaderFilter`: headers to overwrite, append and remove (at most 16 each).
    public struct HeaderFilter: Codable, Sendable, Hashable {
        public var set: [Header]?
        public var add: [Header]?
        public var remove: [String]?

        public init(set: [Header]? = nil, add: [Header]? = nil, remove: [String]? = nil) {
            self.set = set
            self.add = add
            self.remove = remove
        }
    }

    /// How a path is rewritten.
    public enum PathModifierType: String, ManifestEnum {
        case ReplaceFullPath, ReplacePrefixMatch
    }

    /// `HTTPPathModifier`.
    public struct PathModifier: Codable, Sendable, Hashable {
        public var type: PathModifierType
        public var replaceFullPath: String?
        /// Replaces the matched `PathPrefix`; needs exactly one `PathPrefix` match in the rule.
        public var replacePrefixMatch: String?

        public init(type: PathModifierType, replaceFullPath: String? = nil, replacePrefixMatch: String? = nil) {
            self.type = type
            self.replaceFullPath = replaceFullPath
            self.replacePrefixMatch = replacePrefixMatch
        }
    }

    /// A redirect's scheme.
    public enum Scheme: String, ManifestEnum {
        case http, https
    }

    /// `HTTPRequestRedirectFilter`: answers with a redirect instead of forwarding.
    public struct RequestRedirect: Codable, Sendable, Hashable {
        public var scheme: Scheme?
        public var hostname: String?
        public var path: PathModifier?
        public var port: Int?
        /// 301, 302 (default), 303, 307 or 308.
        public var statusCode: Int?

        public init(scheme: Scheme? = nil, hostname: String? = nil, path: PathModifier? = nil, port: Int? = nil, statusCode: Int? = nil) {
            self.scheme = scheme
            self.hostname = hostname
            self.path = path
            self.port = port
            self.statusCode = statusCode
        }
    }

    /// `HTTPURLRewriteFilter`: rewrites the host and path before forwarding.
    public struct URLRewrite: Codable, Sendable, Hashable {
        public var hostname: String?
        public var path: PathModifier?

        public init(hostname: String? = nil, path: PathModifier? = nil) {
            self.hostname = hostname
            self.path = path
        }
    }

    /// `HTTPRequestMirrorFilter`: copies requests to another backend, ignoring its responses.
    public struct RequestMirror: Codable, Sendable, Hashable {
        public var backendRef: GatewayAPI.BackendObjectReference
        /// 0-100 percent of requests (default all); exclusive with ``fraction``.
        public var percent: Int?
        public var fraction: GatewayAPI.Fraction?

        public init(backendRef: GatewayAPI.BackendObjectReference, percent: Int? = nil, fraction: GatewayAPI.Fraction? = nil) {
            self.backendRef = backendRef
            self.percent = percent
            self.fraction = fraction
        }
    }

    /// `HTTPCORSFilter`.
    public struct CORS: Codable, Sendable, Hashable {
        /// `*` or origins such as `https://example.com` (at most 64).
        public var allowOrigins: [String]?
        public var allowCredentials: Bool?
        /// Methods, or `*` (at most 9).
        public var allowMethods: [String]?
        public var allowHeaders: [String]?
        public var exposeHeaders: [String]?
        /// Seconds a preflight may be cached (default 5).
        public var maxAge: Int?

        public init(
            allowOrigins: [String]? = nil, allowCredentials: Bool? = nil, allowMethods: [String]? = nil,
            allowHeaders: [String]? = nil, exposeHeaders: [String]? = nil, maxAge: Int? = nil
        ) {
            self.allowOrigins = allowOrigins
            self.allowCredentials = allowCredentials
            self.allowMethods = allowMethods
            self.allowHeaders = allowHeaders
            self.exposeHeaders = exposeHeaders
            self.maxAge = maxAge
        }
    }

    /// The protocol of an external authorization service.
    public enum ExternalAuthProtocol: String, ManifestEnum {
        case HTTP, GRPC
    }

    /// `HTTPExternalAuthFilter` (experimental).
    public struct ExternalAuth: Codable, Sendable, Hashable {
        public var `protocol`: ExternalAuthProtocol
        public var backendRef: GatewayAPI.BackendObjectReference
        public var grpc: GRPCConfig?
        public var http: HTTPConfig?
        public var forwardBody: ForwardBody?

        /// `GRPCAuthConfig`.
        public struct GRPCConfig: Codable, Sendable, Hashable {
            public var allowedHeaders: [String]?

            public init(allowedHeaders: [String]? = nil) { self.allowedHeaders = allowedHeaders }
        }

        /// `HTTPAuthConfig`.
        public struct HTTPConfig: Codable, Sendable, Hashable {
            public var path: String?
            public var allowedHeaders: [String]?
            public var allowedResponseHeaders: [String]?

            public init(path: String? = nil, allowedHeaders: [String]? = nil, allowedResponseHeaders: [String]? = nil) {
                self.path = path
                self.allowedHeaders = allowedHeaders
                self.allowedResponseHeaders = allowedResponseHeaders
            }
        }

        /// `ForwardBodyConfig`.
        public struct ForwardBody: Codable, Sendable, Hashable {
            public var maxSize: Int?

            public init(maxSize: Int? = nil) { self.maxSize = maxSize }
        }

        public init(
            protocol: ExternalAuthProtocol, backendRef: GatewayAPI.BackendObjectReference, grpc: GRPCConfig? = nil,
            http: HTTPConfig? = nil, forwardBody: ForwardBody? = nil
        ) {
            self.protocol = `protocol`
            self.backendRef = backendRef
            self.grpc = grpc
            self.http = http
            self.forwardBody = forwardBody
        }
    }
}
