import Foundation
import Testing

/// Finds the real peers the interop tests run against.
enum Peers {
    /// Whether a missing peer must fail the test (CI sets `MESH_REQUIRE_PEERS=1`).
    static var required: Bool { ProcessInfo.processInfo.environment["MESH_REQUIRE_PEERS"] == "1" }

    static var python: String {
        if let python = ProcessInfo.processInfo.environment["MESH_PYTHON"], !python.isEmpty { return python }
        // The repo's venv, if scripts/test or a developer made one.
        let venv = repoRoot.appendingPathComponent(".venv/bin/python").path
        if FileManager.default.isExecutableFile(atPath: venv) { return venv }
        return "/usr/bin/python3"
    }

    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The Envoy binary: `$MESH_ENVOY`, or `envoy/_bin/envoy` next to the `envoy` module of `$MESH_PYTHON`.
    static let envoy: String? = {
        if let path = ProcessInfo.processInfo.environment["MESH_ENVOY"], !path.isEmpty {
            return FileManager.default.isExecutableFile(atPath: path) ? path : nil
        }
        guard let out = try? run(python, ["-c", "import envoy, os; print(os.path.dirname(envoy.__file__))"]),
            out.status == 0
        else { return nil }
        let dir = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let path = dir + "/_bin/envoy"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()

    /// Whether `$MESH_PYTHON` can import grpc.
    static let grpcio: Bool = {
        (try? run(python, ["-c", "import grpc"]))?.status == 0
    }()

    static var envoyAvailableOrOptional: Bool { envoy != nil || required }
    static var grpcioAvailableOrOptional: Bool { grpcio || required }

    /// Records a failure when a required peer is missing; returns false when the test must stop.
    static func need(_ available: Bool, _ what: String) -> Bool {
        if available { return true }
        Issue.record("\(what) is required (MESH_REQUIRE_PEERS=1) but was not found; run scripts/test or install requirements.txt into .venv")
        return false
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a short command to completion.
    static func run(_ executable: String, _ arguments: [String], cwd: URL? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let cwd { process.currentDirectoryURL = cwd }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }
}

/// A child process that is killed when the value is stopped (call `stop()` in a `defer`).
final class ChildProcess {
    let process = Process()
    let log: URL

    init(_ executable: String, _ arguments: [String], log: URL, environment: [String: String]? = nil) throws {
        self.log = log
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        if let environment {
            var env = ProcessInfo.processInfo.environment
            for (key, value) in environment { env[key] = value }
            process.environment = env
        }
        try process.run()
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(3)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
    }
}

/// A fresh temporary directory, removed by `remove()`.
struct TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("meshxds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> URL { url.appendingPathComponent(name) }
    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes.
func eventually(
    timeout: Duration = .seconds(10), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// Plain HTTP GET with curl (no proxy); returns the body, or nil on failure.
func httpGet(_ url: String, extra: [String] = []) -> String? {
    guard let out = try? Peers.run("/usr/bin/curl", ["-s", "--noproxy", "*", "-m", "2", "-f"] + extra + [url]),
        out.status == 0
    else { return nil }
    return out.stdout
}
