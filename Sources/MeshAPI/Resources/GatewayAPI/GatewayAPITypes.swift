import Foundation

/// Types shared by the Gateway API resources (`gateway.networking.k8s.io`,
/// kubernetes-sigs/gateway-api `apis/v1/shared_types.go`, `object_reference_types.go`).
public enum GatewayAPI {
    /// The API group of the Gateway API.
    public static let group = "gateway.networking.k8s.io"

    /// A route's attachment point (`ParentReference`): a Gateway (default), or for mesh
    /// (GAMMA) routes a Service, optionally narrowed to one listener (`sectionName`) or port.
    public struct ParentReference: Codable, Sendable, Hashable {
        /// Defaults to `gateway.networking.k8s.io`; `""` for a core Service.
        public var group: String?
        /// Defaults to `Gateway`.
        public var kind: String?
        /// Defaults to the route's namespace.
        public var namespace: String?
        public var name: String
        /// A listener name of a Gateway, or a port name of a Service.
        public var sectionName: String?
        public var port: Int?

        public init(
            group: String? = nil, kind: String? = nil, namespace: String? = nil, name: String,
            sectionName: String? = nil, port: Int? = nil
        ) {
            self.group = group
            self.kind = kind
            self.namespace = namespace
            self.name = name
            self.sectionName = sectionName
            self.port = port
        }

        /// ``group`` with its default applied.
        public var effectiveGroup: String { group ?? GatewayAPI.group }
        /// ``kind`` with its default applied.
        public var effectiveKind: String { kind ?? "Gateway" }
        /// Whether the parent is a core Service (a mesh, GAMMA, route).
        public var isService: Bool { effectiveGroup.isEmpty && effectiveKind == "Service" }
    }

    /// A reference to a backend (`BackendObjectReference`): a Service (default) or another
    /// kind such as Istio's `ServiceEntry` (`networking.istio.io`) or `Hostname`.
    public struct BackendObjectReference: Codable, Sendable, Hashable {
        /// Defaults to `""` (core).
        public var group: String?
        /// Defaults to `Service`.
        public var kind: String?
        public var name: String
        public var namespace: String?
        /// Required for a Service.
        public var port: Int?

        public init(group: String? = nil, kind: String? = nil, name: String, namespace: String? = nil, port: Int? = nil) {
            self.group = group
            self.kind = kind
            self.name = name
            self.namespace = namespace
            self.port = port
        }

        /// ``group`` with its default applied.
        public var effectiveGroup: String { group ?? "" }
        /// ``kind`` with its default applied.
        public var effectiveKind: String { kind ?? "Service" }
    }

    /// A reference to an object in the route's namespace (`LocalObjectReference`), used by
    /// `ExtensionRef` filters.
    public struct LocalObjectReference: Codable, Sendable, Hashable {
        public var group: String
        public var kind: String
        public var name: String

        public init(group: String, kind: String, name: String) {
            self.group = group
            self.kind = kind
            self.name = name
        }
    }

    /// A reference to a certificate Secret (`SecretObjectReference`).
    public struct SecretObjectReference: Codable, Sendable, Hashable {
        /// Defaults to `""` (core).
        public var group: String?
        /// Defaults to `Secret`.
        public var kind: String?
        public var name: String
        public var namespace: String?

        public init(group: String? = nil, kind: String? = nil, name: String, namespace: String? = nil) {
            self.group = group
            self.kind = kind
            self.name = name
            self.namespace = namespace
        }
    }

    /// A reference to an object of any kind (`ObjectReference`), e.g. a CA ConfigMap.
    public struct ObjectReference: Codable, Sendable, Hashable {
        public var group: String
        public var kind: String
        public var name: String
        public var namespace: String?

        public init(group: String, kind: String, name: String, namespace: String? = nil) {
            self.group = group
            self.kind = kind
            self.name = name
            self.namespace = namespace
        }
    }

    /// A fraction `numerator/denominator` (denominator defaults to 100).
    public struct Fraction: Codable, Sendable, Hashable {
        public var numerator: Int
        public var denominator: Int?

        public init(numerator: Int, denominator: Int? = nil) {
            self.numerator = numerator
            self.denominator = denominator
        }
    }

