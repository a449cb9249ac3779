// The demo's sample workload: a small HTTP/1.1 echo app bound to its pod's address.
//
//   swift run echo --listen 127.0.2.10:8080 --name echo-0
//
// It answers every request with a JSON line naming itself and its caller: the caller's address
// and, when the mesh delivered the connection with a PROXY v2 header (ztunnel does for
// workloads with a PROXY application tunnel), the caller's SPIFFE identity as the mesh verified it.
import ArgumentParser
import Foundation
import MeshL4
import NIOCore
import NIOPosix

@main
struct Echo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "HTTP echo app reporting the caller identity the mesh told it.")

    @Option(help: "ip:port to listen on.")
    var listen: String
    @Option(help: "Name reported in responses.")
    var name = "echo"

    func run() async throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw ValidationError("--listen must be ip:port")
        }
        let host = String(listen[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let name = name
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EchoHandler(name: name)) }
            }
            .bind(host: host, port: port).get()
        FileHandle.standardError.write(Data("echo \(name) listening on \(listen)\n".utf8))
        try await channel.closeFuture.get()
    }
}

/// Reads an optional PROXY v2 header, then HTTP/1.1 requests (keep-alive unless the client
/// says `connection: close`); answers each with JSON.
final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let name: String
    private var buffer = ByteBuffer()
    private var proxyHeader: ProxyProtocolV2.Header?
    private var headerDone = false

    init(name: String) { self.name = name }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        if !headerDone {
            let prefix = ProxyProtocolV2.signature
            let head = buffer.readableBytesView.prefix(prefix.count)
            if head.elementsEqual(prefix.prefix(head.count)) {
                guard head.count == prefix.count else { return }
                do {
                    guard let header = try ProxyProtocolV2.parse(&buffer) else { return }
                    proxyHeader = header
                } catch {
                    context.close(promise: nil)
                    return
                }
            }
            headerDone = true
        }
        while let request = nextRequest() {
            respond(context: context, to: request)
            if !request.keepAlive { return }
        }
    }

    struct Request {
        var path: String
        var keepAlive: Bool
    }

    /// Takes one whole request (head and `content-length` body) off the buffer.
    private func nextRequest() -> Request? {
        let view = buffer.readableBytesView
        guard let end = view.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
        let head = String(decoding: view[..<end.lowerBound], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let requestLine = lines.first.map(String.init) ?? ""
        var contentLength = 0
        var close = requestLine.hasSuffix("HTTP/1.0")
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard parts.count == 2 else { continue }
            if parts[0] == "content-length" { contentLength = Int(parts[1]) ?? 0 }
            if parts[0] == "connection" { close = parts[1] == "close" }
        }
        let headLength = end.upperBound - view.startIndex
        guard buffer.readableBytes >= headLength + contentLength else { return nil }
        buffer.moveReaderIndex(forwardBy: headLength + contentLength)
        buffer.discardReadBytes()
        let path = requestLine.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        return Request(path: path, keepAlive: !close)
    }

    /// Answers with a JSON line; `?size=N` pads the body to N bytes (for load tests).
    private func respond(context: ChannelHandlerContext, to request: Request) {
        let peer = proxyHeader?.source ?? context.channel.remoteAddress
        let fields: [(String, String?)] = [
            ("app", name),
            ("path", request.path),
            ("peerAddress", peer.map(Self.text)),
            ("peerIdentity", proxyHeader?.identity),
            ("viaMesh", proxyHeader == nil ? "false" : "true"),
        ]
        var body = "{" + fields.map { key, value in
            "\"\(key)\":" + (value.map { "\"\($0)\"" } ?? "null")
        }.joined(separator: ",") + "}\n"
        if let query = request.path.split(separator: "?", maxSplits: 1).dropFirst().first,
            let size = query.split(separator: "&").first(where: { $0.hasPrefix("size=") }).flatMap({ Int($0.dropFirst(5)) }),
            size > body.utf8.count, size <= 1 << 20
        {
            body += String(repeating: "x", count: size - body.utf8.count - 1) + "\n"
        }
        let connection = request.keepAlive ? "keep-alive" : "close"
        let response = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\nconnection: \(connection)\r\n\r\n\(body)"
        let write = context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: response)))
        if !request.keepAlive {
            let channel = context.channel
            write.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    static func text(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        if case .v6 = address { return "[\(ip)]:\(port)" }
        return "\(ip):\(port)"
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
