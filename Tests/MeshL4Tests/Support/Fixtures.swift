import Crypto
import Foundation
import Logging
import MeshAPI
import MeshCA
import MeshL4
import Metrics
import MetricsTestKit
import NIOCore
import NIOPosix
import Synchronization

func spiffe(_ ns: String, _ sa: String, td: String = "cluster.local") -> SpiffeID {
    try! SpiffeID(trustDomain: td, namespace: ns, serviceAccount: sa)
}

/// A quiet logger for the code under test (warnings and errors only).
let quietLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}()

/// An in-process CA with a self-signed root in a temporary directory.
final class TestCA: Sendable {
    let authority: CertificateAuthority
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("meshl4-ca-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        authority = try CertificateAuthority.selfSigned(directory: directory)
        try? FileManager.default.removeItem(at: directory)
    }

    /// The mesh CA shared by tests.
    static let shared = try! TestCA()
    /// A second, unrelated root.
    static let other = try! TestCA()

    func certificate(for identity: SpiffeID) async throws -> WorkloadCertificate {
        try await WorkloadIdentity(
            identity: identity, requester: LocalCertificateRequester(authority: authority, identity: identity)
        ).refresh()
    }

    func credentials(for identity: SpiffeID) async throws -> HBONECredentials {
        try HBONECredentials(certificate: try await certificate(for: identity))
    }
}

/// Test metrics, bootstrapped once per process.
enum TestMetricsBox {
    static let metrics: TestMetrics = {
        let metrics = TestMetrics()
        MetricsSystem.bootstrap(metrics)
        return metrics
    }()
}

/// Deterministic pseudo-random bytes (xorshift64*), fast enough for 100 MB in debug builds.
func randomBytes(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    var state = seed | 1
    bytes.withUnsafeMutableBytes { raw in
        let words = count / 8
        let base = raw.baseAddress!
        for index in 0..<words {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            base.storeBytes(of: state &* 0x2545_F491_4F6C_DD1D, toByteOffset: index * 8, as: UInt64.self)
        }
        for index in (words * 8)..<count { raw[index] = UInt8(truncatingIfNeeded: state >> (index % 8)) }
    }
    return bytes
}

func sha256Hex<D: DataProtocol>(_ data: D) -> String {
    SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
}

/// A free loopback TCP port (bound and released; a small race is accepted in tests).
func freePort() throws -> Int {
    let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0).wait()
    let port = channel.localAddress!.port!
    try channel.close().wait()
    return port
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 10 ms until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}

/// Runs `body` with a timeout; throws when it does not finish in time.
func withTimeout<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            throw TestFailure("timed out after \(timeout)")
        }
        group.cancelAll()
        return value
    }
}

/// A logger that keeps every message (with metadata) in memory, for failure reports.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    func logger(_ label: String, level: Logger.Level = .debug) -> Logger {
        var logger = Logger(label: label) { _ in Handler(log: self) }
        logger.logLevel = level
        return logger
    }

    fileprivate func append(_ line: String) { lines.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            let fields = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            log.append("\(event.level) \(event.message) \(fields)")
        }
    }
}