    /// Session persistence of a route rule (experimental). Holds the fields of every released
    /// version (`sessionName`, `idleTimeout` and `cookieConfig` of v1.1-v1.4; `cookie` and
    /// `header` since).
    public struct SessionPersistence: Codable, Sendable, Hashable {
        /// `Cookie` (default) or `Header`.
        public enum PersistenceType: String, ManifestEnum {
            case Cookie, Header
        }

        /// `Session` (default) or `Permanent`.
        public enum LifetimeType: String, ManifestEnum {
            case Session, Permanent
        }

        /// Cookie settings (`CookieConfig`).
        public struct Cookie: Codable, Sendable, Hashable {
            public var name: String?
            public var path: String?
            public var lifetimeType: LifetimeType?

            public init(name: String? = nil, path: String? = nil, lifetimeType: LifetimeType? = nil) {
                self.name = name
                self.path = path
                self.lifetimeType = lifetimeType
            }
        }

        /// Header settings (`HeaderConfig`).
        public struct Header: Codable, Sendable, Hashable {
            public var name: String

            public init(name: String) { self.name = name }
        }

        public var sessionName: String?
        public var absoluteTimeout: String?
        public var idleTimeout: String?
        public var type: PersistenceType?
        public var cookieConfig: Cookie?
        public var cookie: Cookie?
        public var header: Header?

        public init(
            sessionName: String? = nil, absoluteTimeout: String? = nil, idleTimeout: String? = nil,
            type: PersistenceType? = nil, cookieConfig: Cookie? = nil, cookie: Cookie? = nil, header: Header? = nil
        ) {
            self.sessionName = sessionName
            self.absoluteTimeout = absoluteTimeout
            self.idleTimeout = idleTimeout
            self.type = type
            self.cookieConfig = cookieConfig
            self.cookie = cookie
            self.header = header
        }
    }

    /// A route's status at one parent (`RouteParentStatus`).
    public struct RouteParentStatus: Codable, Sendable, Hashable {
        public var parentRef: ParentReference
        public var controllerName: String
        public var conditions: [Kubernetes.Condition]?

        public init(parentRef: ParentReference, controllerName: String, conditions: [Kubernetes.Condition]? = nil) {
            self.parentRef = parentRef
            self.controllerName = controllerName
            self.conditions = conditions
        }
    }

    /// A route's status (`RouteStatus`): one entry per parent it tried to attach to.
    public struct RouteStatus: Codable, Sendable, Hashable {
        public var parents: [RouteParentStatus]?

        public init(parents: [RouteParentStatus]? = nil) { self.parents = parents }
    }

    // MARK: Validation shared by the resources

    /// `Group`: empty or a lowercase DNS subdomain.
    static func validateGroup(_ group: String?, at path: FieldPath, into context: inout ValidationContext) {
        guard let group, !group.isEmpty, !Rules.isDNS1123Subdomain(group) else { return }
        context.error(path, "group \"\(group)\" must be empty (core) or a lowercase DNS subdomain such as gateway.networking.k8s.io")
    }

