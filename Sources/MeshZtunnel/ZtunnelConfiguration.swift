import Foundation
import MeshAPI
import MeshCA
import MeshL4
import X509

/// Everything a ``Ztunnel`` needs, read in one place. Defaults are ztunnel's (ports, TTL, drain);
/// the reference binary fills the rest from flags and Istio's environment variables
/// (`XDS_ADDRESS`, `CA_ADDRESS`, `NODE_NAME`, `CLUSTER_ID`, `AUTH_TOKEN`, …).
public struct ZtunnelConfiguration: Sendable {
    /// A `host:port` address of the control plane.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        /// Host name or IP address.
        public var host: String
        /// Port.
        public var port: Int

        /// Creates an endpoint.
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// Parses `host:port` (or `[v6]:port`); a leading `https://` or `http://` is dropped.
        public init?(parsing text: String) {
            var rest = Substring(text)
            for scheme in ["https://", "http://"] where rest.hasPrefix(scheme) { rest = rest.dropFirst(scheme.count) }
            guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
                (1...65535).contains(port)
            else { return nil }
            var host = rest[..<colon]
            if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
            guard !host.isEmpty else { return nil }
            self.init(host: String(host), port: port)
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// The Kubernetes node this proxy serves (`NODE_NAME`): its workloads get certificates and
    /// inbound listeners here.
    public var nodeName: String
    /// The proxy's own IP (`INSTANCE_IP`): the node address listeners bind to.
    public var nodeIP: String
    /// Where the transparent listeners (15001, 15006) bind; nil: ``nodeIP``. An iptables
    /// REDIRECT of locally generated traffic arrives at 127.0.0.1, so in-pod capture binds
    /// `0.0.0.0` or `127.0.0.1` here.
    public var captureHost: String?
    /// The proxy's pod name and namespace (`POD_NAME`, `POD_NAMESPACE`), for its xDS node id.
    public var podName: String
    /// The proxy's namespace.
    public var podNamespace: String
    /// `CLUSTER_ID`.
    public var clusterID: String
    /// The network of this node (`network/IP` address keys).
    public var network: String
    /// The trust domain of workload identities.
    public var trustDomain: String
    /// Delta ADS server (`XDS_ADDRESS`, plaintext gRPC).
    public var xdsAddress: Endpoint
    /// Istio CA (`CA_ADDRESS`, gRPC over TLS).
    public var caAddress: Endpoint
    /// Roots that verify the CA's serving certificate (`CA_ROOT_CA`, istiod's `root-cert.pem`).
    public var caRoots: [Certificate]
    /// The service-account token presented to the CA; called for every request (ztunnel
    /// re-reads its token file each time).
    public var token: @Sendable () async throws -> String
    /// Ports; 0 picks an ephemeral port, nil turns a listener off.
    public var ports: Ports
    /// Workload certificate lifetime asked of the CA (`SECRET_TTL`).
    public var certificateTTL: Duration
    /// How long open connections may finish after shutdown starts before they are closed.
    public var drainDuration: Duration
    /// The Prometheus text served on `/stats/prometheus` (the binary owns the metrics backend).
    public var metricsText: @Sendable () -> String

    /// Listener ports (Istio's numbers by default).
    public struct Ports: Sendable, Hashable {
        /// Inbound HBONE, bound on each local workload's IP (the port peers dial).
        public var hbone: Int = L4Constants.hbonePort
        /// Explicit outbound (SOCKS5) on the node IP.
        public var socks5: Int? = 15080
        /// Transparent outbound capture (iptables REDIRECT target).
        public var outbound: Int? = 15001
        /// Transparent plaintext inbound (refused under STRICT mTLS).
        public var inboundPlaintext: Int? = 15006
        /// Admin: `/config_dump`.
        public var admin: Int? = 15000
        /// `/stats/prometheus`.
        public var stats: Int? = 15020
        /// `/healthz/ready`.
        public var readiness: Int? = 15021

        /// Istio's ports.
        public init() {}
    }

    /// Creates a configuration.
    public init(
        nodeName: String, nodeIP: String, podName: String = "ztunnel", podNamespace: String = "istio-system",
        clusterID: String = MeshCAConstants.defaultClusterID, network: String = "",
        trustDomain: String = MeshCAConstants.defaultTrustDomain, xdsAddress: Endpoint, caAddress: Endpoint,
        caRoots: [Certificate], token: @escaping @Sendable () async throws -> String, ports: Ports = Ports(),
        certificateTTL: Duration = MeshCAConstants.defaultWorkloadCertificateTTL, drainDuration: Duration = .seconds(5),
        metricsText: @escaping @Sendable () -> String = { "" }
    ) {
        self.nodeName = nodeName
        self.nodeIP = nodeIP
        self.captureHost = nil
        self.podName = podName
        self.podNamespace = podNamespace
        self.clusterID = clusterID
        self.network = network
        self.trustDomain = trustDomain
        self.xdsAddress = xdsAddress
        self.caAddress = caAddress
        self.caRoots = caRoots
        self.token = token
        self.ports = ports
        self.certificateTTL = certificateTTL
        self.drainDuration = drainDuration
        self.metricsText = metricsText
    }
}
