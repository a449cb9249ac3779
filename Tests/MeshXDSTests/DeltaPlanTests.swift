import MeshProto
import Testing
@testable import MeshXDS

/// A delta push computed once for every client in the same state (``DeltaPlans``) and written
/// from one serialised response (``SharedDeltaResponse``).
@Suite struct DeltaPlanTests {
    func endpoints(_ name: String, port: Int) -> XDSResource {
        Fixtures.resource(name, Fixtures.endpoints(cluster: name, ports: [port]))
    }

    func header(_ view: CacheView) -> Envoy_Service_Discovery_V3_DeltaDiscoveryResponse {
        var header = Envoy_Service_Discovery_V3_DeltaDiscoveryResponse()
        header.typeURL = TypeURL.endpoint
        header.systemVersionInfo = view.version
        header.controlPlane.identifier = "test"
        return header
    }

    @Test func linearCacheHandsOutOneViewPerChange() throws {
        let cache = LinearCache(typeURL: TypeURL.endpoint, resources: [endpoints("a", port: 1)])
        let node = NodeKey("n")
        let first = try #require(cache.view(typeURL: TypeURL.endpoint, node: node))
        #expect(cache.view(typeURL: TypeURL.endpoint, node: node)?.contents === first.contents)
        cache.updateResources([endpoints("a", port: 1)])  // no change
        #expect(cache.view(typeURL: TypeURL.endpoint, node: node)?.contents === first.contents)
        cache.updateResources([endpoints("a", port: 2)])
        #expect(cache.view(typeURL: TypeURL.endpoint, node: node)?.contents !== first.contents)
        // Assigning resources makes a view stand for other contents.
        var edited = first
        edited.resources = [:]
        #expect(edited.contents !== first.contents)
    }

    @Test func clientsHoldingOneViewShareOnePlanWithTheWholeDifference() throws {
        let cache = LinearCache(typeURL: TypeURL.endpoint, resources: [endpoints("a", port: 1), endpoints("b", port: 1)])
        let node = NodeKey("n")
        let before = try #require(cache.view(typeURL: TypeURL.endpoint, node: node))
        var one = KnownVersions()
        var two = KnownVersions()
        #expect(one.exactContents === ViewContents.empty)
        one.adopt(before)
        two.adopt(before)
        #expect(one.exactContents === before.contents)
        cache.updateResources([endpoints("a", port: 2), endpoints("c", port: 1)], delete: ["b"])
        let after = try #require(cache.view(typeURL: TypeURL.endpoint, node: node))

        let plans = DeltaPlans()
        let plan = plans.plan(
            typeURL: TypeURL.endpoint, from: one.base, contents: try #require(one.exactContents), to: after,
            header: header(after))
        let again = plans.plan(
            typeURL: TypeURL.endpoint, from: two.base, contents: try #require(two.exactContents), to: after,
            header: header(after))
        #expect(plan === again)
        #expect(Set(plan.resources.map(\.name)) == ["a", "c"])
        #expect(plan.removed == ["b"])

        // A client holding something of its own is not in step with any view.
        two["a"] = "private"
        #expect(two.exactContents == nil)
        // Nothing held: everything is new.
        let fresh = plans.plan(
            typeURL: TypeURL.endpoint, from: [:], contents: ViewContents.empty, to: after, header: header(after))
        #expect(Set(fresh.resources.map(\.name)) == ["a", "c"] && fresh.removed.isEmpty)
    }

    @Test func sharedResponseCarriesEachClientsNonce() throws {
        let view = CacheView(version: "v7", resources: ["a": endpoints("a", port: 1), "b": endpoints("b", port: 2)])
        let held = ["b": endpoints("b", port: 1), "gone": endpoints("gone", port: 1)]
        let plan = DeltaPlan(from: held, contents: ViewContents(), to: view, header: header(view))
        for counter: UInt64 in [1, 0xbeef, .max] {
            var fields = header(view)
            fields.nonce = DeltaSession.nonce(counter)
            fields.removedResources = plan.removed
            let wire = DeltaResponseWire(header: fields, resources: plan.resources, shared: plan.response)
            let bytes: [UInt8] = try DeltaResponseSerializer().serialize(wire)
            let decoded = try Envoy_Service_Discovery_V3_DeltaDiscoveryResponse(serializedBytes: bytes)
            #expect(decoded == wire.message)
            #expect(decoded.nonce.count == DeltaSession.nonceWidth)
            #expect(decoded.nonce == String(repeating: "0", count: 16 - String(counter, radix: 16).count) + String(counter, radix: 16))
            // Serialised field by field, the response is the same message.
            let plain: [UInt8] = try DeltaResponseSerializer().serialize(
                DeltaResponseWire(header: fields, resources: plan.resources))
            #expect(try Envoy_Service_Discovery_V3_DeltaDiscoveryResponse(serializedBytes: plain) == decoded)
        }
        #expect(Set(plan.resources.map(\.name)) == ["a", "b"])
        #expect(plan.removed == ["gone"])
    }
}
