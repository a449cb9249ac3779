import Foundation
import MeshAPI
import MeshCA
import MeshL4
import MeshProto

/// ztunnel's `/config_dump` (admin port 15000): what xDS delivered and the certificates held.
struct ConfigDump: Encodable {
    struct Workload: Encodable {
        var uid, name, namespace, node, serviceAccount, protocolName: String
        var addresses: [String]
        var services: [String]
        var authorizationPolicies: [String]
        var status: String

        enum CodingKeys: String, CodingKey {
            case uid, name, namespace, node, serviceAccount, addresses, services, authorizationPolicies, status
            case protocolName = "protocol"
        }
    }

    struct Service: Encodable {
        var name, namespace, hostname: String
        var vips: [String]
        var ports: [String: UInt32]
        var waypoint: Bool
    }

    struct CertificateState: Encodable {
        var identity: String
        var state: String
        var notBefore: String?
        var expiry: String?
        var chainLength: Int
    }

    var node: String
    var workloads: [Workload]
    var services: [Service]
    var policies: [String]
    var certificates: [CertificateState]

    init(node: String, proxy: ProxyState, policies: L4PolicySet, certificates: [(SpiffeID, WorkloadCertificate?)]) {
        self.node = node
        func ip(_ data: Data) -> String { IPAddressBytes(bytes: Array(data))?.description ?? "?" }
        workloads = proxy.allWorkloads.map { w in
            Workload(
                uid: w.uid, name: w.name, namespace: w.namespace, node: w.node, serviceAccount: w.serviceAccount,
                protocolName: w.tunnelProtocol == .hbone ? "HBONE" : "TCP", addresses: w.addresses.map(ip),
                services: w.services.keys.sorted(), authorizationPolicies: w.authorizationPolicies,
                status: w.status == .healthy ? "Healthy" : "Unhealthy")
        }
        services = proxy.allServices.map { s in
            Service(
                name: s.name, namespace: s.namespace, hostname: s.hostname,
                vips: s.addresses.map { "\($0.network)/\(ip($0.address))" },
                ports: Dictionary(s.ports.map { ("\($0.servicePort)", $0.targetPort) }, uniquingKeysWith: { a, _ in a }),
                waypoint: s.hasWaypoint)
        }
        self.policies = policies.keys
        let formatter = ISO8601DateFormatter()
        self.certificates = certificates.map { identity, certificate in
            CertificateState(
                identity: identity.description, state: certificate == nil ? "Initializing" : "Available",
                notBefore: certificate.map { formatter.string(from: $0.notBefore) },
                expiry: certificate.map { formatter.string(from: $0.notAfter) },
                chainLength: certificate.map { 1 + $0.intermediates.count + $0.roots.count } ?? 0)
        }
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
