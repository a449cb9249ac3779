import Foundation
import MeshAPI
import MeshL4
import MeshProto
import MeshXDS
import SwiftProtobuf
import Testing

@testable import MeshZtunnel

private func workload(_ name: String, ip: [UInt8], node: String, sa: String) -> Istio_Workload_Address {
    var w = Istio_Workload_Workload()
    w.uid = "Kubernetes//v1/Pod/demo/\(name)"
    w.name = name
    w.namespace = "demo"
    w.addresses = [Data(ip)]
    w.node = node
    w.serviceAccount = sa
    w.tunnelProtocol = .hbone
    var a = Istio_Workload_Address()
    a.workload = w
    return a
}

private func deny(_ name: String, principal: String) -> Istio_Security_Authorization {
    var m = Istio_Security_Match()
    var s = Istio_Security_StringMatch()
    s.exact = principal
    m.principals = [s]
    var clause = Istio_Security_Clause()
    clause.matches = [m]
    var rule = Istio_Security_Rule()
    rule.clauses = [clause]
    var p = Istio_Security_Authorization()
    p.namespace = "demo"
    p.name = name
    p.scope = .namespace
    p.action = .deny
    p.rules = [rule]
    return p
}

private func update(_ typeURL: String, _ resources: [(String, any SwiftProtobuf.Message)], removed: [String] = []) throws -> XDSClientUpdate {
    let updated = try resources.map { name, message in
        var any = Google_Protobuf_Any()
        any.typeURL = typeURL
        any.value = try message.serializedData()
        return XDSResource(name: name, any: any)
    }
    return XDSClientUpdate(typeURL: typeURL, version: "1", updated: updated, removed: removed, all: [:])
}


@Suite struct ZtunnelStateTests {
    let client = try! SpiffeID(parsing: "spiffe://cluster.local/ns/demo/sa/client")

    func connection(to ip: [UInt8]) -> L4Connection {
        L4Connection(
            sourceIP: IPAddressBytes(bytes: [10, 0, 0, 1])!, sourcePort: 40000, destinationIP: IPAddressBytes(bytes: ip)!,
            destinationPort: 8080, sourceIdentity: client)
    }

    @Test func addressesAndPoliciesApplyAndReadinessWaitsForBothTypes() throws {
        let state = ZtunnelState()
        #expect(!state.isSynced)
        try state.applyAddresses(try update(TypeURL.workloadAddress, [("a", workload("echo-0", ip: [10, 0, 0, 9], node: "node-b", sa: "echo"))]))
        #expect(!state.isSynced)
        #expect(state.addresses.workloads(node: "node-b").map(\.name) == ["echo-0"])
        #expect(state.authorizer.decide(connection(to: [10, 0, 0, 9])).isAllowed)

        try state.applyAuthorizations(try update(TypeURL.authorization, [("demo/deny", deny("deny", principal: "cluster.local/ns/demo/sa/client"))]))
        #expect(state.isSynced)
        let decision = state.authorizer.decide(connection(to: [10, 0, 0, 9]))
        #expect(!decision.isAllowed)
        #expect(decision.policy == "demo/deny")

        // Removal by resource name restores the default allow.
        try state.applyAuthorizations(try update(TypeURL.authorization, [], removed: ["demo/deny"]))
        #expect(state.authorizer.decide(connection(to: [10, 0, 0, 9])).isAllowed)
        try state.applyAddresses(try update(TypeURL.workloadAddress, [], removed: ["a"]))
        #expect(state.addresses.workloads(node: "node-b").isEmpty)
    }

    @Test func aBadResourceRejectsTheWholeUpdateAndKeepsTheLastGoodState() throws {
        let state = ZtunnelState()
        try state.applyAuthorizations(try update(TypeURL.authorization, [("demo/deny", deny("deny", principal: "cluster.local/ns/demo/sa/client"))]))
        var nameless = deny("", principal: "x")
        nameless.name = ""
        let bad = try update(TypeURL.authorization, [("demo/other", deny("other", principal: "y")), ("demo/", nameless)], removed: ["demo/deny"])
        #expect {
            try state.applyAuthorizations(bad)
        } throws: { error in
            (error as? XDSRejection)?.message.contains("demo/") == true
        }
        // Nothing of the rejected update was applied: the old policy stays, the new one is absent.
        #expect(state.authorizer.currentPolicies.keys == ["demo/deny"])

        let garbage = XDSClientUpdate(
            typeURL: TypeURL.workloadAddress, version: "2",
            updated: [XDSResource(name: "x", any: { var a = Google_Protobuf_Any(); a.typeURL = TypeURL.workloadAddress; a.value = Data([0xFF, 0xFF, 0xFF]); return a }())],
            removed: [], all: [:])
        #expect(throws: XDSRejection.self) { try state.applyAddresses(garbage) }
    }

    @Test func configDumpListsWorkloadsPoliciesAndCertificates() throws {
        let state = ZtunnelState()
        try state.applyAddresses(try update(TypeURL.workloadAddress, [("a", workload("echo-0", ip: [10, 0, 0, 9], node: "node-b", sa: "echo"))]))
        try state.applyAuthorizations(try update(TypeURL.authorization, [("demo/deny", deny("deny", principal: "p"))]))
        let dump = ConfigDump(
            node: "node-b", proxy: state.addresses, policies: state.authorizer.currentPolicies,
            certificates: [(try SpiffeID(parsing: "spiffe://cluster.local/ns/demo/sa/echo"), nil)]
        ).json()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(dump.utf8)) as? [String: Any])
        #expect(object["policies"] as? [String] == ["demo/deny"])
        let workloads = try #require(object["workloads"] as? [[String: Any]])
        #expect(workloads.first?["addresses"] as? [String] == ["10.0.0.9"])
        #expect(workloads.first?["protocol"] as? String == "HBONE")
        let certificates = try #require(object["certificates"] as? [[String: Any]])
        #expect(certificates.first?["state"] as? String == "Initializing")
        #expect(certificates.first?["identity"] as? String == "spiffe://cluster.local/ns/demo/sa/echo")
    }
}
