/// `gateway.networking.k8s.io` Gateway: listeners that accept traffic, deployed by the
/// controller of its GatewayClass. In ambient, a Gateway of class `istio-waypoint` is a
/// waypoint: an L7 proxy reached over HBONE on port 15008.
public struct Gateway: MeshResource {
    public static let apiGroup = "gateway.networking.k8s.io"
    public static let kind = "Gateway"
    public static let apiVersions = ["v1", "v1beta1"]

    /// The GatewayClass that declares a waypoint (Istio's mesh controller).
    public static let waypointClassName = "istio-waypoint"
    /// The GatewayClass of Istio's ambient east-west gateway.
    public static let eastWestClassName = "istio-east-west"
    /// GatewayClasses whose Gateways Istio programs itself.
    public static let istioClassNames: Set<String> = ["istio", "istio-waypoint", "istio-east-west", "istio-remote"]
    /// The protocol of a waypoint's listener.
    public static let hboneProtocol = "HBONE"
    /// The port of a waypoint's listener.
    public static let hbonePort = 15008

    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status?

    /// `GatewaySpec`.
    public struct Spec: Codable, Sendable, Hashable {
        /// The GatewayClass, e.g. `istio` (ingress) or `istio-waypoint` (waypoint).
        public var gatewayClassName: String
        /// 1-64 listeners.
        public var listeners: [Listener]
        /// Requested addresses (at most 16).
        public var addresses: [Address]?
        /// Labels, annotations and parameters for the resources the controller creates.
        public var infrastructure: Infrastructure?
        /// Which namespaces may attach ListenerSets.
        public var allowedListeners: AllowedListeners?
        /// Gateway-wide TLS settings.
        public var tls: GatewayTLS?
        /// Experimental: `All` or `None`.
        public var defaultScope: String?
        /// Experimental in v1.2-v1.3 (moved to ``tls``); accepted so that those manifests load.
        public var backendTLS: GatewayTLS.Backend?

        public init(
            gatewayClassName: String, listeners: [Listener], addresses: [Address]? = nil,
            infrastructure: Infrastructure? = nil, allowedListeners: AllowedListeners? = nil, tls: GatewayTLS? = nil,
            defaultScope: String? = nil, backendTLS: GatewayTLS.Backend? = nil
        ) {
            self.gatewayClassName = gatewayClassName
            self.listeners = listeners
            self.addresses = addresses
            self.infrastructure = infrastructure
            self.allowedListeners = allowedListeners
            self.tls = tls
            self.defaultScope = defaultScope
            self.backendTLS = backendTLS
        }
    }

    /// A logical endpoint of the Gateway: a port, a protocol and optionally a hostname.
    public struct Listener: Codable, Sendable, Hashable {
        /// Unique within the Gateway; routes pick it with `sectionName`.
        public var name: String
        /// Host the listener serves (`*.` wildcard allowed); absent means every host.
        public var hostname: String?
        public var port: Int
        /// `HTTP`, `HTTPS`, `TLS`, `TCP`, `UDP`, or an implementation's own such as Istio's `HBONE`.
        public var `protocol`: String
        public var tls: ListenerTLS?
        /// Which routes may attach; defaults to routes of the Gateway's namespace.
        public var allowedRoutes: AllowedRoutes?

        public init(
            name: String, hostname: String? = nil, port: Int, protocol: String, tls: ListenerTLS? = nil,
            allowedRoutes: AllowedRoutes? = nil
        ) {
            self.name = name
            self.hostname = hostname
            self.port = port
            self.protocol = `protocol`
            self.tls = tls
            self.allowedRoutes = allowedRoutes
        }
    }

    /// TLS handling of a listener.
    public enum TLSMode: String, ManifestEnum {
        case Terminate, Passthrough
    }

