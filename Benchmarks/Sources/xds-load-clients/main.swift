// Connects N delta xDS clients to a server and keeps them running until standard input closes
// (the benchmark that started this process ended) or the process is terminated. Meanwhile it
// answers the benchmark's queries on standard input (see Receipts.serveQueries).
//
//   xds-load-clients --port P [--clients N] [--host H] [--client wire|lean|full]
import Foundation
import MeshBenchSupport

let args = CommandLine.arguments
func value(_ name: String) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}
guard let port = value("--port").flatMap(Int.init) else {
    FileHandle.standardError.write(Data("usage: xds-load-clients --port P [--clients N] [--host H] [--client wire|lean|full]\n".utf8))
    exit(2)
}
let count = value("--clients").flatMap(Int.init) ?? 1000
let host = value("--host") ?? "127.0.0.1"
guard let variant = LoadClients.Variant(rawValue: value("--client") ?? "wire") else {
    FileHandle.standardError.write(Data("--client: wire, lean or full\n".utf8))
    exit(2)
}
Thread.detachNewThread {
    Receipts.shared.serveQueries()
    exit(0)
}
try await LoadClients.run(host: host, port: port, count: count, variant: variant)
