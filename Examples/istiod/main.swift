// The istiod reference binary: flags and wiring of SwiftMesh libraries only.
//
//   swift run istiod --config-dir Examples/demo --ca-dir .istiod/ca
//
// gRPC 15010 (plaintext) and 15012 (TLS, istiod's own certificate from its CA) serve delta and
// SotW ADS (istio.workload.Address, istio.security.Authorization) and the Istio CA service;
// HTTP 15014 serves /ready, /metrics, /debug/syncz, /debug/config_dump?proxyID=…, /debug/registryz.
import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import MeshAPI
import MeshCA
import MeshDiscovery
import MeshXDS
import Metrics
import Prometheus
import Synchronization

@main
struct Istiod: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "SwiftMesh control plane: ambient xDS and CA.")

    @Option(help: "Directory of manifests to watch (the default registry).")
    var configDir: String?
    @Option(help: "Kubeconfig of a Kubernetes API server to list and watch instead of a directory.")
    var kubeconfig: String?
    @Option(help: "CA state: a self-signed root is created here on first start, or a plugged-in cacerts layout is used.")
    var caDir = ".istiod/ca"
    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"
    @Option(help: "Plaintext gRPC port (ADS and CA).")
    var grpcPort = 15010
    @Option(help: "TLS gRPC port (ADS and CA).")
    var grpcTLSPort = 15012
    @Option(help: "HTTP monitoring port.")
    var httpPort = 15014
    @Option(help: "Trust domain of issued identities.")
    var trustDomain = MeshCAConstants.defaultTrustDomain
    @Option(help: "Root namespace (mesh-wide policies).")
    var rootNamespace = "istio-system"
    @Option(help: "JWKS file of the keys service-account tokens are signed with (enables token callers).")
    var tokenKeys: String?
    @Option(help: "Issuer of service-account tokens.")
    var tokenIssuer = "https://kubernetes.default.svc.cluster.local"
    @Option(help: "Write the bound ports as JSON to this file (for ports chosen with 0).")
    var portsFile: String?

    func run() async throws {
        let prometheus = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus))
        let logger = Logger(label: "istiod")

        let model = MeshModel(options: MeshModelOptions(rootNamespace: rootNamespace))
        let registry: any MeshRegistry
        if let kubeconfig {
            registry = KubernetesRegistry(connection: try KubernetesConnection.kubeconfig(path: kubeconfig))
        } else {
            registry = DirectoryRegistry(path: configDir ?? ".")
        }

        let caURL = URL(fileURLWithPath: caDir)
        let caConfiguration = CertificateAuthority.Configuration(trustDomain: trustDomain)
        let authority =
            FileManager.default.fileExists(atPath: caURL.appendingPathComponent("cert-chain.pem").path)
            ? try CertificateAuthority.pluggedIn(directory: caURL, configuration: caConfiguration)
            : try CertificateAuthority.selfSigned(directory: caURL, configuration: caConfiguration)
        var authenticators: [any CallerAuthenticator] = [PeerCertificateAuthenticator(authority: authority)]
        if let tokenKeys {
            let keySet = try JSONWebKeySet(json: try Data(contentsOf: URL(fileURLWithPath: tokenKeys)))
            authenticators.insert(
                KubernetesJWTAuthenticator(verifier: JWTVerifier(issuer: tokenIssuer, keySet: keySet), trustDomain: trustDomain),
                at: 0)
        }
        let ca = IstioCertificateGRPCService(handler: CertificateRequestHandler(
            authority: authority, authenticators: authenticators,
            impersonation: .init(nodeAuthorizer: ModelNodeAuthorizer(model: model))))

        let controller = AmbientController(model: model)
        let xds = XDSServer(cache: controller.cache)
        let services = xds.services + [ca]
        let serving = try authority.issueServingCertificate(
            dnsNames: ["istiod.\(rootNamespace).svc", "istiod.\(rootNamespace).svc.cluster.local", "localhost"],
            ipAddresses: [host])
        // xDS streams write one response per push: no flush coalescing (see XDSServer.transportConfig);
        // each stream runs on its connection's event loop.
        let config = xds.runningStreamsOnConnectionLoops(XDSServer.transportConfig)
        let plaintext = HTTP2ServerTransport.Posix(
            address: .ipv4(host: host, port: grpcPort), transportSecurity: .plaintext, config: config)
        let tls = HTTP2ServerTransport.Posix(
            address: .ipv4(host: host, port: grpcTLSPort),
            transportSecurity: try CAServerTransportSecurity.make(
                chain: serving.chain, privateKey: serving.privateKey, clientCertificates: .notRequested),
            config: config)

        let debug = DebugHTTPServer(routes: [
            "/ready": { _ in
                model.isReady ? .init(body: "ready\n") : .init(status: 503, body: "registry not synced\n")
            },
            "/metrics": { _ in
                .init(contentType: "text/plain; version=0.0.4", body: prometheus.emitToString())
            },
            "/debug/syncz": { _ in
                .json(String(decoding: (try? xds.status.jsonData()) ?? Data("[]".utf8), as: UTF8.self))
            },
            "/debug/config_dump": { query in
                guard let proxy = query["proxyID"], !xds.status.clients(nodeID: proxy).isEmpty else {
                    return .init(status: 404, body: "no connected proxy with that proxyID\n")
                }
                return .json(controller.registryJSON())
            },
            "/debug/registryz": { _ in .json(controller.registryJSON()) },
        ])

        let ports = PortsRecorder(path: portsFile)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await registry.run(into: model) }
            group.addTask {
                try await debug.serve(host: host, port: httpPort) { ports.record("http", $0) }
            }
            // Serve xDS only once the registry has synced, as istiod waits for its informers: a
            // proxy reconnecting to a restarted istiod must never take a partial (empty) state
            // for removals of everything it has.
            while !model.isReady { try await Task.sleep(for: .milliseconds(20)) }
            controller.sync()
            group.addTask { await controller.run() }
            for (name, transport) in [("grpc", plaintext), ("grpc-tls", tls)] {
                group.addTask { try await GRPCServer(transport: transport, services: services).serve() }
                group.addTask {
                    let address = try await transport.listeningAddress
                    ports.record(name, address.ipv4?.port ?? 0)
                }
            }
            logger.info(
                "istiod starting", metadata: ["config": "\(kubeconfig ?? configDir ?? ".")", "ca": "\(caDir)"])
        }
    }
}

