import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A binary the demo starts (istiod, a ztunnel, an app), its output in a log file, stopped with
/// SIGTERM and, if it has not exited within the grace period, SIGKILL.
final class ChildProcess: @unchecked Sendable {
    // @unchecked: `process` is only touched from the demo's single task, one call at a time.
    let name: String
    let logURL: URL
    private let process = Process()

    init(name: String, executable: URL, arguments: [String], logDirectory: URL) throws {
        self.name = name
        logURL = logDirectory.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var isRunning: Bool { process.isRunning }
    var pid: Int32 { process.processIdentifier }

    /// SIGTERM, wait up to `grace`, then SIGKILL. Returns whether it exited on SIGTERM alone.
    @discardableResult
    func stop(grace: TimeInterval = 10) -> Bool {
        guard process.isRunning else { return true }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return false
        }
        return true
    }

    /// Kills at once.
    func kill9() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The last lines of its log, for error reports.
    func logTail(lines: Int = 15) -> String {
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }
}
