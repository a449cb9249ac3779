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

/// Reads an optional PROXY v2 header, then one HTTP request per connection; answers with JSON.
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
        guard let end = buffer.readableBytesView.firstRange(of: Array("\r\n\r\n".utf8)) else { return }
        let requestText = String(decoding: buffer.readableBytesView[..<end.lowerBound], as: UTF8.self)
        let requestLine = requestText.split(separator: "\r\n").first.map(String.init) ?? ""
        let path = requestLine.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        let peer = proxyHeader?.source ?? context.channel.remoteAddress
        let fields: [(String, String?)] = [
            ("app", name),
            ("path", path),
            ("peerAddress", peer.map(Self.text)),
            ("peerIdentity", proxyHeader?.identity),
            ("viaMesh", proxyHeader == nil ? "false" : "true"),
        ]
        let body = "{" + fields.map { key, value in
            "\"\(key)\":" + (value.map { "\"\($0)\"" } ?? "null")
        }.joined(separator: ",") + "}\n"
        let response = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\nconnection: close\r\n\r\n\(body)"
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: response))).whenComplete { _ in
            channel.close(promise: nil)
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
