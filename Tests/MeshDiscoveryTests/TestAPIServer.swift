import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tiny blocking HTTP/1.1 server on 127.0.0.1 and an ephemeral port, one thread per
/// connection, answering GETs from a handler: enough to play the Kubernetes API server
/// (lists, chunked watch streams, broken connections, 410s).
final class TestAPIServer: Sendable {
    struct Request: Sendable {
        var path: String
        var query: [String: String]
        var headers: [String: String]
    }

    /// How to answer a request.
    enum Response: Sendable {
        /// A complete response.
        case full(status: Int, body: String)
        /// A chunked 200 response: each line is written as its own chunk (after its delay);
        /// then the response ends cleanly (`breakAfter == false`) or the connection is
        /// dropped mid-stream (`true`).
        case stream(lines: [(delay: Duration, text: String)], breakAfter: Bool)
        /// A chunked 200 response that sends `lines` then stays open until the server stops.
        case hold(lines: [String])
    }

    let port: Int
    private let listener: Int32
    private let open = Mutex<Set<Int32>>([])
    private let stopped = Atomic<Bool>(false)
    private let log = Mutex<[Request]>([])

    init(handler: @escaping @Sendable (Request) -> Response) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 64) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        port = Int(UInt16(bigEndian: addr.sin_port))
        listener = fd
        let thread = Thread { [self] in acceptLoop(handler) }
        thread.start()
    }

    /// Every request received so far.
    var requests: [Request] { log.withLock { $0 } }

    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for fd in open.withLock({ $0 }) { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop(_ handler: @escaping @Sendable (Request) -> Response) {
        while !stopped.load(ordering: .relaxed) {
            let client = accept(listener, nil, nil)
            if client < 0 { if stopped.load(ordering: .relaxed) { return } else { continue } }
            open.withLock { _ = $0.insert(client) }
            Thread { [self] in
                serve(client, handler)
                open.withLock { _ = $0.remove(client) }
                close(client)
            }.start()
        }
    }

    private func send(_ fd: Int32, _ text: String) -> Bool {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    private func chunk(_ text: String) -> String { String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n" }

    private func serve(_ fd: Int32, _ handler: @Sendable (Request) -> Response) {
        var buffer = [UInt8]()
        var byte = [UInt8](repeating: 0, count: 4096)
        while !buffer.suffix(4).elementsEqual(Array("\r\n\r\n".utf8)) {
            let n = read(fd, &byte, byte.count)
            if n <= 0 { return }
            buffer += byte[0..<n]
            if buffer.count > 65536 { return }
        }
        let lines = String(decoding: buffer, as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2 else { return }
        let target = String(parts[1])
        let pathEnd = target.firstIndex(of: "?") ?? target.endIndex
        var query: [String: String] = [:]
        if pathEnd < target.endIndex {
            for pair in target[target.index(after: pathEnd)...].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                query[String(kv[0])] = kv.count > 1 ? String(kv[1]).removingPercentEncoding : ""
            }
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() where line.contains(":") {
            let kv = line.split(separator: ":", maxSplits: 1)
            headers[kv[0].lowercased()] = kv[1].trimmingCharacters(in: .whitespaces)
        }
        let request = Request(path: String(target[..<pathEnd]), query: query, headers: headers)
        log.withLock { $0.append(request) }
        switch handler(request) {
        case .full(let status, let body):
            _ = send(fd, "HTTP/1.1 \(status) X\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
        case .stream(let lines, let breakAfter):
            guard send(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n") else { return }
            for (delay, text) in lines {
                Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
                guard send(fd, chunk(text + "\n")) else { return }
            }
            if !breakAfter { _ = send(fd, "0\r\n\r\n") }
        case .hold(let lines):
            guard send(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n") else { return }
            for text in lines { guard send(fd, chunk(text + "\n")) else { return } }
            while !stopped.load(ordering: .relaxed) {
                // Returns 0 when the client closes or the server shuts the socket down.
                if read(fd, &byte, byte.count) <= 0 { return }
            }
        }
    }
}