    /// `Kind`: a letter, then letters, digits and '-', at most 63 characters.
    static func validateKind(_ kind: String?, at path: FieldPath, into context: inout ValidationContext) {
        guard let kind else { return }
        let bytes = Array(kind.utf8)
        func letter(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) }
        func alnum(_ b: UInt8) -> Bool { letter(b) || (b >= 0x30 && b <= 0x39) }
        let valid = !bytes.isEmpty && bytes.count <= 63 && letter(bytes[0]) && alnum(bytes[bytes.count - 1])
            && bytes.allSatisfy { alnum($0) || $0 == 0x2D }
        if !valid {
            context.error(path, "kind \"\(kind)\" must start with a letter and hold letters, digits and '-' (at most 63), e.g. Service")
        }
    }

    /// `Namespace`: a lowercase RFC 1123 label.
    static func validateNamespace(_ namespace: String?, at path: FieldPath, into context: inout ValidationContext) {
        guard let namespace, !Rules.isDNS1123Label(namespace) else { return }
        context.error(path, "namespace \"\(namespace)\" must be a lowercase RFC 1123 label: letters, digits and '-', at most 63 characters")
    }

    /// `ObjectName`: 1-253 characters.
    static func validateName(_ name: String, at path: FieldPath, into context: inout ValidationContext) {
        if name.isEmpty || name.utf8.count > 253 {
            context.error(path, "name must be 1-253 characters")
        }
    }

    /// `SectionName`: a lowercase DNS subdomain (a listener or port name).
    static func sectionNameProblem(_ name: String) -> String? {
        Rules.isDNS1123Subdomain(name)
            ? nil
            : "section name \"\(name)\" must be lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (e.g. http, mesh)"
    }

    /// A port number of a reference: 1-65535.
    static func validatePort(_ port: Int?, at path: FieldPath, into context: inout ValidationContext) {
        guard let port, let problem = KubernetesRules.rangeProblem(port, 1...65535, "port") else { return }
        context.error(path, problem)
    }

    static func validate(_ ref: ParentReference, at path: FieldPath, into context: inout ValidationContext) {
        validateGroup(ref.group, at: path("group"), into: &context)
        validateKind(ref.kind, at: path("kind"), into: &context)
        validateNamespace(ref.namespace, at: path("namespace"), into: &context)
        validateName(ref.name, at: path("name"), into: &context)
        if let section = ref.sectionName, let problem = sectionNameProblem(section) {
            context.error(path("sectionName"), problem)
        }
        validatePort(ref.port, at: path("port"), into: &context)
    }

    static func validate(_ ref: BackendObjectReference, at path: FieldPath, into context: inout ValidationContext) {
        validateGroup(ref.group, at: path("group"), into: &context)
        validateKind(ref.kind, at: path("kind"), into: &context)
        validateName(ref.name, at: path("name"), into: &context)
        validateNamespace(ref.namespace, at: path("namespace"), into: &context)
        validatePort(ref.port, at: path("port"), into: &context)
        if ref.effectiveGroup.isEmpty && ref.effectiveKind == "Service" && ref.port == nil {
            context.error(path("port"), "required: a reference to a Service needs the Service port, e.g. port: 9080")
        }
    }

    static func validate(_ ref: SecretObjectReference, at path: FieldPath, into context: inout ValidationContext) {
        validateGroup(ref.group, at: path("group"), into: &context)
        validateKind(ref.kind, at: path("kind"), into: &context)
        validateName(ref.name, at: path("name"), into: &context)
        validateNamespace(ref.namespace, at: path("namespace"), into: &context)
    }

    /// Checks a Gateway API duration field.
    static func validateDuration(_ text: String?, at path: FieldPath, into context: inout ValidationContext) {
        guard let text, KubernetesRules.parseGatewayDuration(text) == nil else { return }
        context.error(path, KubernetesRules.gatewayDurationMessage(text))
    }

    static func validate(_ persistence: SessionPersistence, at path: FieldPath, into context: inout ValidationContext) {
        validateDuration(persistence.absoluteTimeout, at: path("absoluteTimeout"), into: &context)
        validateDuration(persistence.idleTimeout, at: path("idleTimeout"), into: &context)
        let type = persistence.type ?? .Cookie
        if persistence.cookie != nil && type != .Cookie {
            context.error(path("cookie"), "cookie must be unset unless type is Cookie")
        }
        if persistence.header != nil && type != .Header {
            context.error(path("header"), "header must be unset unless type is Header")
        }
        if type == .Header && persistence.header == nil {
            context.error(path("header"), "required when type is Header: the header that carries the session, e.g. {name: x-session}")
        }
        for (key, cookie) in [("cookieConfig", persistence.cookieConfig), ("cookie", persistence.cookie)] {
            guard let cookie else { continue }
            if let name = cookie.name, let problem = KubernetesRules.headerNameProblem(name) {
                context.error(path(key)("name"), problem.replacingOccurrences(of: "header name", with: "cookie name"))
            }
            if cookie.lifetimeType == .Permanent && persistence.absoluteTimeout == nil {
                context.error(path("absoluteTimeout"), "required when the cookie lifetimeType is Permanent: how long the cookie lives, e.g. 1h")
            }
        }
        if let header = persistence.header, let problem = KubernetesRules.headerNameProblem(header.name) {
            context.error(path("header")("name"), problem)
        }
    }
}
