import Foundation
import MeshAPI
import MeshDiscovery
import MeshProto

/// The `istio.workload.Address` resources istiod serves ztunnel, built from the mesh model:
/// one per workload (resource name = its `uid`) and one per service (`namespace/hostname`),
/// each with `network/IP` aliases, plus the `istio.security.Authorization` resources.
public enum AmbientAddresses {
    /// The workload as ztunnel sees it, with the services it backs (service port → target
    /// port) and the selector AuthorizationPolicies and PeerAuthentication-derived policies it
    /// must enforce.
    public static func workload(_ w: MeshWorkload, in snapshot: MeshSnapshot) -> Istio_Workload_Workload {
        var out = Istio_Workload_Workload()
        out.uid = w.uid
        out.name = w.name
        out.namespace = w.namespace
        out.addresses = w.addresses.compactMap { IPAddressBytes($0).map { Data($0.bytes) } }
        if let hostname = w.hostname { out.hostname = hostname }
        out.network = w.network
        out.tunnelProtocol = w.tunnelProtocol == .hbone ? .hbone : .none
        out.trustDomain = w.trustDomain
        out.serviceAccount = w.serviceAccount
        if let waypoint = w.waypoint { out.waypoint = gatewayAddress(waypoint, network: w.network) }
        if let node = w.node { out.node = node }
        out.canonicalName = w.canonicalName
        out.canonicalRevision = w.canonicalRevision
        out.workloadName = w.workloadName
        switch w.workloadType {
        case .deployment: out.workloadType = .deployment
        case .cronJob: out.workloadType = .cronjob
        case .pod: out.workloadType = .pod
        case .job: out.workloadType = .job
        }
        out.status = w.status == .healthy ? .healthy : .unhealthy
        out.clusterID = w.clusterID
        out.networkMode = w.hostNetwork ? .hostNetwork : .standard
        if let locality = w.locality {
            let parts = locality.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            var l = Istio_Workload_Locality()
            l.region = parts.count > 0 ? parts[0] : ""
            l.zone = parts.count > 1 ? parts[1] : ""
            l.subzone = parts.count > 2 ? parts[2] : ""
            out.locality = l
        }
        for service in snapshot.services(forWorkload: w.uid) {
            guard let endpoint = snapshot.endpoint(service: service.key, workloadUID: w.uid) else { continue }
            var list = Istio_Workload_PortList()
            list.ports = endpoint.ports.sorted { $0.key < $1.key }.map { servicePort, targetPort in
                var p = Istio_Workload_Port()
                p.servicePort = UInt32(servicePort)
                p.targetPort = UInt32(targetPort)
                return p
            }
            out.services[service.key.description] = list
        }
        out.authorizationPolicies = authorizationPolicyKeys(for: w, in: snapshot)
        if let tunnel = w.applicationTunnel, tunnel.proxyProtocol {
            var t = Istio_Workload_ApplicationTunnel()
            t.protocol = .proxy
            t.port = UInt32(tunnel.port)
            out.applicationTunnel = t
        }
        return out
    }

    /// `ns/name` of the policies a workload lists: the selector AuthorizationPolicies that
    /// select it (in its namespace, or in the root namespace for every namespace) and the
    /// policies its effective PeerAuthentication needs.
    public static func authorizationPolicyKeys(for w: MeshWorkload, in snapshot: MeshSnapshot) -> [String] {
        let root = snapshot.options.rootNamespace
        var keys: [String] = []
        var peerAuthentications: [PeerAuthentication] = []
        for policy in snapshot.policies(forWorkload: w) {
            switch policy {
            case .authorizationPolicy(let ap) where ap.spec?.selector != nil:
                // Per workload on every sync: a predicate, not a full conversion.
                if AmbientAuthorization.isSentToZtunnel(ap) {
                    keys.append("\(ap.metadata.namespace ?? "")/\(ap.metadata.name ?? "")")
                }
            case .peerAuthentication(let pa):
                peerAuthentications.append(pa)
            default:
                continue
            }
        }
        keys += AmbientAuthorization.effectivePeerAuthenticationKeys(rootNamespace: root, applicable: peerAuthentications)
        return Array(Set(keys)).sorted()
    }

