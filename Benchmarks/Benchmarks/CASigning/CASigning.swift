// CSR signing throughput (issue 4): in process and over Istio's CA gRPC service (TLS + JWT).
import Benchmark
import Foundation
import MeshBenchSupport

nonisolated(unsafe) var environment: CABenchEnvironment?  // set in setup, read by the closures, serially
nonisolated(unsafe) var grpc: CABenchEnvironment.GRPCSetup?

let cores = ProcessInfo.processInfo.activeProcessorCount
let signingsPerSecond = BenchmarkMetric.custom("signings/s", polarity: .prefersLarger, useScalingFactor: false)

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, signingsPerSecond],
        timeUnits: .milliseconds,
        warmupIterations: 1,
        maxDuration: .seconds(60),
        maxIterations: 5)

    let inProcessCount = 10_000
    Benchmark("CA sign \(inProcessCount) CSRs in process, \(cores) tasks", configuration: configuration) { benchmark in
        guard let environment else { return }
        benchmark.startMeasurement()
        let elapsed = try await environment.signInProcess(count: inProcessCount, concurrency: cores)
        benchmark.stopMeasurement()
        benchmark.measurement(signingsPerSecond, Int(Double(inProcessCount) / elapsed.seconds))
    } setup: {
        environment = try CABenchEnvironment()
    } teardown: {
        environment = nil
    }

    let grpcCount = 3_200
    Benchmark("CA sign \(grpcCount) CSRs over gRPC+TLS+JWT, 32 concurrent calls", configuration: configuration) { benchmark in
        guard let grpc else { return }
        benchmark.startMeasurement()
        let elapsed = try await grpc.sign(count: grpcCount, concurrency: 32)
        benchmark.stopMeasurement()
        benchmark.measurement(signingsPerSecond, Int(Double(grpcCount) / elapsed.seconds))
    } setup: {
        let env = try CABenchEnvironment()
        environment = env
        grpc = try await env.startGRPC()
    } teardown: {
        await grpc?.stop()
        grpc = nil
        environment = nil
    }
}
