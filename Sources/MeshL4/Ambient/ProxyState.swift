import Foundation
import Logging
import MeshAPI
import MeshProto

/// Where an outbound connection goes, as ztunnel decides it.
public enum OutboundRoute: Hashable, Sendable, CustomStringConvertible {
    /// HBONE: CONNECT to `proxy` (the destination pod's or waypoint's IP, port 15008) with
    /// `:authority` `target`, expecting the server to be one of `identities`.
    case hbone(proxy: Endpoint, target: Endpoint, identities: [SpiffeID], workloadUID: String?)
    /// Plain TCP to a workload outside the mesh (tunnel protocol NONE).
    case direct(Endpoint, workloadUID: String)
    /// Nothing known about the destination: connect to it as the application asked.
    case passthrough(Endpoint)
    /// A known service with no healthy endpoint for the port: the connection fails.
    case unavailable(service: String, port: UInt16)

    /// `ip:port` / `[ip]:port`.
    public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
        /// The IP address.
        public var ip: IPAddressBytes
        /// The port.
        public var port: UInt16

        /// Creates an endpoint.
        public init(ip: IPAddressBytes, port: UInt16) {
            self.ip = ip
            self.port = port
        }

        /// The `:authority` form.
        public var description: String { ip.authority(port: port) }
    }

    /// A log form: `hbone 10.0.0.5:15008 -> 10.0.0.5:8080`.
    public var description: String {
        switch self {
        case .hbone(let proxy, let target, _, _): "hbone \(proxy) -> \(target)"
        case .direct(let endpoint, _): "direct \(endpoint)"
        case .passthrough(let endpoint): "passthrough \(endpoint)"
        case .unavailable(let service, let port): "no healthy endpoint for \(service):\(port)"
        }
    }
}

/// What a ztunnel knows from xDS: workloads and services (`istio.workload.Address`) and L4
/// policies (`istio.security.Authorization`), indexed by the keys its data path looks up.
///
/// Outbound routing follows ztunnel: a service VIP picks a healthy endpoint of the service (or
/// its waypoint); a workload IP goes to that workload (or its waypoint); HBONE workloads are
/// reached at their own IP on 15008 with the service port translated to the target port, or,
/// through a waypoint, with the original `VIP:port` as authority; workloads without HBONE get
/// plain TCP; unknown destinations pass through.
public struct ProxyState: Sendable {
    /// The network this proxy is on (`network/IP` keys).
    public var network: String
    private(set) var workloads: [String: Istio_Workload_Workload] = [:]
    private(set) var services: [String: Istio_Workload_Service] = [:]
    /// Resource name → uid or service key, so removal by name works for either kind.
    private var resourceNames: [String: Key] = [:]
    private var workloadByAddress: [String: String] = [:]
    private var serviceByAddress: [String: String] = [:]
    /// Service key → uids of the workloads that list it in `Workload.services`, so routing to a
    /// VIP looks at the service's endpoints only.
    private var endpointsByService: [String: Set<String>] = [:]
    /// The authorization policies.
    public var policies = L4PolicySet()

    private enum Key: Hashable, Sendable {
        case workload(String)
        case service(String)
    }

    /// An empty state for `network`.
    public init(network: String = "") {
        self.network = network
    }

    /// The number of workloads and services known.
    public var counts: (workloads: Int, services: Int) { (workloads.count, services.count) }

    /// Adds or replaces an Address resource received under `name`.
    public mutating func apply(_ address: Istio_Workload_Address, name: String) {
        remove(name: name)
        switch address.type {
        case .workload(let w):
            workloads[w.uid] = w
            resourceNames[name] = .workload(w.uid)
            for key in w.services.keys { endpointsByService[key, default: []].insert(w.uid) }
            for ip in w.addresses {
                if let ip = IPAddressBytes(bytes: Array(ip)) { workloadByAddress["\(w.network)/\(ip)"] = w.uid }
            }
        case .service(let s):
            let key = "\(s.namespace)/\(s.hostname)"
            services[key] = s
            resourceNames[name] = .service(key)
            for a in s.addresses {
                if let ip = IPAddressBytes(bytes: Array(a.address)) { serviceByAddress["\(a.network)/\(ip)"] = key }
            }
        case nil:
            break
        }
    }

    /// Removes the Address resource received under `name`.
    public mutating func remove(name: String) {
        switch resourceNames.removeValue(forKey: name) {
        case .workload(let uid):
            if let w = workloads.removeValue(forKey: uid) {
                for key in w.services.keys {
                    endpointsByService[key]?.remove(uid)
                    if endpointsByService[key]?.isEmpty == true { endpointsByService[key] = nil }
                }
                for ip in w.addresses {
                    if let ip = IPAddressBytes(bytes: Array(ip)) { workloadByAddress["\(w.network)/\(ip)"] = nil }
                }
            }
        case .service(let key):
            if let s = services.removeValue(forKey: key) {
                for a in s.addresses {
                    if let ip = IPAddressBytes(bytes: Array(a.address)) { serviceByAddress["\(a.network)/\(ip)"] = nil }
                }
            }
        case nil:
            break
        }
    }

    /// Every workload, in uid order.
    public var allWorkloads: [Istio_Workload_Workload] { workloads.values.sorted { $0.uid < $1.uid } }

