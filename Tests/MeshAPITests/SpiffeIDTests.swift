import Testing
@testable import MeshAPI

@Suite struct SpiffeIDTests {
    @Test func parsesAndPrints() throws {
        let id = try SpiffeID(parsing: "spiffe://cluster.local/ns/default/sa/bookinfo-productpage")
        #expect(id.trustDomain == "cluster.local")
        #expect(id.namespace == "default")
        #expect(id.serviceAccount == "bookinfo-productpage")
        #expect(id.description == "spiffe://cluster.local/ns/default/sa/bookinfo-productpage")
        #expect(id.principal == "cluster.local/ns/default/sa/bookinfo-productpage")
    }

    @Test(arguments: [
        ("http://cluster.local/ns/a/sa/b", "must start with spiffe://"),
        ("spiffe://cluster.local/ns/a/sa", "must have the form"),
        ("spiffe://cluster.local/ns/a/sa/b/extra", "must have the form"),
        ("spiffe://cluster.local/ns//sa/b", "namespace is empty"),
        ("spiffe:///ns/a/sa/b", "trust domain is empty"),
        ("spiffe://Cluster.Local/ns/a/sa/b", "trust domain may hold only"),
        ("spiffe://cluster.local/sa/a/ns/b", "must have the form"),
        ("spiffe://cluster.local/ns/a/sa/b?x=1", "service account may hold only"),
        ("spiffe://cluster.local/ns/../sa/b", "may not be"),
    ])
    func rejects(input: String, reason: String) {
        #expect(throws: SpiffeIDError.self) { try SpiffeID(parsing: input) }
        do {
            _ = try SpiffeID(parsing: input)
        } catch {
            #expect(error.reason.contains(reason), "\(error.reason)")
        }
    }

    @Test func codableRoundTrip() throws {
        let id = try SpiffeID(trustDomain: "example.org", namespace: "istio-system", serviceAccount: "ztunnel")
        #expect(SpiffeID(id.description) == id)
        #expect(SpiffeID("not a spiffe id") == nil)
    }
}
