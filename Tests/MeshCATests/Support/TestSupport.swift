import Foundation
import MeshAPI
import Testing
import X509

@testable import MeshCA

/// A temporary directory removed when the closure returns.
func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("meshca-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try await body(url)
}

func spiffe(_ ns: String, _ sa: String, td: String = "cluster.local") -> SpiffeID {
    try! SpiffeID(trustDomain: td, namespace: ns, serviceAccount: sa)
}

/// An authority with an in-memory self-signed root.
func makeAuthority(
    configuration: CertificateAuthority.Configuration = .init(), algorithm: KeyAlgorithm = .ecdsaP256
) throws -> CertificateAuthority {
    let root = try SigningAuthority.makeSelfSignedRoot(trustDomain: configuration.trustDomain, algorithm: algorithm)
    return try CertificateAuthority(signer: root, configuration: configuration)
}

/// External peers (OpenSSL CLI, Python `cryptography`). Tests that need one are skipped when it is
/// missing, unless `MESH_REQUIRE_PEERS=1`, in which case they run and fail.
enum Peers {
    static var required: Bool { ProcessInfo.processInfo.environment["MESH_REQUIRE_PEERS"] == "1" }

    static func which(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    static let openssl: String? = which("openssl")

    static let python: String? = {
        let name = ProcessInfo.processInfo.environment["MESH_PYTHON"] ?? "python3"
        guard let exe = which(name) else { return nil }
        guard let result = try? run(exe, ["-c", "import cryptography"]), result.status == 0 else { return nil }
        return exe
    }()

    static var opensslOrRequired: Bool { openssl != nil || required }
    static var pythonOrRequired: Bool { python != nil || required }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program to completion; with `timeoutSeconds`, through coreutils `timeout` when present.
    static func run(
        _ executable: String, _ arguments: [String], stdin: String? = nil, timeoutSeconds: Int? = nil
    ) throws -> Result {
        let process = Process()
        if let timeoutSeconds, let timeout = which("timeout") {
            process.executableURL = URL(fileURLWithPath: timeout)
            process.arguments = ["\(timeoutSeconds)", executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Read both pipes to the end before waiting, so a chatty child cannot block.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}

extension String {
    func write(to url: URL) throws { try self.write(to: url, atomically: true, encoding: .utf8) }
}