    /// The service as ztunnel sees it.
    public static func service(_ s: MeshService, network: String) -> Istio_Workload_Service {
        var out = Istio_Workload_Service()
        out.name = s.name
        out.namespace = s.namespace
        out.hostname = s.hostname
        out.addresses = s.addresses.compactMap { networkAddress($0, network: network) }
        out.ports = s.ports.map { port in
            var p = Istio_Workload_Port()
            p.servicePort = UInt32(port.port)
            if case .number(let target) = port.targetPort { p.targetPort = UInt32(target) }
            p.appProtocol = appProtocol(port.protocol)
            return p
        }
        out.subjectAltNames = s.subjectAltNames
        if let waypoint = s.waypoint { out.waypoint = gatewayAddress(waypoint, network: network) }
        return out
    }

    /// Every Address resource of the snapshot: workloads by uid, services by `ns/hostname`,
    /// each aliased by `network/IP`.
    public static func resources(from snapshot: MeshSnapshot, network: String = "") throws -> [XDSResource] {
        var out: [XDSResource] = []
        for w in snapshot.workloads.values.sorted(by: { $0.uid < $1.uid }) {
            var address = Istio_Workload_Address()
            address.workload = workload(w, in: snapshot)
            out.append(try XDSResource(name: w.uid, message: address, aliases: w.addresses.map { "\(w.network)/\($0)" }))
        }
        for s in snapshot.services.values.sorted(by: { $0.key < $1.key }) {
            var address = Istio_Workload_Address()
            address.service = service(s, network: network)
            out.append(try XDSResource(name: s.key.description, message: address, aliases: s.addresses.map { "\(network)/\($0)" }))
        }
        return out
    }

    /// Every Authorization resource of the snapshot: converted AuthorizationPolicies (those
    /// ztunnel can use) and PeerAuthentication-derived policies, named `namespace/name`.
    public static func authorizationResources(from snapshot: MeshSnapshot) throws -> [XDSResource] {
        let root = snapshot.options.rootNamespace
        var policies: [Istio_Security_Authorization] = []
        var peerAuthentications: [PeerAuthentication] = []
        for policy in snapshot.policies.values {
            switch policy {
            case .authorizationPolicy(let ap):
                if let converted = AmbientAuthorization.convert(ap, rootNamespace: root).authorization {
                    policies.append(converted)
                }
            case .peerAuthentication(let pa):
                peerAuthentications.append(pa)
            default:
                continue
            }
        }
        policies += AmbientAuthorization.convertedPeerAuthentications(rootNamespace: root, policies: peerAuthentications)
        return try policies.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }.map {
            try XDSResource(name: "\($0.namespace)/\($0.name)", message: $0)
        }
    }

    static func appProtocol(_ p: PortProtocol) -> Istio_Workload_AppProtocol {
        switch p {
        case .http: .http11
        case .http2: .http2
        case .grpc: .grpc
        default: .unknown
        }
    }

    static func networkAddress(_ ip: String, network: String) -> Istio_Workload_NetworkAddress? {
        guard let bytes = IPAddressBytes(ip)?.bytes else { return nil }
        var a = Istio_Workload_NetworkAddress()
        a.network = network
        a.address = Data(bytes)
        return a
    }

    /// A waypoint by its service VIP when it has one, else by hostname; HBONE port 15008.
    static func gatewayAddress(_ waypoint: ResolvedWaypoint, network: String) -> Istio_Workload_GatewayAddress {
        var g = Istio_Workload_GatewayAddress()
        if let first = waypoint.addresses.first, let address = networkAddress(first, network: network) {
            g.address = address
        } else {
            var h = Istio_Workload_NamespacedHostname()
            h.namespace = waypoint.waypoint.namespace
            h.hostname = waypoint.hostname
            g.hostname = h
        }
        g.hboneMtlsPort = UInt32(waypoint.port)
        return g
    }
}
