// The ztunnel reference binary: flags, environment and wiring of SwiftMesh libraries only.
//
//   swift run ztunnel --node-name node-a --node-ip 127.0.0.2 --xds-address 127.0.0.1:15010 \
//       --ca-address 127.0.0.1:15012 --ca-root .istiod/ca/root-cert.pem --token ztunnel-a.jwt
//
// Flags default to Istio's environment variables where ztunnel has one (NODE_NAME, INSTANCE_IP,
// POD_NAME, POD_NAMESPACE, CLUSTER_ID, XDS_ADDRESS, CA_ADDRESS, CA_ROOT_CA, AUTH_TOKEN).
import ArgumentParser
import Foundation
import Logging
import MeshCA
import MeshZtunnel
import Metrics
import Prometheus
import ServiceLifecycle
import Synchronization
import X509

#if canImport(Glibc)
import Glibc
#endif

@main
struct ZtunnelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ztunnel", abstract: "SwiftMesh node proxy: HBONE, L4 policy, workload certificates.")

    static let environment = ProcessInfo.processInfo.environment

    @Option(help: "Kubernetes node served (env NODE_NAME).")
    var nodeName = environment["NODE_NAME"] ?? ""
    @Option(help: "This node proxy's IP; listeners bind here (env INSTANCE_IP).")
    var nodeIP = environment["INSTANCE_IP"] ?? "127.0.0.1"
    @Option(help: "Address the transparent listeners (15001, 15006) bind; default: the node IP. In-pod capture needs 0.0.0.0.")
    var captureHost: String?
    @Option(help: "Pod name for the xDS node id (env POD_NAME).")
    var podName = environment["POD_NAME"] ?? "ztunnel"
    @Option(help: "Pod namespace (env POD_NAMESPACE).")
    var podNamespace = environment["POD_NAMESPACE"] ?? "istio-system"
    @Option(help: "Cluster id (env CLUSTER_ID).")
    var clusterID = environment["CLUSTER_ID"] ?? MeshCAConstants.defaultClusterID
    @Option(help: "Network of this node.")
    var network = environment["NETWORK"] ?? ""
    @Option(help: "Trust domain.")
    var trustDomain = MeshCAConstants.defaultTrustDomain
    @Option(help: "Delta ADS address, plaintext gRPC (env XDS_ADDRESS).")
    var xdsAddress = environment["XDS_ADDRESS"] ?? "127.0.0.1:15010"
    @Option(help: "Istio CA address, gRPC over TLS (env CA_ADDRESS).")
    var caAddress = environment["CA_ADDRESS"] ?? "127.0.0.1:15012"
    @Option(help: "Roots that verify the CA (env CA_ROOT_CA).")
    var caRoot = environment["CA_ROOT_CA"] ?? "./var/run/secrets/istio/root-cert.pem"
    @Option(help: "Service-account token for the CA: a file path (re-read per request) or the token itself (env AUTH_TOKEN).")
    var token = environment["AUTH_TOKEN"] ?? "./var/run/secrets/tokens/istio-token"
    @Option(help: "Workload certificate lifetime in seconds (env SECRET_TTL as seconds).")
    var secretTTL = Int(environment["SECRET_TTL"] ?? "") ?? 86_400
    @Option(help: "Seconds open connections get to finish on shutdown.")
    var drainSeconds = 5.0
    @Option(help: "SOCKS5 outbound port (0: ephemeral, -1: off).")
    var socks5Port = 15080
    @Option(help: "Transparent outbound port (-1: off).")
    var outboundPort = 15001
    @Option(help: "Plaintext inbound port (-1: off).")
    var inboundPort = 15006
    @Option(help: "Admin port (/config_dump).")
    var adminPort = 15000
    @Option(help: "Stats port (/stats/prometheus).")
    var statsPort = 15020
    @Option(help: "Readiness port (/healthz/ready).")
    var readinessPort = 15021
    @Option(help: "Write the bound ports as JSON to this file once all are bound.")
    var portsFile: String?

    func run() async throws {
        unblockTerminationSignals()
        let prometheus = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus))
        var logger = Logger(label: "ztunnel")
        logger[metadataKey: "node"] = "\(nodeName)"

        guard !nodeName.isEmpty else { throw ValidationError("--node-name (or NODE_NAME) is required") }
        guard let xds = ZtunnelConfiguration.Endpoint(parsing: xdsAddress) else {
            throw ValidationError("--xds-address: \"\(xdsAddress)\" is not host:port")
        }
        guard let ca = ZtunnelConfiguration.Endpoint(parsing: caAddress) else {
            throw ValidationError("--ca-address: \"\(caAddress)\" is not host:port")
        }
        let roots: [Certificate]
        do {
            roots = try PEMCodec.certificates(fromPEM: String(contentsOfFile: caRoot, encoding: .utf8), source: caRoot)
        } catch {
            throw ValidationError("--ca-root \(caRoot): \(error)")
        }
        let tokenSource = token
        let tokenIsFile = FileManager.default.fileExists(atPath: tokenSource)
        var ports = ZtunnelConfiguration.Ports()
        func port(_ value: Int) -> Int? { value < 0 ? nil : value }
        ports.socks5 = port(socks5Port)
        ports.outbound = port(outboundPort)
        ports.inboundPlaintext = port(inboundPort)
        ports.admin = port(adminPort)
        ports.stats = port(statsPort)
        ports.readiness = port(readinessPort)

        var configuration = ZtunnelConfiguration(
            nodeName: nodeName, nodeIP: nodeIP, podName: podName, podNamespace: podNamespace, clusterID: clusterID,
            network: network, trustDomain: trustDomain, xdsAddress: xds, caAddress: ca, caRoots: roots,
            token: {
                guard tokenIsFile else { return tokenSource }
                return try String(contentsOfFile: tokenSource, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            },
            ports: ports, certificateTTL: .seconds(secretTTL), drainDuration: .milliseconds(Int(drainSeconds * 1000)),
            metricsText: { prometheus.emitToString() })
        configuration.captureHost = captureHost
        let expected = [ports.socks5, ports.outbound, ports.inboundPlaintext, ports.admin, ports.stats, ports.readiness]
            .compactMap { $0 }.count
        let portsFile = portsFile
        let ztunnel = Ztunnel(
            configuration: configuration,
            onListening: { bound in
                guard let portsFile, bound.count == expected else { return }
                let body = bound.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
                try? Data("{\(body)}\n".utf8).write(to: URL(fileURLWithPath: portsFile), options: .atomic)
            }, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: ztunnel)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// A parent may start us with SIGTERM/SIGINT blocked (a test runner, some shells); graceful
/// shutdown needs them.
func unblockTerminationSignals() {
    #if canImport(Glibc)
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGTERM)
    sigaddset(&set, SIGINT)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
    #endif
}
