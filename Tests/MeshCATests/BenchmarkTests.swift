import Foundation
import MeshAPI
import Testing

@testable import MeshCA

/// Throughput measurements; run with `MESH_BENCH=1` (they print signings per second).
@Suite("Benchmarks", .enabled(if: ProcessInfo.processInfo.environment["MESH_BENCH"] == "1", "set MESH_BENCH=1"))
struct BenchmarkTests {
    @Test("CSR signings per second, in process, on all cores")
    func inProcessSigning() async throws {
        let authority = try makeAuthority()
        let identities = (0..<64).map { spiffe("bench", "sa\($0)") }
        let csrs = try identities.map { try CSRBuilder.make(for: $0).csrPEM }
        let workers = ProcessInfo.processInfo.activeProcessorCount
        let perWorker = 4000
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    for index in 0..<perWorker {
                        let slot = (worker * perWorker + index) % identities.count
                        _ = try authority.sign(csrPEM: csrs[slot], for: identities[slot])
                    }
                    return perWorker
                }
            }
            for try await _ in group {}
        }
        let seconds = (ContinuousClock.now - start).timeInterval
        let rate = Double(workers * perWorker) / seconds
        print("BENCH in-process: \(workers * perWorker) signings in \(String(format: "%.2f", seconds)) s = \(Int(rate)) signings/s on \(workers) cores")
        #expect(rate > 0)
    }
}
