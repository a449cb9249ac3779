import MeshL4
import NIOCore
import Testing

@Suite("HBONE authority and headers")
struct TargetAndHeaderTests {
    @Test("ip:port and [v6]:port parse; host names are kept", arguments: [
        ("10.0.0.1:8080", "10.0.0.1:8080"),
        ("[fd00::1]:443", "[fd00::1]:443"),
        ("[::1]:1", "[::1]:1"),
        ("reviews.default.svc.cluster.local:9080", "reviews.default.svc.cluster.local:9080"),
        ("Reviews.Default:80", "reviews.default:80"),
    ])
    func valid(authority: String, normalized: String) throws {
        let target = try HBONETarget(authority: authority)
        #expect(target.authority == normalized)
    }

    @Test("malformed authorities are refused", arguments: [
        "", "10.0.0.1", "10.0.0.1:", ":80", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:80a", "10.0.0.1:+80",
        "fd00::1:443", "[fd00::1]", "[fd00::1]443", "[10.0.0.1]:80", "[fd00::1:443", "300.1.1.1:80", "1.2.3:80",
        "a b:80", "host_name:80", "-bad.example:80", "10.0.0.1:80:80", "x:123456",
    ])
    func invalid(authority: String) {
        #expect(throws: HBONEAuthorityError.self) { try HBONETarget(authority: authority) }
    }

    @Test("IPv4 and IPv6 targets are addresses")
    func addresses() throws {
        guard case .address(let v4) = try HBONETarget(authority: "127.0.0.1:15008") else {
            Issue.record("not an address")
            return
        }
        #expect(v4.port == 15008)
        guard case .address(let v6) = try HBONETarget(authority: "[::1]:80"), case .v6 = v6 else {
            Issue.record("not an IPv6 address")
            return
        }
    }

    @Test("forwarded: for=\"ip:port\" is written and read like ztunnel's")
    func forwarded() throws {
        let source = try SocketAddress(ipAddress: "10.1.2.3", port: 4567)
        #expect(HBONEHeaders.forwarded(for: source) == "for=\"10.1.2.3:4567\"")
        #expect(HBONEHeaders.forwarded(for: source, host: "r.default.svc") == "for=\"10.1.2.3:4567\";host=r.default.svc")
        #expect(HBONEHeaders.forwardedFor("for=\"10.1.2.3:4567\";host=x") == source)
        let v6 = try SocketAddress(ipAddress: "fd00::5", port: 80)
        #expect(HBONEHeaders.forwarded(for: v6) == "for=\"[fd00::5]:80\"")
        #expect(HBONEHeaders.forwardedFor(HBONEHeaders.forwarded(for: v6)) == v6)
        #expect(HBONEHeaders.forwardedFor("by=1.2.3.4") == nil)
        #expect(HBONEHeaders.forwardedFor("for=unknown") == nil)
    }

    @Test("baggage and traceparent")
    func baggageAndTrace() {
        let baggage = HBONEHeaders.baggage([("k8s.cluster.name", "Kubernetes"), ("k8s.namespace.name", "default")])
        #expect(baggage == "k8s.cluster.name=Kubernetes,k8s.namespace.name=default")
        #expect(HBONEHeaders.parseBaggage(baggage + ";prop=1, service.name = reviews") == [
            "k8s.cluster.name": "Kubernetes", "k8s.namespace.name": "default", "service.name": "reviews",
        ])
        for _ in 0..<50 {
            let trace = HBONEHeaders.makeTraceparent()
            #expect(HBONEHeaders.isValidTraceparent(trace), "\(trace)")
        }
        #expect(!HBONEHeaders.isValidTraceparent("00-0000-0000-00"))
    }
}
