/// `networking.istio.io` DestinationRule: policies applied to traffic for a service after
/// routing (load balancing, connection pools, outlier detection, TLS) and its subsets.
///
/// Field names and meaning follow `istio/api:networking/v1alpha3/destination_rule.proto`
/// (served as `v1`, `v1beta1` and `v1alpha3`).
public struct DestinationRule: MeshResource {
    public static let apiGroup = "networking.istio.io"
    public static let kind = "DestinationRule"
    public static let apiVersions = ["v1", "v1beta1", "v1alpha3"]

    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: JSONValue?

    public init(
        apiVersion: String = "networking.istio.io/v1", kind: String = DestinationRule.kind,
        metadata: ObjectMeta, spec: Spec, status: JSONValue? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// The body of a DestinationRule.
    public struct Spec: Codable, Sendable, Hashable {
        /// The service the rule applies to: a short name (resolved in the rule's namespace) or
        /// an FQDN, optionally `*.`-wildcarded. Required.
        public var host: String
        /// Policies for all traffic to the host.
        public var trafficPolicy: TrafficPolicy?
        /// Named groups of endpoints (by labels), each optionally with its own policy.
        public var subsets: [Subset]?
        /// Namespaces that see this rule: `.`, `*` or namespace names.
        public var exportTo: [String]?
        /// Applies the rule only to these workloads (same namespace).
        public var workloadSelector: WorkloadSelector?

        public init(
            host: String, trafficPolicy: TrafficPolicy? = nil, subsets: [Subset]? = nil, exportTo: [String]? = nil,
            workloadSelector: WorkloadSelector? = nil
        ) {
            self.host = host
            self.trafficPolicy = trafficPolicy
            self.subsets = subsets
            self.exportTo = exportTo
            self.workloadSelector = workloadSelector
        }
    }

    /// Selects workloads by labels (`matchLabels`).
    public struct WorkloadSelector: Codable, Sendable, Hashable {
        public var matchLabels: [String: String]?
        public init(matchLabels: [String: String]? = nil) { self.matchLabels = matchLabels }
    }

    /// Selects a port by number.
    public typealias PortSelector = VirtualService.PortSelector

    /// Traffic policies for a host, a subset, or a port.
    public struct TrafficPolicy: Codable, Sendable, Hashable {
        public var loadBalancer: LoadBalancerSettings?
        public var connectionPool: ConnectionPoolSettings?
        public var outlierDetection: OutlierDetection?
        public var tls: ClientTLSSettings?
        /// Per-port policies; each replaces (not merges with) the policy above for that port.
        public var portLevelSettings: [PortTrafficPolicy]?
        /// Tunnel TCP/TLS traffic through an HTTP CONNECT or POST proxy.
        public var tunnel: TunnelSettings?
        /// Send a PROXY protocol header to the upstream.
        public var proxyProtocol: ProxyProtocol?
        /// Limit retries to a share of active requests.
        public var retryBudget: RetryBudget?

        public init(
            loadBalancer: LoadBalancerSettings? = nil, connectionPool: ConnectionPoolSettings? = nil,
            outlierDetection: OutlierDetection? = nil, tls: ClientTLSSettings? = nil,
            portLevelSettings: [PortTrafficPolicy]? = nil, tunnel: TunnelSettings? = nil,
            proxyProtocol: ProxyProtocol? = nil, retryBudget: RetryBudget? = nil
        ) {
            self.loadBalancer = loadBalancer
            self.connectionPool = connectionPool
            self.outlierDetection = outlierDetection
            self.tls = tls
            self.portLevelSettings = portLevelSettings
            self.tunnel = tunnel
            self.proxyProtocol = proxyProtocol
            self.retryBudget = retryBudget
        }

        /// A policy for one port.
        public struct PortTrafficPolicy: Codable, Sendable, Hashable {
            public var port: PortSelector?
            public var loadBalancer: LoadBalancerSettings?
            public var connectionPool: ConnectionPoolSettings?
            public var outlierDetection: OutlierDetection?
            public var tls: ClientTLSSettings?

            public init(
                port: PortSelector? = nil, loadBalancer: LoadBalancerSettings? = nil,
                connectionPool: ConnectionPoolSettings? = nil, outlierDetection: OutlierDetection? = nil,
                tls: ClientTLSSettings? = nil
            ) {
                self.port = port
                self.loadBalancer = loadBalancer
                self.connectionPool = connectionPool
                self.outlierDetection = outlierDetection
                self.tls = tls
            }
        }

        /// Tunnel settings (TCP and TLS traffic only).
        public struct TunnelSettings: Codable, Sendable, Hashable {
            /// `CONNECT` (default) or `POST`.
            public var `protocol`: String?
            /// The host the tunnel proxy connects to. Required.
            public var targetHost: String
            /// The port the tunnel proxy connects to. Required.
            public var targetPort: UInt32

            public init(protocol: String? = nil, targetHost: String, targetPort: UInt32) {
                self.protocol = `protocol`
                self.targetHost = targetHost
                self.targetPort = targetPort
            }
        }

        /// PROXY protocol settings.
        public struct ProxyProtocol: Codable, Sendable, Hashable {
            public var version: Version?
            public init(version: Version? = nil) { self.version = version }

            /// PROXY protocol version.
            public enum Version: String, ManifestEnum { case V1, V2 }
        }

        /// Retry budget.
        public struct RetryBudget: Codable, Sendable, Hashable {
            /// Share of active requests that may be retries (20% by default).
            public var percent: Double?
            /// Retries always allowed regardless of the budget (3 by default).
            public var minRetryConcurrency: UInt32?
            /// Window over which active requests are counted.
            public var budgetInterval: String?

            public init(percent: Double? = nil, minRetryConcurrency: UInt32? = nil, budgetInterval: String? = nil) {
                self.percent = percent
                self.minRetryConcurrency = minRetryConcurrency
                self.budgetInterval = budgetInterval
            }
        }
    }

    /// A named group of the host's endpoints.
    public struct Subset: Codable, Sendable, Hashable {
        /// The name routes refer to (`destination.subset`). Required.
        public var name: String
        /// Endpoint labels selecting the subset's members.
        public var labels: [String: String]?
        /// Overrides of the rule-level policy for this subset.
        public var trafficPolicy: TrafficPolicy?

        public init(name: String, labels: [String: String]? = nil, trafficPolicy: TrafficPolicy? = nil) {
            self.name = name
            self.labels = labels
            self.trafficPolicy = trafficPolicy
        }
    }

    /// Load balancing: a simple algorithm or consistent hashing.
    public struct LoadBalancerSettings: Codable, Sendable, Hashable {
        /// Istio's default is LEAST_REQUEST.
        public var simple: SimpleLB?
        public var consistentHash: ConsistentHashLB?
        public var localityLbSetting: LocalityLoadBalancerSetting?
        public var zoneAwareLbSetting: ZoneAwareLoadBalancerSetting?
        /// Slow start window for new endpoints (ROUND_ROBIN and LEAST_REQUEST only).
        public var warmupDurationSecs: String?
        public var warmup: WarmupConfiguration?

        public init(
            simple: SimpleLB? = nil, consistentHash: ConsistentHashLB? = nil,
            localityLbSetting: LocalityLoadBalancerSetting? = nil,
            zoneAwareLbSetting: ZoneAwareLoadBalancerSetting? = nil, warmupDurationSecs: String? = nil,
            warmup: WarmupConfiguration? = nil
        ) {
            self.simple = simple
            self.consistentHash = consistentHash
            self.localityLbSetting = localityLbSetting
            self.zoneAwareLbSetting = zoneAwareLbSetting
            self.warmupDurationSecs = warmupDurationSecs
            self.warmup = warmup
        }

        /// Simple load-balancing algorithms.
        public enum SimpleLB: String, ManifestEnum {
            case UNSPECIFIED
            /// Deprecated: use LEAST_REQUEST.
            case LEAST_CONN
            case RANDOM
            /// Forward to the address the caller asked for.
            case PASSTHROUGH
            case ROUND_ROBIN
            case LEAST_REQUEST
        }

        /// Consistent hashing (sticky sessions) by header, cookie, source IP or query parameter.
        public struct ConsistentHashLB: Codable, Sendable, Hashable {
            public var httpHeaderName: String?
            public var httpCookie: HTTPCookie?
            public var useSourceIp: Bool?
            public var httpQueryParameterName: String?
            public var ringHash: RingHash?
            public var maglev: MagLev?
            /// Deprecated: use `ringHash.minimumRingSize`.
            public var minimumRingSize: UInt64?

            public init(
                httpHeaderName: String? = nil, httpCookie: HTTPCookie? = nil, useSourceIp: Bool? = nil,
                httpQueryParameterName: String? = nil, ringHash: RingHash? = nil, maglev: MagLev? = nil,
                minimumRingSize: UInt64? = nil
            ) {
                self.httpHeaderName = httpHeaderName
                self.httpCookie = httpCookie
                self.useSourceIp = useSourceIp
                self.httpQueryParameterName = httpQueryParameterName
                self.ringHash = ringHash
                self.maglev = maglev
                self.minimumRingSize = minimumRingSize
            }

            /// Ring hash (the default algorithm).
            public struct RingHash: Codable, Sendable, Hashable {
                /// 1024 by default.
                public var minimumRingSize: UInt64?
                public init(minimumRingSize: UInt64? = nil) { self.minimumRingSize = minimumRingSize }
            }

            /// Maglev hashing.
            public struct MagLev: Codable, Sendable, Hashable {
                /// A prime below 5000011; 65537 by default.
                public var tableSize: UInt64?
                public init(tableSize: UInt64? = nil) { self.tableSize = tableSize }
            }

            /// Hash on a cookie, generated when `ttl` is set.
            public struct HTTPCookie: Codable, Sendable, Hashable {
                /// Required.
                public var name: String
                public var path: String?
                public var ttl: String?
                public var attributes: [Attribute]?

                public init(name: String, path: String? = nil, ttl: String? = nil, attributes: [Attribute]? = nil) {
                    self.name = name
                    self.path = path
                    self.ttl = ttl
                    self.attributes = attributes
                }

                /// An attribute of a generated cookie, e.g. `SameSite=Strict`.
                public struct Attribute: Codable, Sendable, Hashable {
                    /// Required.
                    public var name: String
                    public var value: String?
                    public init(name: String, value: String? = nil) {
                        self.name = name
                        self.value = value
                    }
                }
            }
        }
    }

    /// Slow-start settings for new endpoints.
    public struct WarmupConfiguration: Codable, Sendable, Hashable {
        /// Required.
        public var duration: String
        /// Starting share of traffic, 0-100 (10 by default).
        public var minimumPercent: Double?
        /// How fast traffic ramps up (1.0 = linear).
        public var aggression: Double?

        public init(duration: String, minimumPercent: Double? = nil, aggression: Double? = nil) {
            self.duration = duration
            self.minimumPercent = minimumPercent
            self.aggression = aggression
        }
    }

    /// Locality-weighted load balancing.
    public struct LocalityLoadBalancerSetting: Codable, Sendable, Hashable {
        public var distribute: [Distribute]?
        public var failover: [Failover]?
        /// Labels ordering endpoints for failover.
        public var failoverPriority: [String]?
        public var enabled: Bool?

        public init(
            distribute: [Distribute]? = nil, failover: [Failover]? = nil, failoverPriority: [String]? = nil,
            enabled: Bool? = nil
        ) {
            self.distribute = distribute
            self.failover = failover
            self.failoverPriority = failoverPriority
            self.enabled = enabled
        }

        /// Traffic from a locality (`region/zone/subzone`, `*` allowed at the end) split
        /// across localities by weight (summing to 100).
        public struct Distribute: Codable, Sendable, Hashable {
            public var from: String?
            public var to: [String: UInt32]?
            public init(from: String? = nil, to: [String: UInt32]? = nil) {
                self.from = from
                self.to = to
            }
        }

        /// Failover from one region to another.
        public struct Failover: Codable, Sendable, Hashable {
            public var from: String?
            public var to: String?
            public init(from: String? = nil, to: String? = nil) {
                self.from = from
                self.to = to
            }
        }
    }

    /// Envoy zone-aware routing.
    public struct ZoneAwareLoadBalancerSetting: Codable, Sendable, Hashable {
        public var enabled: Bool?
        public var failover: [LocalityLoadBalancerSetting.Failover]?
        public var failoverPriority: [String]?
        public var minClusterSize: UInt64?

        public init(
            enabled: Bool? = nil, failover: [LocalityLoadBalancerSetting.Failover]? = nil,
            failoverPriority: [String]? = nil, minClusterSize: UInt64? = nil
        ) {
            self.enabled = enabled
            self.failover = failover
            self.failoverPriority = failoverPriority
            self.minClusterSize = minClusterSize
        }
    }

    /// Connection limits for TCP and HTTP.
    public struct ConnectionPoolSettings: Codable, Sendable, Hashable {
        public var tcp: TCPSettings?
        public var http: HTTPSettings?

        public init(tcp: TCPSettings? = nil, http: HTTPSettings? = nil) {
            self.tcp = tcp
            self.http = http
        }

        /// TCP connection settings.
        public struct TCPSettings: Codable, Sendable, Hashable {
            public var maxConnections: Int32?
            /// 10s by default.
            public var connectTimeout: String?
            public var tcpKeepalive: TcpKeepalive?
            public var maxConnectionDuration: String?
            /// 1h by default; 0s disables.
            public var idleTimeout: String?

            public init(
                maxConnections: Int32? = nil, connectTimeout: String? = nil, tcpKeepalive: TcpKeepalive? = nil,
                maxConnectionDuration: String? = nil, idleTimeout: String? = nil
            ) {
                self.maxConnections = maxConnections
                self.connectTimeout = connectTimeout
                self.tcpKeepalive = tcpKeepalive
                self.maxConnectionDuration = maxConnectionDuration
                self.idleTimeout = idleTimeout
            }

            /// SO_KEEPALIVE settings.
            public struct TcpKeepalive: Codable, Sendable, Hashable {
                public var probes: UInt32?
                public var time: String?
                public var interval: String?
                public init(probes: UInt32? = nil, time: String? = nil, interval: String? = nil) {
                    self.probes = probes
                    self.time = time
                    self.interval = interval
                }
            }
        }

        /// HTTP connection settings.
        public struct HTTPSettings: Codable, Sendable, Hashable {
            public var http1MaxPendingRequests: Int32?
            public var http2MaxRequests: Int32?
            /// 0 = unlimited; 1 disables keep-alive.
            public var maxRequestsPerConnection: Int32?
            public var maxRetries: Int32?
            public var idleTimeout: String?
            public var h2UpgradePolicy: H2UpgradePolicy?
            public var useClientProtocol: Bool?
            public var maxConcurrentStreams: Int32?
            public var http2KeepAlive: ConnectionKeepalive?

            public init(
                http1MaxPendingRequests: Int32? = nil, http2MaxRequests: Int32? = nil,
                maxRequestsPerConnection: Int32? = nil, maxRetries: Int32? = nil, idleTimeout: String? = nil,
                h2UpgradePolicy: H2UpgradePolicy? = nil, useClientProtocol: Bool? = nil,
                maxConcurrentStreams: Int32? = nil, http2KeepAlive: ConnectionKeepalive? = nil
            ) {
                self.http1MaxPendingRequests = http1MaxPendingRequests
                self.http2MaxRequests = http2MaxRequests
                self.maxRequestsPerConnection = maxRequestsPerConnection
                self.maxRetries = maxRetries
                self.idleTimeout = idleTimeout
                self.h2UpgradePolicy = h2UpgradePolicy
                self.useClientProtocol = useClientProtocol
                self.maxConcurrentStreams = maxConcurrentStreams
                self.http2KeepAlive = http2KeepAlive
            }

            /// Whether HTTP/1.1 connections are upgraded to HTTP/2.
            public enum H2UpgradePolicy: String, ManifestEnum { case DEFAULT, DO_NOT_UPGRADE, UPGRADE }

            /// HTTP/2 keep-alive pings.
            public struct ConnectionKeepalive: Codable, Sendable, Hashable {
                public var interval: String?
                public var timeout: String?
                public init(interval: String? = nil, timeout: String? = nil) {
                    self.interval = interval
                    self.timeout = timeout
                }
            }
        }
    }

    /// Ejection of failing endpoints from the pool.
    public struct OutlierDetection: Codable, Sendable, Hashable {
        /// Deprecated: use consecutiveGatewayErrors or consecutive5xxErrors.
        public var consecutiveErrors: Int32?
        public var splitExternalLocalOriginErrors: Bool?
        public var consecutiveLocalOriginFailures: UInt32?
        /// 502, 503 and 504 in a row before ejection (off by default).
        public var consecutiveGatewayErrors: UInt32?
        /// 5xx responses in a row before ejection (5 by default; 0 disables).
        public var consecutive5xxErrors: UInt32?
        /// Time between analysis sweeps (10s by default).
        public var interval: String?
        /// Minimum ejection time, multiplied by the number of ejections (30s by default).
        public var baseEjectionTime: String?
        /// Maximum share of endpoints ejected, 0-100 (10 by default).
        public var maxEjectionPercent: Int32?
        /// Panic threshold, 0-100 (0 by default: panic mode off).
        public var minHealthPercent: Int32?
        /// Status codes counted as errors, 100-599.
        public var outlierDetectionHttpErrorCodes: [UInt32]?

        public init(
            consecutiveErrors: Int32? = nil, splitExternalLocalOriginErrors: Bool? = nil,
            consecutiveLocalOriginFailures: UInt32? = nil, consecutiveGatewayErrors: UInt32? = nil,
            consecutive5xxErrors: UInt32? = nil, interval: String? = nil, baseEjectionTime: String? = nil,
            maxEjectionPercent: Int32? = nil, minHealthPercent: Int32? = nil,
            outlierDetectionHttpErrorCodes: [UInt32]? = nil
        ) {
            self.consecutiveErrors = consecutiveErrors
            self.splitExternalLocalOriginErrors = splitExternalLocalOriginErrors
            self.consecutiveLocalOriginFailures = consecutiveLocalOriginFailures
            self.consecutiveGatewayErrors = consecutiveGatewayErrors
            self.consecutive5xxErrors = consecutive5xxErrors
            self.interval = interval
            self.baseEjectionTime = baseEjectionTime
            self.maxEjectionPercent = maxEjectionPercent
            self.minHealthPercent = minHealthPercent
            self.outlierDetectionHttpErrorCodes = outlierDetectionHttpErrorCodes
        }
    }

    /// TLS for connections to the upstream.
    public struct ClientTLSSettings: Codable, Sendable, Hashable {
        public var mode: TLSmode?
        /// File path of the client certificate (MUTUAL).
        public var clientCertificate: String?
        /// File path of the client private key (MUTUAL).
        public var privateKey: String?
        /// File path of the CA bundle verifying the server.
        public var caCertificates: String?
        /// A Kubernetes secret holding the certificates instead of file paths.
        public var credentialName: String?
        public var subjectAltNames: [String]?
        /// SNI sent; taken from the Host header for SIMPLE and MUTUAL when unset.
        public var sni: String?
        public var insecureSkipVerify: Bool?
        /// File path of a certificate revocation list.
        public var caCrl: String?

        public init(
            mode: TLSmode? = nil, clientCertificate: String? = nil, privateKey: String? = nil,
            caCertificates: String? = nil, credentialName: String? = nil, subjectAltNames: [String]? = nil,
            sni: String? = nil, insecureSkipVerify: Bool? = nil, caCrl: String? = nil
        ) {
            self.mode = mode
            self.clientCertificate = clientCertificate
            self.privateKey = privateKey
            self.caCertificates = caCertificates
            self.credentialName = credentialName
            self.subjectAltNames = subjectAltNames
            self.sni = sni
            self.insecureSkipVerify = insecureSkipVerify
            self.caCrl = caCrl
        }

        /// TLS modes for upstream connections.
        public enum TLSmode: String, ManifestEnum {
            /// Plain text.
            case DISABLE
            /// TLS origination.
            case SIMPLE
            /// Mutual TLS with the given certificates.
            case MUTUAL
            /// Mutual TLS with Istio's certificates.
            case ISTIO_MUTUAL
        }
    }

    public func validate(into context: inout ValidationContext) {
        DestinationRuleValidator(resource: self).validate(into: &context)
    }
}