    /// Every service, in `namespace/hostname` order.
    public var allServices: [Istio_Workload_Service] {
        services.sorted { $0.key < $1.key }.map(\.value)
    }

    /// The workload with this uid.
    public func workload(uid: String) -> Istio_Workload_Workload? { workloads[uid] }

    /// The service under its `namespace/hostname` key (the keys of `Workload.services`).
    public func service(key: String) -> Istio_Workload_Service? { services[key] }

    /// The workload owning `ip` on this network.
    public func workload(ip: IPAddressBytes) -> Istio_Workload_Workload? {
        workloadByAddress["\(network)/\(ip.canonical)"].flatMap { workloads[$0] }
    }

    /// The service whose VIP is `ip` on this network.
    public func service(vip: IPAddressBytes) -> Istio_Workload_Service? {
        serviceByAddress["\(network)/\(vip.canonical)"].flatMap { services[$0] }
    }

    /// Workloads on `node` (the ones a node proxy serves and fetches certificates for).
    public func workloads(node: String) -> [Istio_Workload_Workload] {
        workloads.values.filter { $0.node == node }.sorted { $0.uid < $1.uid }
    }

    /// The workloads behind a service key (`namespace/hostname`), in uid order.
    func endpoints(of key: String) -> [Istio_Workload_Workload] {
        (endpointsByService[key] ?? []).sorted().compactMap { workloads[$0] }
    }

    /// The SPIFFE identity of a workload.
    public static func identity(of w: Istio_Workload_Workload) -> SpiffeID? {
        try? SpiffeID(trustDomain: w.trustDomain.isEmpty ? "cluster.local" : w.trustDomain, namespace: w.namespace, serviceAccount: w.serviceAccount)
    }

    /// Decides where a connection from `source` (a local workload, if known) to `destination`
    /// goes. `pick` chooses among healthy endpoints (ztunnel picks at random).
    public func route(
        from source: Istio_Workload_Workload? = nil, to destination: OutboundRoute.Endpoint,
        pick: ([Istio_Workload_Workload]) -> Istio_Workload_Workload? = { $0.randomElement() }
    ) -> OutboundRoute {
        if let service = service(vip: destination.ip) {
            let key = "\(service.namespace)/\(service.hostname)"
            if service.hasWaypoint, let via = waypointRoute(service.waypoint, original: destination, source: source) {
                return via
            }
            let endpoints = endpoints(of: key).filter { w in
                w.status == .healthy && (w.services[key]?.ports.contains { $0.servicePort == UInt32(destination.port) } ?? false)
            }
            guard let chosen = pick(endpoints), let ip = chosen.addresses.first.flatMap({ IPAddressBytes(bytes: Array($0)) }) else {
                return .unavailable(service: service.hostname, port: destination.port)
            }
            let targetPort = chosen.services[key]?.ports.first { $0.servicePort == UInt32(destination.port) }?.targetPort ?? 0
            let port = targetPort == 0 ? destination.port : UInt16(truncatingIfNeeded: targetPort)
            return workloadRoute(chosen, ip: ip, port: port)
        }
        if let w = workload(ip: destination.ip) {
            if w.hasWaypoint, let via = waypointRoute(w.waypoint, original: destination, source: source) { return via }
            return workloadRoute(w, ip: destination.ip.canonical, port: destination.port)
        }
        return .passthrough(destination)
    }

    private func workloadRoute(_ w: Istio_Workload_Workload, ip: IPAddressBytes, port: UInt16) -> OutboundRoute {
        let target = OutboundRoute.Endpoint(ip: ip, port: port)
        guard w.tunnelProtocol == .hbone else { return .direct(target, workloadUID: w.uid) }
        return .hbone(
            proxy: .init(ip: ip, port: UInt16(L4Constants.hbonePort)), target: target,
            identities: Self.identity(of: w).map { [$0] } ?? [], workloadUID: w.uid)
    }

    /// Through a waypoint: CONNECT to the waypoint with the original destination as authority.
    /// Traffic from the waypoint itself is not sent back to it.
    private func waypointRoute(
        _ gateway: Istio_Workload_GatewayAddress, original: OutboundRoute.Endpoint, source: Istio_Workload_Workload?
    ) -> OutboundRoute? {
        let waypoint: Istio_Workload_Workload?
        switch gateway.destination {
        case .address(let a):
            guard let ip = IPAddressBytes(bytes: Array(a.address)) else { return nil }
            if let s = service(vip: ip) {
                waypoint = endpoints(of: "\(s.namespace)/\(s.hostname)").first { $0.status == .healthy }
            } else {
                waypoint = workload(ip: ip)
            }
        case .hostname(let h):
            waypoint = endpoints(of: "\(h.namespace)/\(h.hostname)").first { $0.status == .healthy }
        case nil:
            return nil
        }
        guard let waypoint, waypoint.uid != source?.uid,
            let ip = waypoint.addresses.first.flatMap({ IPAddressBytes(bytes: Array($0)) })
        else { return nil }
        let port = gateway.hboneMtlsPort == 0 ? UInt16(L4Constants.hbonePort) : UInt16(truncatingIfNeeded: gateway.hboneMtlsPort)
        return .hbone(
            proxy: .init(ip: ip, port: port), target: original,
            identities: Self.identity(of: waypoint).map { [$0] } ?? [], workloadUID: waypoint.uid)
    }
}
