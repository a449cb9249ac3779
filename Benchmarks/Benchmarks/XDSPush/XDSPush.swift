// xDS push benchmarks (issue 3): 1,000 delta clients in another process, over gRPC on loopback.
import Benchmark
import Foundation
import MeshBenchSupport

/// The `xds-load-clients` executable, built beside this benchmark by `scripts/bench.sh`.
func loadClientsExecutable() -> String? {
    if let path = ProcessInfo.processInfo.environment["MESH_BENCH_LOAD_CLIENTS"] { return path }
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let candidate = here.appendingPathComponent("xds-load-clients").path
    return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
}

nonisolated(unsafe) var environment: XDSBenchEnvironment?  // set in setup, read by the closures, serially

let clientCount = Int(ProcessInfo.processInfo.environment["MESH_BENCH_CLIENTS"] ?? "") ?? 1000
/// `wire` (load-test delta clients that do not unpack resources, on SwiftNIO HTTP/2; the default),
/// `lean` (the same on grpc-swift) or `full` (XDSClient).
let clientVariant = LoadClients.Variant(rawValue: ProcessInfo.processInfo.environment["MESH_BENCH_XDS_CLIENT"] ?? "wire") ?? .wire
let clientLabel = "\(clientCount) \(clientVariant.rawValue) delta clients"
let perClient = BenchmarkMetric.custom("server RSS per client (KB)", polarity: .prefersSmaller, useScalingFactor: false)
let untilAcked = BenchmarkMetric.custom("until all ACKed (ms)", polarity: .prefersSmaller, useScalingFactor: false)
/// From the push until the last client received it (the instants the load-test clients record).
let untilReceived = BenchmarkMetric.custom("until all received (ms)", polarity: .prefersSmaller, useScalingFactor: false)

func start() async throws {
    guard let executable = loadClientsExecutable() else {
        throw BenchError("xds-load-clients not found next to the benchmark; build it (scripts/bench.sh does)")
    }
    environment = try await XDSBenchEnvironment(clients: clientCount, clientExecutable: executable, variant: clientVariant)
}

func stop() async throws {
    await environment?.stop()
    environment = nil
}

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, untilAcked, perClient],
        timeUnits: .milliseconds,
        warmupIterations: 1,
        maxDuration: .seconds(120),
        maxIterations: 5)

    Benchmark("xDS full push, \(clientLabel)", configuration: configuration) { benchmark in
        guard let environment else { return }
        let prepared = try environment.prepareFullPush()
        benchmark.startMeasurement()
        let elapsed = try await environment.push(prepared)
        benchmark.stopMeasurement()
        benchmark.measurement(untilAcked, elapsed.milliseconds)
        benchmark.measurement(perClient, Int(environment.currentKBPerClient.rounded()))
    } setup: {
        try await start()
    } teardown: {
        try await stop()
    }

    var incremental = configuration
    incremental.maxIterations = 20
    incremental.metrics = [.wallClock, untilAcked, untilReceived]
    Benchmark("xDS incremental push (1 endpoint set), \(clientLabel)", configuration: incremental) { benchmark in
        guard let environment else { return }
        let prepared = try environment.prepareIncrementalPush()
        benchmark.startMeasurement()
        let elapsed = try await environment.push(prepared)
        benchmark.stopMeasurement()
        benchmark.measurement(untilAcked, elapsed.milliseconds)
        if let received = environment.receivedByAll(prepared) {
            benchmark.measurement(untilReceived, received.milliseconds)
        }
    } setup: {
        try await start()
        _ = try await environment?.push(try environment!.prepareFullPush())
    } teardown: {
        try await stop()
    }

    var connected = configuration
    connected.metrics = [perClient]
    connected.maxIterations = 1
    connected.warmupIterations = 0
    Benchmark("xDS server memory, \(clientLabel) connected", configuration: connected) { benchmark in
        guard let environment else { return }
        benchmark.measurement(perClient, Int(environment.connectedKBPerClient.rounded()))
    } setup: {
        try await start()
    } teardown: {
        try await stop()
    }
}
