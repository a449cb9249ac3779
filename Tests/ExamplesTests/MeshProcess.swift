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

/// A TCP connection through a SOCKS5 proxy made with plain sockets, held open by the test (curl
/// cannot keep one open across test steps).
final class HeldConnection {
    let fd: Int32

    /// Connects from `source` to `proxyIP:proxyPort`, asks for `destination:port` (IPv4).
    init(source: String, proxyIP: String, proxyPort: Int, destination: String, port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: errno \(errno)") }
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var local = Self.address(source, 0)
        var remote = Self.address(proxyIP, proxyPort)
        let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { close(fd); throw Failure("bind \(source): errno \(errno)") }
        let connected = withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { close(fd); throw Failure("connect \(proxyIP):\(proxyPort): errno \(errno)") }
        let octets = destination.split(separator: ".").compactMap { UInt8($0) }
        try send([5, 1, 0])
        guard try receive(2) == [5, 0] else { throw Failure("SOCKS5 method refused") }
        try send([5, 1, 0, 1] + octets + [UInt8(port >> 8), UInt8(port & 0xFF)])
        let reply = try receive(10)
        guard reply.count == 10, reply[1] == 0 else { throw Failure("SOCKS5 reply \(reply.count > 1 ? reply[1] : 255)") }
    }

    deinit { close(fd) }

    static func address(_ ip: String, _ port: Int) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, ip, &a.sin_addr)
        return a
    }

    func send(_ bytes: [UInt8]) throws {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw Failure("write: errno \(errno)") }
    }

    /// Reads up to `count` bytes; [] at end of stream. Throws on a reset or after 3 s of silence.
    func receive(_ count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, count) }
        guard n >= 0 else { throw Failure("read: errno \(errno)") }
        return Array(buffer.prefix(n))
    }

    /// One keep-alive HTTP GET; returns the response text read within one read call or more.
    func get(_ path: String) throws -> String {
        try send(Array("GET \(path) HTTP/1.1\r\nhost: mesh\r\n\r\n".utf8))
        var text = ""
        while !text.contains("\r\n\r\n") || !text.hasSuffix("\n}\n") && !text.hasSuffix("}\n") {
            let chunk = try receive(4096)
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        return text
    }

    /// Whether the connection was closed by the other side (EOF or reset) within 3 s.
    func isClosedByPeer() -> Bool {
        guard let chunk = try? receive(1) else { return errno != EAGAIN && errno != EWOULDBLOCK }
        return chunk.isEmpty
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
