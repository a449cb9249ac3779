import Foundation
import Logging
import MeshAPI
import MeshCA
import MeshL4
import MeshProto
import NIOCore

/// The workloads of this node and what each needs: a rotating certificate per identity (asked
/// of the CA by impersonation, as ztunnel does in shared mode), an HBONE client per identity
/// (outbound pool) and an HBONE server on each workload IP (inbound, port 15008).
///
/// ``reconcile(_:)`` brings the set in line with xDS: new workloads get their identity and
/// listener, removed ones are drained and released. Workloads sharing a service account share
/// one certificate and one client.
actor LocalWorkloads {
    struct IdentityEntry {
        let identity: WorkloadIdentity
        let credentials: HBONECredentials
        let client: HBONEClient
        let tasks: [Task<Void, Never>]
        var users: Set<String>
    }

    struct InboundEntry {
        let listener: ListenerKey
        let server: HBONEServer?
        let identity: SpiffeID
    }

    /// What an inbound listener is built from; any other change to a workload (its status, the
    /// policies it lists, labels) applies to the running listener without restarting it.
    struct ListenerKey: Hashable {
        var address: Data
        var identity: SpiffeID?
        var applicationTunnel: Istio_Workload_ApplicationTunnel?

        init(_ w: Istio_Workload_Workload) {
            address = w.addresses.first ?? Data()
            identity = ProxyState.identity(of: w)
            applicationTunnel = w.hasApplicationTunnel ? w.applicationTunnel : nil
        }
    }

    private let configuration: ZtunnelConfiguration
    private let state: ZtunnelState
    private let requester: any CertificateRequesting
    private let limiter = CSRLimiter()
    private let logger: Logger
    private var identities: [SpiffeID: IdentityEntry] = [:]
    private var inbound: [String: InboundEntry] = [:]

    init(configuration: ZtunnelConfiguration, state: ZtunnelState, requester: any CertificateRequesting, logger: Logger) {
        self.configuration = configuration
        self.state = state
        self.requester = requester
        self.logger = logger
    }

    /// The outbound client of a local workload's identity.
    func client(for identity: SpiffeID) -> HBONEClient? {
        identities[identity]?.client
    }

    /// Whether every local workload's identity holds a certificate.
    func hasAllCertificates() async -> Bool {
        for entry in identities.values where await entry.identity.certificate == nil { return false }
        return true
    }

    /// Certificates for the admin dump.
    func certificates() async -> [(SpiffeID, WorkloadCertificate?)] {
        var out: [(SpiffeID, WorkloadCertificate?)] = []
        for (id, entry) in identities.sorted(by: { $0.key.description < $1.key.description }) {
            out.append((id, await entry.identity.certificate))
        }
        return out
    }

    /// Starts what new local workloads need and releases what removed ones held.
    func reconcile(_ workloads: [Istio_Workload_Workload]) async {
        let wanted = Dictionary(
            workloads.filter { $0.tunnelProtocol == .hbone && !$0.addresses.isEmpty }.map { ($0.uid, $0) },
            uniquingKeysWith: { a, _ in a })
        for (uid, entry) in inbound where wanted[uid].map(ListenerKey.init) != entry.listener {
            await release(uid: uid, entry: entry)
        }
        for (uid, workload) in wanted.sorted(by: { $0.key < $1.key }) where inbound[uid] == nil {
            await start(workload)
        }
    }

    private func start(_ workload: Istio_Workload_Workload) async {
        guard let identity = ProxyState.identity(of: workload),
            let ip = workload.addresses.first.flatMap({ IPAddressBytes(bytes: Array($0)) })
        else {
            logger.warning("local workload has no identity or address", metadata: ["uid": "\(workload.uid)"])
            return
        }
        let credentials = acquire(identity, for: workload.uid)
        let server: HBONEServer?
        do {
            server = try await HBONEServer.start(credentials: credentials, configuration: inboundConfiguration(workload, ip: ip))
        } catch {
            logger.error(
                "cannot listen for HBONE on the workload's address",
                metadata: ["uid": "\(workload.uid)", "address": "\(ip.authority(port: UInt16(configuration.ports.hbone)))", "error": "\(error)"])
            server = nil
        }
        inbound[workload.uid] = InboundEntry(listener: ListenerKey(workload), server: server, identity: identity)
        logger.info("serving local workload", metadata: ["uid": "\(workload.uid)", "identity": "\(identity)", "ip": "\(ip)"])
    }

    private func release(uid: String, entry: InboundEntry) async {
        inbound[uid] = nil
        if let server = entry.server { await server.shutdown(gracePeriod: configuration.drainDuration) }
        guard var owner = identities[entry.identity] else { return }
        owner.users.remove(uid)
        if owner.users.isEmpty {
            identities[entry.identity] = nil
            for task in owner.tasks { task.cancel() }
            await owner.client.shutdown()
        } else {
            identities[entry.identity] = owner
        }
        logger.info("released local workload", metadata: ["uid": "\(uid)"])
    }

    /// The credentials of `identity`, starting its certificate rotation on first use.
    private func acquire(_ identity: SpiffeID, for uid: String) -> HBONECredentials {
        if var entry = identities[identity] {
            entry.users.insert(uid)
            identities[identity] = entry
            return entry.credentials
        }
        let provider = WorkloadIdentity(
            identity: identity, requester: requester,
            configuration: .init(requestedTTL: configuration.certificateTTL, impersonate: true), limiter: limiter,
            logger: logger)
        let credentials = HBONECredentials(logger: logger)
        let client = HBONEClient(credentials: credentials, configuration: outboundClientConfiguration(identity))
        let tasks = [
            Task { await provider.run() },
            Task { await credentials.run(identity: provider) },
        ]
        identities[identity] = IdentityEntry(
            identity: provider, credentials: credentials, client: client, tasks: tasks, users: [uid])
        return credentials
    }

    private func outboundClientConfiguration(_ identity: SpiffeID) -> HBONEClient.Configuration {
        HBONEClient.Configuration(
            baggage: [("k8s.namespace.name", identity.namespace), ("k8s.cluster.name", configuration.clusterID)],
            logger: logger)
    }

    /// Inbound HBONE for one workload: only tunnels to this workload's own IP, L4 policy, the
    /// original client's IP kept as the upstream source, and a PROXY v2 header with the peer
    /// identity when the workload asks for one (`ApplicationTunnel` PROXY).
    private func inboundConfiguration(_ workload: Istio_Workload_Workload, ip: IPAddressBytes) -> HBONEServer.Configuration {
        let own = ip.canonical
        let state = state
        let usesProxyProtocol = workload.hasApplicationTunnel && workload.applicationTunnel.protocol == .proxy
        let tunnelPort = workload.applicationTunnel.port
        var server = HBONEServer.Configuration(
            host: own.description, port: configuration.ports.hbone,
            resolver: { target in
                guard case .address(let address) = target else {
                    return .unknown
                }
                guard let requested = address.ipAddress.flatMap(IPAddressBytes.init), requested.canonical == own else {
                    return .badRequest(reason: "target \(target) is not this workload (\(own))")
                }
                // An application tunnel may name its own port (a waypoint's 15088).
                if usesProxyProtocol, tunnelPort != 0 {
                    return (try? SocketAddress(ipAddress: own.description, port: Int(tunnelPort))).map { .connect($0) } ?? .unknown
                }
                return .connect(address)
            },
            authorizer: state.authorizer.hboneAuthorizer,
            metricLabels: { [uid = workload.uid] info, labels in
                // One lookup under the state's lock: the workload as xDS describes it now (labels
                // may change while the listener runs), the caller, and the service — the workload's
                // only one (with several the receiver cannot tell which; hostname targets never
                // get here, the resolver refuses them).
                let (current, peer, service) = state.read { proxy in
                    let current = proxy.workload(uid: uid) ?? workload
                    let peer = info.source.ipAddress.flatMap(IPAddressBytes.init).flatMap { proxy.workload(ip: $0) }
                    let service = current.services.count == 1 ? current.services.keys.first.flatMap { proxy.service(key: $0) } : nil
                    return (current, peer, service)
                }
                MetricLabeling.destination(current, into: &labels)
                if let peer { MetricLabeling.source(peer, into: &labels) }
                if let service { MetricLabeling.service(service, into: &labels) }
            },
            logger: logger)
        if usesProxyProtocol {
            server.upstreamPreamble = { info in
                ProxyProtocolV2.encode(ProxyProtocolV2.Header(
                    source: info.source, destination: info.destination,
                    tlvs: [.init(type: ProxyProtocolV2.identityTLV, value: Array(info.peerIdentity.description.utf8))]))
            }
        }
        // Source-IP preservation: the workload sees its caller's address, as with ztunnel's spoofing.
        server.upstreamSource = { info in info.source.ipAddress.flatMap { try? SocketAddress(ipAddress: $0, port: 0) } }
        return server
    }

    /// Applies a policy or address change to open inbound tunnels: each server asks L4
    /// authorization again and closes the tunnels it now denies.
    func reauthorize() async {
        var closed = 0
        for entry in inbound.values {
            if let server = entry.server { closed += await server.reauthorize() }
        }
        if closed > 0 { logger.info("closed tunnels that policy no longer allows", metadata: ["count": "\(closed)"]) }
    }

    /// Stops accepting on every workload listener, lets tunnels finish within `gracePeriod`,
    /// then releases every identity.
    func shutdown(gracePeriod: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            for entry in inbound.values {
                if let server = entry.server { group.addTask { await server.shutdown(gracePeriod: gracePeriod) } }
            }
        }
        inbound.removeAll()
        for entry in identities.values {
            for task in entry.tasks { task.cancel() }
            await entry.client.shutdown()
        }
        identities.removeAll()
    }
}
