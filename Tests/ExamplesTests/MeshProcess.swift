import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A binary of this package started as a separate process, output in a log file, with the
/// ports it bound read from its `--ports-file`. Always stopped with ``stop()`` (SIGKILL: a
/// child of the test runner can inherit a signal mask that blocks SIGTERM) or ``terminate()``.
final class MeshProcess: @unchecked Sendable {
    // @unchecked: `process` is used from one test task at a time.
    let name: String
    let process = Process()
    let logURL: URL
    private(set) var ports: [String: Int] = [:]

    /// Starts `binary` (a product of this package), inside network namespace `netns` if given.
    init(
        _ binary: String, name: String? = nil, arguments: [String], scratch: URL, portsFile: URL? = nil, expectPorts: Int = 1,
        netns: String? = nil
    ) throws {
        self.name = name ?? binary
        logURL = scratch.appendingPathComponent("\(self.name)-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let executable = BinaryRunner.productsDirectory.appendingPathComponent(binary)
        let all = arguments + (portsFile.map { ["--ports-file", $0.path] } ?? [])
        if let netns {
            // `ip netns exec` execs the binary, so the pid stays the binary's.
            process.executableURL = URL(fileURLWithPath: NetworkNamespace.ipTool)
            process.arguments = ["netns", "exec", netns, executable.path] + all
        } else {
            process.executableURL = executable
            process.arguments = all
        }
        process.standardOutput = try FileHandle(forWritingTo: logURL)
        process.standardError = process.standardOutput
        try process.run()
        guard let portsFile else { return }
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, process.isRunning {
            if let data = FileManager.default.contents(atPath: portsFile.path),
                let parsed = try? JSONSerialization.jsonObject(with: data) as? [String: Int], parsed.count >= expectPorts
            {
                ports = parsed
                return
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        stop()
        throw StartError(name: self.name, log: log)
    }

    struct StartError: Error, CustomStringConvertible {
        var name: String
        var log: String
        var description: String { "\(name) did not start:\n\(log)" }
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// SIGTERM; returns whether it exited within `timeout` (SIGKILL otherwise).
    func terminate(timeout: TimeInterval = 15) -> Bool {
        guard process.isRunning else { return true }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let exited = !process.isRunning
        stop()
        return exited
    }
}

/// `curl` as the unmodified client application.
enum Curl {
    struct Result {
        var exitCode: Int32
        var body: String
        var stderr: String
    }

    static var path: String? {
        ["/usr/bin/curl", "/bin/curl", "/usr/local/bin/curl"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `curl -sS [--interface src] [--socks5 proxy] url` with a deadline.
    static func get(_ url: String, interface: String? = nil, socks5: String? = nil, timeout: TimeInterval = 10) throws -> Result {
        guard let path else { throw CurlMissing() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        var arguments = ["-sS", "--max-time", String(Int(timeout))]
        if let interface { arguments += ["--interface", interface] }
        if let socks5 { arguments += ["--socks5", socks5] }
        process.arguments = arguments + [url]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let body = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            exitCode: process.terminationStatus, body: String(decoding: body, as: UTF8.self),
            stderr: String(decoding: errors, as: UTF8.self))
    }

    struct CurlMissing: Error, CustomStringConvertible {
        var description: String { "curl is not installed (scripts/test installs it)" }
    }
}

func eventuallyTrue(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