    /// `ListenerTLSConfig`.
    public struct ListenerTLS: Codable, Sendable, Hashable {
        /// Defaults to `Terminate`.
        public var mode: TLSMode?
        /// Certificates served when terminating (at most 64).
        public var certificateRefs: [GatewayAPI.SecretObjectReference]?
        /// Implementation-specific options (at most 16).
        public var options: [String: String]?
        /// Experimental in v1.2-v1.4 (moved to the Gateway's ``GatewayTLS``); accepted so that
        /// those manifests load.
        public var frontendValidation: FrontendValidation?

        public init(
            mode: TLSMode? = nil, certificateRefs: [GatewayAPI.SecretObjectReference]? = nil,
            options: [String: String]? = nil, frontendValidation: FrontendValidation? = nil
        ) {
            self.mode = mode
            self.certificateRefs = certificateRefs
            self.options = options
            self.frontendValidation = frontendValidation
        }
    }

    /// Client-certificate validation (`FrontendTLSValidation`).
    public struct FrontendValidation: Codable, Sendable, Hashable {
        public var caCertificateRefs: [GatewayAPI.ObjectReference]?
        /// `AllowValidOnly` (default) or `AllowInsecureFallback`.
        public var mode: String?

        public init(caCertificateRefs: [GatewayAPI.ObjectReference]? = nil, mode: String? = nil) {
            self.caCertificateRefs = caCertificateRefs
            self.mode = mode
        }
    }

    /// `AllowedRoutes`.
    public struct AllowedRoutes: Codable, Sendable, Hashable {
        public var namespaces: RouteNamespaces?
        /// Route kinds allowed (at most 8); defaults to those the protocol supports.
        public var kinds: [RouteGroupKind]?

        public init(namespaces: RouteNamespaces? = nil, kinds: [RouteGroupKind]? = nil) {
            self.namespaces = namespaces
            self.kinds = kinds
        }
    }

    /// Which namespaces may attach.
    public enum FromNamespaces: String, ManifestEnum {
        case All, Selector, Same, None
    }

    /// `RouteNamespaces` / `ListenerNamespaces`.
    public struct RouteNamespaces: Codable, Sendable, Hashable {
        /// `Same` by default for routes, `None` for listener sets.
        public var from: FromNamespaces?
        /// The namespaces' labels, with `from: Selector`.
        public var selector: Kubernetes.LabelSelector?

        public init(from: FromNamespaces? = nil, selector: Kubernetes.LabelSelector? = nil) {
            self.from = from
            self.selector = selector
        }
    }

    /// `RouteGroupKind`.
    public struct RouteGroupKind: Codable, Sendable, Hashable {
        /// Defaults to `gateway.networking.k8s.io`.
        public var group: String?
        public var kind: String

        public init(group: String? = nil, kind: String) {
            self.group = group
            self.kind = kind
        }
    }

    /// `GatewaySpecAddress` / `GatewayStatusAddress`.
    public struct Address: Codable, Sendable, Hashable {
        /// `IPAddress` (default), `Hostname`, `NamedAddress`, or `domain/name`.
        public var type: String?
        public var value: String?

        public init(type: String? = nil, value: String? = nil) {
            self.type = type
            self.value = value
        }
    }

    /// `GatewayInfrastructure`.
    public struct Infrastructure: Codable, Sendable, Hashable {
        /// Added to the generated resources (at most 8).
        public var labels: [String: String]?
        /// Added to the generated resources (at most 16).
        public var annotations: [String: String]?
        public var parametersRef: ParametersReference?

        /// `LocalParametersReference`.
        public struct ParametersReference: Codable, Sendable, Hashable {
            public var group: String
            public var kind: String
            public var name: String

            public init(group: String, kind: String, name: String) {
                self.group = group
                self.kind = kind
                self.name = name
            }
        }

        public init(labels: [String: String]? = nil, annotations: [String: String]? = nil, parametersRef: ParametersReference? = nil) {
            self.labels = labels
            self.annotations = annotations
            self.parametersRef = parametersRef
        }
    }

    /// `AllowedListeners`.
    public struct AllowedListeners: Codable, Sendable, Hashable {
        public var namespaces: RouteNamespaces?

