import MeshAPI
import Metrics

/// Istio's standard labels on the TCP metrics (`shared/facts/ambient.md`, section 7). Unknown
/// values are `unknown`; `request_protocol` is always `tcp`.
public struct TCPMetricLabels: Sendable, Hashable {
    /// `source` (the originating proxy) or `destination` (the terminating one).
    public enum Reporter: String, Sendable, Hashable {
        /// The originating side.
        case source
        /// The terminating side.
        case destination
    }

    /// The `reporter` label.
    public var reporter: Reporter
    /// The `source_workload` label.
    public var sourceWorkload = L4Constants.unknownLabel
    /// The `source_canonical_service` label.
    public var sourceCanonicalService = L4Constants.unknownLabel
    /// The `source_canonical_revision` label.
    public var sourceCanonicalRevision = L4Constants.unknownLabel
    /// The `source_workload_namespace` label.
    public var sourceWorkloadNamespace = L4Constants.unknownLabel
    /// The `source_principal` label.
    public var sourcePrincipal = L4Constants.unknownLabel
    /// The `source_app` label.
    public var sourceApp = L4Constants.unknownLabel
    /// The `source_version` label.
    public var sourceVersion = L4Constants.unknownLabel
    /// The `source_cluster` label.
    public var sourceCluster = L4Constants.unknownLabel
    /// The `destination_service` label.
    public var destinationService = L4Constants.unknownLabel
    /// The `destination_service_namespace` label.
    public var destinationServiceNamespace = L4Constants.unknownLabel
    /// The `destination_service_name` label.
    public var destinationServiceName = L4Constants.unknownLabel
    /// The `destination_workload` label.
    public var destinationWorkload = L4Constants.unknownLabel
    /// The `destination_canonical_service` label.
    public var destinationCanonicalService = L4Constants.unknownLabel
    /// The `destination_canonical_revision` label.
    public var destinationCanonicalRevision = L4Constants.unknownLabel
    /// The `destination_workload_namespace` label.
    public var destinationWorkloadNamespace = L4Constants.unknownLabel
    /// The `destination_principal` label.
    public var destinationPrincipal = L4Constants.unknownLabel
    /// The `destination_app` label.
    public var destinationApp = L4Constants.unknownLabel
    /// The `destination_version` label.
    public var destinationVersion = L4Constants.unknownLabel
    /// The `destination_cluster` label.
    public var destinationCluster = L4Constants.unknownLabel
    /// `mutual_tls` for HBONE, `unknown` otherwise.
    public var connectionSecurityPolicy = "mutual_tls"

    /// Labels with every value unknown.
    public init(reporter: Reporter) {
        self.reporter = reporter
    }

    /// Fills the identity-derived labels: principal (`spiffe://…`) and namespace of each side.
    public mutating func setIdentities(source: SpiffeID?, destination: SpiffeID?) {
        if let source {
            sourcePrincipal = source.description
            sourceWorkloadNamespace = source.namespace
        }
        if let destination {
            destinationPrincipal = destination.description
            destinationWorkloadNamespace = destination.namespace
        }
    }

    /// Fills source labels from a ztunnel `baggage` header.
    public mutating func setSource(baggage: [String: String]) {
        if let cluster = baggage["k8s.cluster.name"] { sourceCluster = cluster }
        if let namespace = baggage["k8s.namespace.name"] { sourceWorkloadNamespace = namespace }
        for kind in ["deployment", "cronjob", "pod", "job"] {
            if let name = baggage["k8s.\(kind).name"] {
                sourceWorkload = name
                break
            }
        }
        if let service = baggage["service.name"] {
            sourceCanonicalService = service
            sourceApp = service
        }
        if let version = baggage["service.version"] {
            sourceCanonicalRevision = version
            sourceVersion = version
        }
    }

    func dimensions(responseFlags: String) -> [(String, String)] {
        [
            ("reporter", reporter.rawValue),
            ("source_workload", sourceWorkload),
            ("source_canonical_service", sourceCanonicalService),
            ("source_canonical_revision", sourceCanonicalRevision),
            ("source_workload_namespace", sourceWorkloadNamespace),
            ("source_principal", sourcePrincipal),
            ("source_app", sourceApp),
            ("source_version", sourceVersion),
            ("source_cluster", sourceCluster),
            ("destination_service", destinationService),
            ("destination_service_namespace", destinationServiceNamespace),
            ("destination_service_name", destinationServiceName),
            ("destination_workload", destinationWorkload),
            ("destination_canonical_service", destinationCanonicalService),
            ("destination_canonical_revision", destinationCanonicalRevision),
            ("destination_workload_namespace", destinationWorkloadNamespace),
            ("destination_principal", destinationPrincipal),
            ("destination_app", destinationApp),
            ("destination_version", destinationVersion),
            ("destination_cluster", destinationCluster),
            ("request_protocol", "tcp"),
            ("response_flags", responseFlags),
            ("connection_security_policy", connectionSecurityPolicy),
        ]
    }
}

/// `response_flags` values of ztunnel's TCP metrics.
public enum TCPResponseFlags: String, Sendable, Hashable {
    /// No failure.
    case none = "-"
    /// Denied by policy.
    case deny = "DENY"
    /// The upstream connect failed.
    case connect = "CONNECT"
    /// The TLS handshake failed.
    case tlsFailure = "TLS_FAILURE"
    /// The HTTP/2 handshake failed.
    case h2HandshakeFailure = "H2_HANDSHAKE_FAILURE"
    /// The peer's identity was not the expected one.
    case identityError = "IDENTITY_ERROR"
}

/// Records Istio's four TCP connection metrics through swift-metrics.
///
/// Bytes follow Istio's meaning for both reporters: `received` is the request direction (client
/// to server), `sent` the response direction. They are added when the connection closes.
public enum TCPMetrics {
    /// Counts an opened connection.
    public static func opened(_ labels: TCPMetricLabels) {
        Counter(label: L4Constants.connectionsOpenedMetric, dimensions: labels.dimensions(responseFlags: TCPResponseFlags.none.rawValue))
            .increment()
    }

    /// Counts a closed connection and its bytes.
    public static func closed(_ labels: TCPMetricLabels, flags: TCPResponseFlags, requestBytes: Int, responseBytes: Int) {
        let dimensions = labels.dimensions(responseFlags: flags.rawValue)
        Counter(label: L4Constants.connectionsClosedMetric, dimensions: dimensions).increment()
        if requestBytes > 0 {
            Counter(label: L4Constants.receivedBytesMetric, dimensions: dimensions).increment(by: requestBytes)
        }
        if responseBytes > 0 {
            Counter(label: L4Constants.sentBytesMetric, dimensions: dimensions).increment(by: responseBytes)
        }
    }
}
