import Foundation
import Logging
import MeshAPI
import MeshCA
import MeshL4
import MeshXDS
import NIOCore
import ServiceLifecycle
import Synchronization

/// A node proxy as Istio's ztunnel: delta xDS for `Address` and `Authorization`, a rotating
/// certificate per local workload identity from the CA (by impersonation), inbound HBONE on
/// each local workload's IP with L4 policy, outbound through SOCKS5 (15080) and transparent
/// capture (15001), plaintext inbound (15006), and the admin, stats and readiness endpoints.
///
/// ``run()`` serves until the task is cancelled or, under swift-service-lifecycle, a graceful
/// shutdown starts: then readiness turns false, listeners stop accepting, and open connections
/// get ``ZtunnelConfiguration/drainDuration`` to finish before they are closed.
public final class Ztunnel: ServiceLifecycle.Service, Sendable {
    /// The configuration.
    public let configuration: ZtunnelConfiguration
    /// What xDS delivered.
    public let state: ZtunnelState
    let workloads: LocalWorkloads
    private let logger: Logger
    private let draining = Atomic<Bool>(false)
    private let boundPorts = Mutex<[String: Int]>([:])
    private let onListening: @Sendable ([String: Int]) -> Void

    /// Creates a proxy.
    /// - Parameters:
    ///   - configuration: the settings.
    ///   - requester: how certificates are asked for; defaults to Istio's CA at
    ///     ``ZtunnelConfiguration/caAddress`` with the configured token.
    ///   - onListening: called with every bound port so far (`socks5`, `outbound`, `inbound`,
    ///     `admin`, `stats`, `readiness`) each time one more is bound.
    ///   - logger: diagnostics.
    public init(
        configuration: ZtunnelConfiguration, requester: (any CertificateRequesting)? = nil,
        onListening: @escaping @Sendable ([String: Int]) -> Void = { _ in },
        logger: Logger = Logger(label: "swiftmesh.ztunnel")
    ) {
        self.configuration = configuration
        self.state = ZtunnelState(network: configuration.network, logger: logger)
        let requester = requester ?? IstioCAClient(configuration: .init(
            host: configuration.caAddress.host, port: configuration.caAddress.port, trustRoots: configuration.caRoots,
            credential: .bearerToken(configuration.token), clusterID: configuration.clusterID))
        self.workloads = LocalWorkloads(configuration: configuration, state: state, requester: requester, logger: logger)
        self.onListening = onListening
        self.logger = logger
    }

    /// Ready: both xDS types received, a certificate for every local identity, not draining.
    public func isReady() async -> Bool {
        guard !draining.load(ordering: .relaxed), state.isSynced else { return false }
        return await workloads.hasAllCertificates()
    }

    /// The admin `/config_dump` document.
    public func configDump() async -> String {
        ConfigDump(
            node: configuration.nodeName, proxy: state.addresses, policies: state.authorizer.currentPolicies,
            certificates: await workloads.certificates()
        ).json()
    }

