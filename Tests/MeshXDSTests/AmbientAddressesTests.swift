import Foundation
import MeshAPI
import MeshDiscovery
import MeshProto
import SwiftProtobuf
import Testing

@testable import MeshXDS

/// The Address and Authorization resources istiod would serve ztunnel for a small mesh.
@Suite struct AmbientAddressesTests {
    static let manifests = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: legacy}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: shop}
        spec:
          clusterIP: 10.96.0.10
          selector: {app: web}
          ports:
          - {name: http, port: 80, targetPort: http}
          - {name: grpc-api, port: 9000, targetPort: 9090}
        ---
        \(webPod(version: "v2"))
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: old-1, namespace: legacy, labels: {app: old}}
        spec:
          serviceAccountName: default
          nodeName: node-b
          containers: [{name: app, image: old}]
        status:
          podIP: 10.0.0.9
          conditions: [{type: Ready, status: "False"}]
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: web-frontend, namespace: shop}
        spec:
          selector: {matchLabels: {app: web}}
          rules:
          - from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: ns-wide, namespace: shop}
        spec:
          action: DENY
          rules:
          - to: [{operation: {ports: ["22"]}}]
        ---
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: istio-system}
        spec:
          mtls: {mode: STRICT}
        """

    /// Pod web-1 (ambient namespace shop, service account web-sa, node-a) at a version label.
    static func webPod(version: String) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: web-1, namespace: shop, labels: {app: web, version: \(version)}}
        spec:
          serviceAccountName: web-sa
          nodeName: node-a
          containers:
          - name: app
            image: web
            ports: [{name: http, containerPort: 8080}]
        status:
          podIP: 10.0.0.5
          hostIP: 127.0.0.2
          conditions: [{type: Ready, status: "True"}]
        """
    }

    static func snapshot() throws -> MeshSnapshot {
        let result = ManifestLoader().load(text: manifests, file: "mesh.yaml")
        #expect(result.errors.isEmpty, "\(result.errors)")
        let model = MeshModel()
        model.apply(result.resources.map { .upsert($0.resource) })
        return model.snapshot()
    }

    @Test func workloadAddress() throws {
        let snapshot = try Self.snapshot()
        let web = try #require(snapshot.workloads.values.first { $0.name == "web-1" })
        let w = AmbientAddresses.workload(web, in: snapshot)
        #expect(w.uid == web.uid)
        #expect(w.namespace == "shop")
        #expect(w.addresses == [Data([10, 0, 0, 5])])
        #expect(w.tunnelProtocol == .hbone)
        #expect(w.serviceAccount == "web-sa")
        #expect(w.trustDomain == "cluster.local")
        #expect(w.node == "node-a")
        #expect(w.canonicalName == "web")
        #expect(w.canonicalRevision == "v2")
        #expect(w.status == .healthy)
        // Service port → the pod's target port (the named port resolved to 8080).
        let ports = try #require(w.services["shop/web.shop.svc.cluster.local"]).ports.map { [$0.servicePort, $0.targetPort] }
        #expect(ports == [[80, 8080], [9000, 9090]])
        // Selector policy and the mesh-wide STRICT PeerAuthentication; not the namespace-wide one.
        #expect(w.authorizationPolicies == ["istio-system/istio_converted_static_strict", "shop/web-frontend"])

        let old = try #require(snapshot.workloads.values.first { $0.name == "old-1" })
        let o = AmbientAddresses.workload(old, in: snapshot)
        #expect(o.tunnelProtocol == .none)
        #expect(o.status == .unhealthy)
        #expect(o.authorizationPolicies == ["istio-system/istio_converted_static_strict"])
    }

    @Test func serviceAddressAndResourceNames() throws {
        let snapshot = try Self.snapshot()
        let resources = try AmbientAddresses.resources(from: snapshot)
        let service = try #require(resources.first { $0.name == "shop/web.shop.svc.cluster.local" })
        #expect(service.aliases == ["/10.96.0.10"])
        #expect(service.typeURL == TypeURL.workloadAddress)
        let decoded = try Istio_Workload_Address(serializedBytes: Array(service.any.value))
        guard case .service(let s)? = decoded.type else {
            Issue.record("expected a service")
            return
        }
        #expect(s.hostname == "web.shop.svc.cluster.local")
        #expect(s.addresses.map(\.address) == [Data([10, 96, 0, 10])])
        #expect(s.ports.map(\.servicePort) == [80, 9000])
        #expect(s.ports.map(\.appProtocol) == [.http11, .grpc])
        // A named targetPort is resolved per workload, so the service carries 0.
        #expect(s.ports.map(\.targetPort) == [0, 9090])

        let workloads = resources.filter { $0.name.contains("/Pod/") }
        #expect(workloads.count == 2)
        #expect(workloads.flatMap(\.aliases).sorted() == ["/10.0.0.5", "/10.0.0.9"])
    }

    @Test func authorizationResources() throws {
        let resources = try AmbientAddresses.authorizationResources(from: try Self.snapshot())
        #expect(resources.map(\.name) == ["istio-system/istio_converted_static_strict", "shop/ns-wide", "shop/web-frontend"])
        #expect(resources.allSatisfy { $0.typeURL == TypeURL.authorization })
        let nsWide = try Istio_Security_Authorization(serializedBytes: Array(resources[1].any.value))
        #expect(nsWide.scope == .namespace)
        #expect(nsWide.action == .deny)
        #expect(nsWide.rules.first?.clauses.first?.matches.first?.destinationPorts == [22])
    }
}
