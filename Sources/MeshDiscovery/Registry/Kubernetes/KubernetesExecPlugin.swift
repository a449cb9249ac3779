import Foundation
import Synchronization

/// A kubeconfig `exec` credential plugin (`client.authentication.k8s.io`): a command that
/// prints an `ExecCredential` whose `status` holds a bearer token or a client certificate,
/// as cloud providers' `gke-gcloud-auth-plugin` or `aws eks get-token` do.
public struct KubernetesExecPlugin: Sendable, Hashable {
    /// The program (a path, or a name looked up in `PATH`).
    public var command: String
    /// Its arguments.
    public var arguments: [String]
    /// Extra environment variables.
    public var environment: [String: String]
    /// The `apiVersion` the plugin speaks, e.g. `client.authentication.k8s.io/v1`.
    public var apiVersion: String
    /// Directory relative commands are resolved against (the kubeconfig's directory).
    public var baseDirectory: String?

    /// Creates a plugin description.
    public init(
        command: String, arguments: [String] = [], environment: [String: String] = [:],
        apiVersion: String = "client.authentication.k8s.io/v1", baseDirectory: String? = nil
    ) {
        self.command = command
        self.arguments = arguments
        self.environment = environment
        self.apiVersion = apiVersion
        self.baseDirectory = baseDirectory
    }
}

/// What an exec plugin returned.
public struct KubernetesExecCredential: Sendable, Hashable {
    /// Bearer token.
    public var token: String?
    /// PEM client certificate.
    public var clientCertificatePEM: Data?
    /// PEM client key.
    public var clientKeyPEM: Data?
    /// When to run the plugin again; nil means the credential does not expire.
    public var expiration: Date?
}

/// Why an exec plugin gave no credential.
public struct KubernetesExecError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, naming the command.
    public var description: String
}

/// Runs an exec plugin and keeps its credential until it expires.
final class KubernetesExecCredentialCache: Sendable {
    let plugin: KubernetesExecPlugin
    private let cached = Mutex<KubernetesExecCredential?>(nil)
    /// How long before `expirationTimestamp` the plugin is run again.
    private let refreshMargin: TimeInterval = 10

    init(plugin: KubernetesExecPlugin) {
        self.plugin = plugin
    }

    /// The cached credential, or a fresh one from the plugin.
    func credential() async throws -> KubernetesExecCredential {
        if let current = cached.withLock({ $0 }),
            current.expiration.map({ $0.timeIntervalSinceNow > refreshMargin }) ?? true
        {
            return current
        }
        let fresh = try await run()
        cached.withLock { $0 = fresh }
        return fresh
    }

    /// Runs the plugin on its own thread (it blocks on the process) and parses its output.
    private func run() async throws -> KubernetesExecCredential {
        let plugin = self.plugin
        let output: Data = try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try Self.execute(plugin) })
            }.start()
        }
        return try Self.parse(output, plugin: plugin)
    }

    private static func execute(_ plugin: KubernetesExecPlugin) throws -> Data {
        let process = Process()
        var command = plugin.command
        if command.contains("/") {
            if !command.hasPrefix("/"), let base = plugin.baseDirectory { command = "\(base)/\(command)" }
            process.executableURL = URL(fileURLWithPath: command)
            process.arguments = plugin.arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [command] + plugin.arguments
        }
        var environment = ProcessInfo.processInfo.environment
        environment.merge(plugin.environment) { _, new in new }
        environment["KUBERNETES_EXEC_INFO"] =
            #"{"apiVersion":"\#(plugin.apiVersion)","kind":"ExecCredential","spec":{"interactive":false}}"#
        process.environment = environment
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw KubernetesExecError(description: "exec plugin \(plugin.command): cannot start: \(error)")
        }
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let why = String(decoding: errors.prefix(500), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw KubernetesExecError(
                description: "exec plugin \(plugin.command): exited with status \(process.terminationStatus): \(why)")
        }
        return data
    }

    static func parse(_ data: Data, plugin: KubernetesExecPlugin) throws -> KubernetesExecCredential {
        func fail(_ why: String) -> KubernetesExecError {
            KubernetesExecError(description: "exec plugin \(plugin.command): \(why)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw fail("output is not a JSON object")
        }
        guard object["kind"] as? String == "ExecCredential" else { throw fail("kind: expected ExecCredential") }
        guard let status = object["status"] as? [String: Any] else { throw fail("status: missing") }
        var credential = KubernetesExecCredential()
        credential.token = status["token"] as? String
        credential.clientCertificatePEM = (status["clientCertificateData"] as? String).map { Data($0.utf8) }
        credential.clientKeyPEM = (status["clientKeyData"] as? String).map { Data($0.utf8) }
        guard credential.token != nil || (credential.clientCertificatePEM != nil && credential.clientKeyPEM != nil) else {
            throw fail("status: needs token, or clientCertificateData and clientKeyData")
        }
        if let stamp = status["expirationTimestamp"] as? String {
            guard let date = ISO8601DateFormatter().date(from: stamp) else {
                throw fail("status.expirationTimestamp: not an RFC 3339 time: \(stamp)")
            }
            credential.expiration = date
        }
        return credential
    }
}
