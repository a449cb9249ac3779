import Foundation
import Testing

@testable import MeshDiscovery

@Suite struct BenchmarkTests {
    /// Runs only with `MESH_BENCH=1`; prints the numbers (a debug build is much slower than release).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["MESH_BENCH"] == "1"))
    func buildAndUpdate() async {
        let result = await ModelBenchmark.run()
        print("MeshDiscovery benchmark: \(result)")
        #expect(result.workloads == 10_000)
        #expect(result.endpoints == 10_000)
    }

    /// A smaller, always-on version checking that updates stay incremental.
    @Test func updatesAreIncremental() async {
        let mesh = MeshModel()
        for s in 0..<20 {
            mesh.upsert(ModelBenchmark.service(ns: 0, service: s))
            for r in 0..<10 { mesh.upsert(ModelBenchmark.pod(ns: 0, service: s, replica: r)) }
        }
        let events = mesh.events()
        mesh.upsert(ModelBenchmark.pod(ns: 0, service: 3, replica: 4, revision: 9))
        let got = await collect(events, count: 1)
        #expect(got.map(describe) == ["~workload \(podUID("ns-0", "svc-3-4"))"])
        #expect(mesh.endpoints(service: host("svc-3", "ns-0")).count == 10)
        #expect(mesh.endpoints(service: host("svc-3", "ns-0")).first?.ports == [80: 8080, 9000: 9000])
    }
}
