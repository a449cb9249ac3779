import Foundation
import NIOCore
import NIOPosix

/// One HTTP/1.1 GET as the demo's client pod makes it: from the pod's own address, optionally
/// through a SOCKS5 proxy (its node's ztunnel, port 15080).
struct MeshHTTPClient {
    enum Outcome: Equatable {
        /// The server answered.
        case response(status: Int, body: String)
        /// The SOCKS5 proxy refused with this reply code (2: denied by policy).
        case refused(reply: UInt8)
        /// The connection failed.
        case failed(String)
    }

    /// The source address to bind (the pod IP), or nil.
    var source: String?
    /// The SOCKS5 proxy (`ip`, `port`), or nil for a direct request.
    var proxy: (host: String, port: Int)?
    var timeout: Duration = .seconds(10)

    func get(host: String, port: Int, path: String = "/") async -> Outcome {
        do {
            return try await withThrowingTaskGroup(of: Outcome.self) { group in
                group.addTask { try await self.request(host: host, port: port, path: path) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return .failed("timed out after \(timeout)")
                }
                let first = try await group.next()!
                group.cancelAll()
                return first
            }
        } catch {
            return .failed("\(error)")
        }
    }

    private func request(host: String, port: Int, path: String) async throws -> Outcome {
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .channelOption(.allowRemoteHalfClosure, value: true)
        if let source { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: source, port: 0)) }
        let connectHost = proxy?.host ?? host
        let connectPort = proxy?.port ?? port
        let channel = try await bootstrap.connect(host: connectHost, port: connectPort) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                    wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
            }
        }
        return try await channel.executeThenClose { inbound, outbound in
            var received = ByteBuffer()
            var iterator = inbound.makeAsyncIterator()
            if proxy != nil {
                guard let ip = IPv4Octets(host) else { return .failed("\(host) is not an IPv4 address") }
                var hello = ByteBuffer(bytes: [5, 1, 0, 5, 1, 0, 1] + ip)
                hello.writeInteger(UInt16(port))
                try await outbound.write(hello)
                while received.readableBytes < 12 {
                    guard var chunk = try await iterator.next() else { return .failed("proxy closed during SOCKS5") }
                    received.writeBuffer(&chunk)
                }
                let reply = received.readBytes(length: 12)!
                guard reply[0] == 5, reply[1] == 0 else { return .failed("bad SOCKS5 method reply") }
                guard reply[3] == 0 else { return .refused(reply: reply[3]) }
            }
            try await outbound.write(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nhost: \(host)\r\nconnection: close\r\n\r\n"))
            while var chunk = try await iterator.next() { received.writeBuffer(&chunk) }
            let text = String(buffer: received)
            guard let statusLine = text.split(separator: "\r\n").first,
                let status = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
            else { return .failed(text.isEmpty ? "connection closed without a response" : "not an HTTP response") }
            let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
            return .response(status: status, body: body)
        }
    }

    private func IPv4Octets(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".").compactMap { UInt8($0) }
        return parts.count == 4 ? parts : nil
    }
}