        public init(namespaces: RouteNamespaces? = nil) { self.namespaces = namespaces }
    }

    /// `GatewayTLSConfig`.
    public struct GatewayTLS: Codable, Sendable, Hashable {
        public var backend: Backend?
        public var frontend: Frontend?

        /// `GatewayBackendTLS`: the client certificate the Gateway presents to backends.
        public struct Backend: Codable, Sendable, Hashable {
            public var clientCertificateRef: GatewayAPI.SecretObjectReference?

            public init(clientCertificateRef: GatewayAPI.SecretObjectReference? = nil) {
                self.clientCertificateRef = clientCertificateRef
            }
        }

        /// `FrontendTLSConfig`: client-certificate validation, by default and per port.
        public struct Frontend: Codable, Sendable, Hashable {
            public var `default`: Config
            public var perPort: [PerPort]?

            /// `TLSConfig`.
            public struct Config: Codable, Sendable, Hashable {
                public var validation: FrontendValidation?

                public init(validation: FrontendValidation? = nil) { self.validation = validation }
            }

            /// `TLSPortConfig`.
            public struct PerPort: Codable, Sendable, Hashable {
                public var port: Int
                public var tls: Config

                public init(port: Int, tls: Config) {
                    self.port = port
                    self.tls = tls
                }
            }

            public init(default: Config, perPort: [PerPort]? = nil) {
                self.default = `default`
                self.perPort = perPort
            }
        }

        public init(backend: Backend? = nil, frontend: Frontend? = nil) {
            self.backend = backend
            self.frontend = frontend
        }
    }

    /// `GatewayStatus`. Istio reads `addresses` to find a waypoint's address.
    public struct Status: Codable, Sendable, Hashable {
        public var addresses: [Address]?
        public var conditions: [Kubernetes.Condition]?
        public var listeners: [ListenerStatus]?
        public var attachedListenerSets: Int?

        public init(
            addresses: [Address]? = nil, conditions: [Kubernetes.Condition]? = nil, listeners: [ListenerStatus]? = nil,
            attachedListenerSets: Int? = nil
        ) {
            self.addresses = addresses
            self.conditions = conditions
            self.listeners = listeners
            self.attachedListenerSets = attachedListenerSets
        }
    }

    /// `ListenerStatus`.
    public struct ListenerStatus: Codable, Sendable, Hashable {
        public var name: String
        public var supportedKinds: [RouteGroupKind]?
        public var attachedRoutes: Int
        public var conditions: [Kubernetes.Condition]?

        public init(name: String, supportedKinds: [RouteGroupKind]? = nil, attachedRoutes: Int, conditions: [Kubernetes.Condition]? = nil) {
            self.name = name
            self.supportedKinds = supportedKinds
            self.attachedRoutes = attachedRoutes
            self.conditions = conditions
        }
    }

    public init(
        apiVersion: String = "gateway.networking.k8s.io/v1", kind: String = "Gateway", metadata: ObjectMeta = ObjectMeta(),
        spec: Spec, status: Status? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    // MARK: What the mesh reads

    /// Whether this Gateway declares a waypoint (`gatewayClassName: istio-waypoint`).
    public var isWaypoint: Bool { spec.gatewayClassName == Gateway.waypointClassName }

    /// The traffic a waypoint handles, from its `istio.io/waypoint-for` label: `service` when
    /// the label is absent (Istio's default; a label on the GatewayClass, not visible here,
    /// may change it), nil when the label holds a value Istio does not know (Istio then sends
    /// the waypoint no traffic).
    public var waypointFor: WaypointTrafficType? {
        guard let value = metadata.label(MeshLabels.waypointFor) else { return .service }
        return WaypointTrafficType(rawValue: value)
    }

    /// The HBONE listener (`protocol: HBONE`), the one a waypoint is reached through.
    public var hboneListener: Listener? { spec.listeners.first { $0.protocol == Gateway.hboneProtocol } }

    /// The listener with this name, if any.
    public func listener(named name: String) -> Listener? { spec.listeners.first { $0.name == name } }
}
