import Foundation
import MeshL4
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// A connector that dials plain TCP (reads off, a ``RelayInputHold`` for what arrives before the
/// join) to `fixed`, or else to the request's destination, and records every request's destination.
final class TCPConnector: Sendable {
    let destinations = Mutex<[SocketAddress]>([])
    let fixed: SocketAddress?
    let failure: OutboundFailure?

    init(fixed: SocketAddress? = nil, failing failure: OutboundFailure? = nil) {
        self.fixed = fixed
        self.failure = failure
    }

    var calls: Int { destinations.withLock { $0.count } }

    var connector: OutboundConnector {
        { (request: OutboundRequest) async throws(OutboundFailure) -> any Channel in
            self.destinations.withLock { $0.append(request.destination) }
            if let failure = self.failure { throw failure }
            do {
                return try await ClientBootstrap(group: request.eventLoop)
                    .channelOption(.autoRead, value: false)
                    .channelOption(.allowRemoteHalfClosure, value: true)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(RelayInputHold())
                        }
                    }
                    .connect(to: self.fixed ?? request.destination).get()
            } catch {
                throw OutboundFailure(.refused, "\(error)")
            }
        }
    }
}

/// A plain TCP client as an async channel whose reads can wait for an exact byte count.
final class RawTCPClient {
    let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>

    init(to address: SocketAddress) async throws {
        channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(to: address) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
    }

    /// Runs `body` with a reader and the writer, then closes the connection (also on failure).
    func run<T>(_ body: (ByteReader, NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> T) async throws -> T {
        try await channel.executeThenClose { inbound, outbound in
            try await body(ByteReader(inbound), outbound)
        }
    }
}

/// Reads exact byte counts, or everything up to EOF, from an async inbound stream.
final class ByteReader {
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var buffer = ByteBuffer()

    init(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>) {
        iterator = inbound.makeAsyncIterator()
    }

    /// Exactly `count` bytes; throws when the stream ends first.
    func read(_ count: Int) async throws -> [UInt8] {
        while buffer.readableBytes < count {
            guard var next = try await iterator.next() else {
                throw TestFailure("EOF after \(buffer.readableBytes) of \(count) bytes")
            }
            buffer.writeBuffer(&next)
        }
        return buffer.readBytes(length: count)!
    }

    /// Everything until EOF.
    func readToEnd() async throws -> [UInt8] {
        while var next = try await iterator.next() { buffer.writeBuffer(&next) }
        return buffer.readBytes(length: buffer.readableBytes)!
    }
}

/// SOCKS5 client messages.
enum SOCKS5Bytes {
    static let greeting: [UInt8] = [5, 1, 0]
    static let methodSelected: [UInt8] = [5, 0]

    static func connect(_ address: SocketAddress) -> [UInt8] {
        let port = UInt16(address.port!)
        switch address {
        case .v4(let v4):
            return [5, 1, 0, 1] + withUnsafeBytes(of: v4.address.sin_addr) { Array($0) } + [UInt8(port >> 8), UInt8(port & 0xFF)]
        case .v6(let v6):
            return [5, 1, 0, 4] + withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) } + [UInt8(port >> 8), UInt8(port & 0xFF)]
        default:
            fatalError("not an IP address")
        }
    }

    static func connect(domain: String, port: Int) -> [UInt8] {
        [5, 1, 0, 3, UInt8(domain.utf8.count)] + Array(domain.utf8) + [UInt8(port >> 8), UInt8(port & 0xFF)]
    }
}

/// Finds an executable on `PATH` (and the sbin directories, where iptables lives).
func findTool(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
    return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// Whether this process runs as root.
var isRoot: Bool { getuid() == 0 }

struct ProcessOutput: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a command to completion without blocking a concurrency thread.
func runTool(_ executable: String, _ arguments: [String]) async throws -> ProcessOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return ProcessOutput(status: status, stdout: stdout, stderr: stderr)
}

/// Runs a command to completion, blocking (for cleanups in `defer`).
@discardableResult
func runToolBlocking(_ executable: String, _ arguments: [String]) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
}