/// Impersonation check for the CA backed by the mesh model: the caller's node is its token's
/// node claim, else the node whose address the call came from.
struct ModelNodeAuthorizer: MeshCA.NodeAuthorizer {
    let model: MeshModel

    func authorize(caller: CallerIdentity, toImpersonate identity: SpiffeID) async -> NodeAuthorizationDecision {
        let remoteHost = caller.remoteAddress.map(Self.host(of:))
        let node =
            caller.nodeName
            ?? model.snapshot().workloads.values.first { $0.nodeAddress != nil && $0.nodeAddress == remoteHost }?.node
        guard let node else { return .denied(reason: "the node of caller \(caller.identity) is unknown") }
        if model.hasWorkload(serviceAccount: identity.serviceAccount, namespace: identity.namespace, node: node) {
            return .allowed
        }
        return .denied(reason: "no workload with service account \(identity.namespace)/\(identity.serviceAccount) on node \(node)")
    }

    /// `ipv4:127.0.0.2:5000` / `127.0.0.2:5000` → `127.0.0.2`.
    static func host(of address: String) -> String {
        var text = address
        for prefix in ["ipv4:", "ipv6:"] where text.hasPrefix(prefix) { text.removeFirst(prefix.count) }
        if text.hasPrefix("["), let end = text.firstIndex(of: "]") { return String(text[text.index(after: text.startIndex)..<end]) }
        if let colon = text.lastIndex(of: ":"), text.filter({ $0 == ":" }).count == 1 { return String(text[..<colon]) }
        return text
    }
}

/// Writes `{"grpc":15010,…}` once every listener is bound.
final class PortsRecorder: Sendable {
    let path: String?
    private let ports = Mutex<[String: Int]>([:])

    init(path: String?) { self.path = path }

    func record(_ name: String, _ port: Int) {
        let all = ports.withLock { $0[name] = port; return $0 }
        guard let path, all.count == 3 else { return }
        let body = all.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
        try? Data("{\(body)}\n".utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