    /// Serves until cancelled or gracefully shut down, then drains.
    public func run() async throws {
        let node = IstioNode.make(
            type: "ztunnel", ip: configuration.nodeIP, podName: configuration.podName,
            namespace: configuration.podNamespace, nodeName: configuration.nodeName, clusterID: configuration.clusterID)
        let xds = XDSClient(configuration: XDSClientConfiguration(
            host: configuration.xdsAddress.host, port: configuration.xdsAddress.port, node: node, mode: .delta))
        let state = state
        let workloads = workloads
        let nodeName = configuration.nodeName
        await xds.subscribe(typeURL: TypeURL.workloadAddress) { update in
            try state.applyAddresses(update)
            await workloads.reconcile(state.addresses.workloads(node: nodeName))
            // A workload's selected policies may have changed.
            await workloads.reauthorize()
        }
        await xds.subscribe(typeURL: TypeURL.authorization) { update in
            try state.applyAuthorizations(update)
            await workloads.reauthorize()
        }

        let outbound = OutboundConnectorFactory(nodeName: nodeName, state: state, workloads: workloads, logger: logger)
        let host = configuration.nodeIP
        let ports = configuration.ports
        var socks5: SOCKS5Listener?
        var transparent: [TransparentListener] = []
        if let port = ports.socks5 {
            let listener = try await SOCKS5Listener.start(host: host, port: port, connector: outbound.connector, logger: logger)
            record("socks5", listener.localAddress?.port)
            socks5 = listener
        }
        let captureHost = configuration.captureHost ?? host
        if let port = ports.outbound {
            let listener = try await TransparentListener.start(host: captureHost, port: port, connector: outbound.connector, logger: logger)
            record("outbound", listener.localAddress?.port)
            transparent.append(listener)
        }
        if let port = ports.inboundPlaintext {
            let inbound = PlaintextInbound(nodeName: nodeName, state: state)
            let listener = try await TransparentListener.start(
                host: captureHost, port: port, connector: inbound.connector, logger: logger)
            record("inbound", listener.localAddress?.port)
            transparent.append(listener)
        }
        let listeners = (socks5: socks5, transparent: transparent)
        logger.info("ztunnel started", metadata: ["node": "\(nodeName)", "xds": "\(configuration.xdsAddress)", "ca": "\(configuration.caAddress)"])

        _ = try? await cancelWhenGracefulShutdown { [self] in
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await xds.run() }
                group.addTask {
                    for await event in xds.events {
                        switch event {
                        case .rejected(let typeURL, let message):
                            self.logger.warning("xDS update rejected", metadata: ["type": "\(typeURL)", "error": "\(message)"])
                        case .disconnected(let reason, let retry):
                            self.logger.info("xDS disconnected", metadata: ["reason": "\(reason)", "retryIn": "\(retry)"])
                        default: break
                        }
                    }
                }
                for (name, port, routes) in adminServers() {
                    guard let port else { continue }
                    group.addTask {
                        try await DebugHTTPServer(routes: routes, logger: self.logger).serve(host: host, port: port) {
                            self.record(name, $0)
                        }
                    }
                }
            }
        }
        // Drain outside the (cancelled) serving task so the grace period is not cut short.
        let grace = Task.isCancelled ? Duration.zero : configuration.drainDuration
        draining.store(true, ordering: .relaxed)
        logger.info("ztunnel draining", metadata: ["gracePeriod": "\(grace)"])
        await Task {
            await withTaskGroup(of: Void.self) { group in
                if let socks5 = listeners.socks5 { group.addTask { await socks5.shutdown(gracePeriod: grace) } }
                for listener in listeners.transparent { group.addTask { await listener.shutdown(gracePeriod: grace) } }
                group.addTask { await workloads.shutdown(gracePeriod: grace) }
            }
        }.value
        logger.info("ztunnel stopped")
    }

    private func adminServers() -> [(String, Int?, [String: DebugHTTPServer.Handler])] {
        let metricsText = configuration.metricsText
        return [
            ("admin", configuration.ports.admin, [
                "/config_dump": { _ in .json(await self.configDump()) },
                "/healthz/ready": { _ in await self.readiness() },
            ]),
            ("stats", configuration.ports.stats, [
                "/stats/prometheus": { _ in .init(contentType: "text/plain; version=0.0.4", body: metricsText()) },
                "/metrics": { _ in .init(contentType: "text/plain; version=0.0.4", body: metricsText()) },
            ]),
            ("readiness", configuration.ports.readiness, ["/healthz/ready": { _ in await self.readiness() }]),
        ]
    }

    private func readiness() async -> DebugHTTPServer.Response {
        await isReady() ? .init(body: "ready\n") : .init(status: 503, body: "not ready\n")
    }

    private func record(_ name: String, _ port: Int?) {
        guard let port else { return }
        let all = boundPorts.withLock { $0[name] = port; return $0 }
        onListening(all)
    }
}
