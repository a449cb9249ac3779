// Plain runner of the SwiftMesh benchmarks: prints results, one line each.
//
//   mesh-bench ca  [--count N]
//   mesh-bench xds [--clients N] [--clusters N] [--listeners N] [--full N] [--incremental N] [--in-process]
//                  [--client wire|lean|full]   (wire: load-test delta clients on SwiftNIO HTTP/2, the default;
//                                               lean: the same on grpc-swift; full: XDSClient)
import CoreMetrics
import Foundation
import MeshBenchSupport

func option(_ name: String, _ fallback: Int) -> Int {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count, let value = Int(args[i + 1]) else { return fallback }
    return value
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

let cores = ProcessInfo.processInfo.activeProcessorCount
let what = CommandLine.arguments.dropFirst().first ?? "all"

if what == "ca" || what == "all" {
    let env = try CABenchEnvironment()
    let count = option("--count", 20_000)
    _ = try await env.signInProcess(count: 200, concurrency: cores)  // warm up
    var rates: [Double] = []
    var cpu: [Double] = []
    for _ in 0..<3 {
        let cpuBefore = ProcessStats.cpuSeconds()
        let elapsed = try await env.signInProcess(count: count, concurrency: cores)
        cpu.append((ProcessStats.cpuSeconds() - cpuBefore) / Double(count))
        rates.append(Double(count) / elapsed.seconds)
    }
    print("ca.in-process: \(Int(median(rates))) signings/s (median of 3 runs of \(count), \(cores) tasks; runs: \(rates.map { Int($0) }))")
    print("ca.in-process cpu: \(Int(median(cpu) * 1e6)) µs CPU per signing = \(Int(Double(cores) / median(cpu))) signings/s if \(cores) cores were free")
    let grpc = try await env.startGRPC()
    let calls = option("--grpc-count", 4800)
    var grpcRates: [Double] = []
    for _ in 0..<3 {
        let elapsed = try await grpc.sign(count: calls, concurrency: 32)
        grpcRates.append(Double(calls) / elapsed.seconds)
    }
    await grpc.stop()
    print("ca.grpc: \(Int(median(grpcRates))) signings/s (median of 3 runs of \(calls); TLS, JWT, 32 concurrent calls on one connection; runs: \(grpcRates.map { Int($0) }))")
}

if what == "xds" || what == "all" {
    let clients = option("--clients", 1000)
    let inProcess = CommandLine.arguments.contains("--in-process")
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("xds-load-clients").path
    let args = CommandLine.arguments
    let variantName = args.firstIndex(of: "--client").flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } ?? "wire"
    guard let variant = LoadClients.Variant(rawValue: variantName) else {
        FileHandle.standardError.write(Data("--client: wire, lean or full\n".utf8))
        exit(2)
    }
    // The server's pilot_xds_push_time tells when it had written a push to every client.
    MetricsSystem.bootstrap(PushWrites.shared)
    let env = try await XDSBenchEnvironment(
        clients: clients, clusters: option("--clusters", 1000), listeners: option("--listeners", 100),
        clientExecutable: inProcess ? nil : executable, variant: variant)
    let about: String
    switch variant {
    case .lean: about = "load-test delta clients on grpc-swift, resources not unpacked"
    case .wire: about = "load-test delta clients on SwiftNIO HTTP/2 without a gRPC library, resources not unpacked"
    case .full: about = "XDSClient, every resource decoded"
    }
    print("xds.clients: \(variant.rawValue) (\(about))")
    print("xds.connected: \(clients) clients; server RSS \(env.residentBeforeKB) KB before, \(env.residentConnectedKB) KB connected = \(String(format: "%.1f", env.connectedKBPerClient)) KB per client\(inProcess ? " (clients in process)" : "")")
    var full: [Double] = []
    for _ in 0..<option("--full", 3) {
        let prepared = try env.prepareFullPush()
        let before = env.cpuSeconds
        let elapsed = try await env.push(prepared)
        let after = env.cpuSeconds
        full.append(elapsed.seconds)
        print("xds.full-push: \(elapsed.milliseconds) ms until all \(clients) clients ACKed CDS+EDS+LDS; CPU: server \(Int((after.server - before.server) * 1000)) ms, clients \(Int((after.clients - before.clients) * 1000)) ms")
        if let received = env.receivedByAll(prepared) {
            print("xds.full-push received: \(received.milliseconds) ms until all \(clients) clients had received CDS+EDS+LDS (receipt instants recorded in the client process)")
        }
    }
    print("xds.loaded: server RSS \(String(format: "%.1f", env.currentKBPerClient)) KB per client after full pushes")
    var incremental: [Double] = []
    var incrementalCPU: [(Double, Double)] = []
    var incrementalReceived: [Double] = []
    var incrementalWritten: [Double] = []
    var writeSpreads: [[Double]] = []  // per push: the 10th, 50th and 90th percentile stream
    for _ in 0..<option("--incremental", 10) {
        let prepared = try env.prepareIncrementalPush()
        PushWrites.shared.reset()
        let before = env.cpuSeconds
        incremental.append(try await env.push(prepared).seconds)
        let after = env.cpuSeconds
        incrementalCPU.append((after.server - before.server, after.clients - before.clients))
        if let received = env.receivedByAll(prepared) { incrementalReceived.append(received.seconds) }
        let writes = PushWrites.shared.sortedNanoseconds
        incrementalWritten.append(Double(writes.last ?? 0) / 1e9)
        if !writes.isEmpty { writeSpreads.append([0.1, 0.5, 0.9].map { Double(writes[Int(Double(writes.count - 1) * $0)]) / 1e9 }) }
    }
    print("xds.incremental CPU (median): server \(Int(median(incrementalCPU.map(\.0)) * 1000)) ms, clients \(Int(median(incrementalCPU.map(\.1)) * 1000)) ms")
    print("xds.full-push median: \(Int(median(full) * 1000)) ms; xds.incremental median: \(Int(median(incremental) * 1000)) ms (runs: \(incremental.map { Int($0 * 1000) }) ms)")
    if !incrementalReceived.isEmpty {
        print("xds.incremental received median: \(Int(median(incrementalReceived) * 1000)) ms until all \(clients) clients had received the new EDS (receipt instants recorded in the client process; the ACK figure above also waits for the ACKs to reach the server; runs: \(incrementalReceived.map { Int($0 * 1000) }) ms)")
    }
    print("xds.incremental written median: \(Int(median(incrementalWritten) * 1000)) ms until the server had written the new EDS to all \(clients) streams (its longest pilot_xds_push_time; runs: \(incrementalWritten.map { Int($0 * 1000) }) ms)")
    if !writeSpreads.isEmpty {
        let spread = (0..<3).map { i in Int(median(writeSpreads.map { $0[i] }) * 1000) }
        print("xds.incremental written spread: 10% of streams by \(spread[0]) ms, half by \(spread[1]) ms, 90% by \(spread[2]) ms (medians over runs of pilot_xds_push_time's percentiles)")
    }
    await env.stop()
}
