import Foundation
import MeshAPI
import MeshProto
import Testing

@testable import MeshL4

private func ip(_ text: String) -> IPAddressBytes { IPAddressBytes(text)! }

private func workload(
    _ name: String, ip address: String, ns: String = "shop", sa: String = "web-sa", node: String = "node-a",
    hbone: Bool = true, healthy: Bool = true, services: [String: [(UInt32, UInt32)]] = [:],
    waypoint: Istio_Workload_GatewayAddress? = nil
) -> Istio_Workload_Address {
    var w = Istio_Workload_Workload()
    w.uid = "Kubernetes//v1/Pod/\(ns)/\(name)"
    w.name = name
    w.namespace = ns
    w.addresses = [Data(ip(address).bytes)]
    w.serviceAccount = sa
    w.trustDomain = "cluster.local"
    w.node = node
    w.tunnelProtocol = hbone ? .hbone : .none
    w.status = healthy ? .healthy : .unhealthy
    for (key, ports) in services {
        var list = Istio_Workload_PortList()
        list.ports = ports.map { var p = Istio_Workload_Port(); p.servicePort = $0.0; p.targetPort = $0.1; return p }
        w.services[key] = list
    }
    if let waypoint { w.waypoint = waypoint }
    var a = Istio_Workload_Address()
    a.workload = w
    return a
}

private func service(_ name: String, vip: String, ns: String = "shop", waypoint: Istio_Workload_GatewayAddress? = nil) -> Istio_Workload_Address {
    var s = Istio_Workload_Service()
    s.name = name
    s.namespace = ns
    s.hostname = "\(name).\(ns).svc.cluster.local"
    var address = Istio_Workload_NetworkAddress()
    address.address = Data(ip(vip).bytes)
    s.addresses = [address]
    if let waypoint { s.waypoint = waypoint }
    var a = Istio_Workload_Address()
    a.service = s
    return a
}

private func gateway(vip: String) -> Istio_Workload_GatewayAddress {
    var g = Istio_Workload_GatewayAddress()
    var address = Istio_Workload_NetworkAddress()
    address.address = Data(ip(vip).bytes)
    g.address = address
    g.hboneMtlsPort = 15008
    return g
}

private func endpoint(_ text: String, _ port: UInt16) -> OutboundRoute.Endpoint { .init(ip: ip(text), port: port) }

private func uid(_ name: String) -> String { "Kubernetes//v1/Pod/shop/\(name)" }

@Suite("Ztunnel state and outbound routing")
struct ProxyStateTests {
    func state() -> ProxyState {
        var s = ProxyState()
        let web = "shop/web.shop.svc.cluster.local"
        s.apply(service("web", vip: "10.96.0.10"), name: web)
        s.apply(workload("web-1", ip: "10.0.0.5", services: [web: [(80, 8080)]]), name: uid("web-1"))
        s.apply(workload("web-2", ip: "10.0.0.6", healthy: false, services: [web: [(80, 8080)]]), name: uid("web-2"))
        s.apply(workload("legacy", ip: "10.0.0.9", ns: "legacy", sa: "default", node: "node-b", hbone: false), name: "legacy")
        return s
    }

    @Test func serviceVIPPicksAHealthyEndpointAndTranslatesThePort() {
        let route = state().route(to: endpoint("10.96.0.10", 80))
        let identity = try! SpiffeID(parsing: "spiffe://cluster.local/ns/shop/sa/web-sa")
        #expect(route == .hbone(proxy: endpoint("10.0.0.5", 15008), target: endpoint("10.0.0.5", 8080), identities: [identity], workloadUID: uid("web-1")))
        // A port the service does not expose has no endpoint.
        #expect(state().route(to: endpoint("10.96.0.10", 81)) == .unavailable(service: "web.shop.svc.cluster.local", port: 81))
    }

    @Test func workloadIPsAndUnknownDestinations() {
        let s = state()
        #expect(s.route(to: endpoint("10.0.0.5", 9000)).description == "hbone 10.0.0.5:15008 -> 10.0.0.5:9000")
        #expect(s.route(to: endpoint("10.0.0.9", 5432)) == .direct(endpoint("10.0.0.9", 5432), workloadUID: "Kubernetes//v1/Pod/legacy/legacy"))
        #expect(s.route(to: endpoint("192.0.2.1", 443)) == .passthrough(endpoint("192.0.2.1", 443)))
        #expect(s.workloads(node: "node-a").map(\.name) == ["web-1", "web-2"])
        #expect(s.workload(ip: ip("::ffff:10.0.0.5"))?.name == "web-1")
    }

    @Test func waypointBindingsSendTheOriginalDestination() {
        var s = state()
        let waypointKey = "shop/waypoint.shop.svc.cluster.local"
        s.apply(service("waypoint", vip: "10.96.0.99"), name: waypointKey)
        s.apply(workload("waypoint-0", ip: "10.0.0.50", sa: "waypoint", services: [waypointKey: [(15008, 15008)]]), name: uid("waypoint-0"))
        s.apply(service("web", vip: "10.96.0.10", waypoint: gateway(vip: "10.96.0.99")), name: "shop/web.shop.svc.cluster.local")
        let route = s.route(to: endpoint("10.96.0.10", 80))
        let waypointID = try! SpiffeID(parsing: "spiffe://cluster.local/ns/shop/sa/waypoint")
        #expect(route == .hbone(proxy: endpoint("10.0.0.50", 15008), target: endpoint("10.96.0.10", 80), identities: [waypointID], workloadUID: uid("waypoint-0")))
        // The waypoint's own traffic goes to the service endpoints.
        let fromWaypoint = s.route(from: s.workload(uid: uid("waypoint-0")), to: endpoint("10.96.0.10", 80))
        #expect(fromWaypoint.description == "hbone 10.0.0.5:15008 -> 10.0.0.5:8080")
    }

    @Test func removalByResourceName() {
        var s = state()
        s.remove(name: uid("web-1"))
        #expect(s.workload(ip: ip("10.0.0.5")) == nil)
        #expect(s.route(to: endpoint("10.96.0.10", 80)) == .unavailable(service: "web.shop.svc.cluster.local", port: 80))
        s.remove(name: "shop/web.shop.svc.cluster.local")
        #expect(s.service(vip: ip("10.96.0.10")) == nil)
        #expect(s.counts.services == 0)
    }
}
