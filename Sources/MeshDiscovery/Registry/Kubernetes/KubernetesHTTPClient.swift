import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Errors talking to the API server.
public enum KubernetesClientError: Error, Sendable, CustomStringConvertible {
    /// The server answered with a non-success status.
    case status(code: Int, body: String)
    /// TLS material could not be used (bad PEM, no certificate in a bundle).
    case tls(String)
    /// The response was cut short or malformed.
    case protocolError(String)
    /// A response body exceeded the limit.
    case bodyTooLarge(limit: Int)

    public var description: String {
        switch self {
        case .status(let code, let body): return "API server answered \(code): \(body.prefix(300))"
        case .tls(let why): return "TLS to the API server: \(why)"
        case .protocolError(let why): return "bad response from API server: \(why)"
        case .bodyTooLarge(let limit): return "response body larger than \(limit) bytes"
        }
    }
}

/// A minimal HTTP/1.1 GET client for the Kubernetes API, on SwiftNIO: one connection per
/// request, so a watch owns its connection and cancelling the task closes it.
struct KubernetesHTTPClient: Sendable {
    let connection: KubernetesConnection
    let group: any EventLoopGroup
    /// Largest list response accepted.
    let maximumBodySize = 512 << 20

    /// Runs and caches the kubeconfig's exec plugin, if any.
    let execCredentials: KubernetesExecCredentialCache?

    init(connection: KubernetesConnection, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.connection = connection
        self.group = group
        execCredentials = connection.exec.map(KubernetesExecCredentialCache.init(plugin:))
    }

    typealias Channel = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>

    /// The connection with the exec plugin's current credential applied.
    private func resolvedConnection() async throws -> KubernetesConnection {
        var connection = self.connection
        if let execCredentials {
            let credential = try await execCredentials.credential()
            if let token = credential.token { connection.token = token }
            if let certificate = credential.clientCertificatePEM, let key = credential.clientKeyPEM {
                connection.clientCertificatePEM = certificate
                connection.clientKeyPEM = key
            }
        }
        return connection
    }

    private func open(_ connection: KubernetesConnection) async throws -> Channel {
        let tlsContext =
            connection.scheme == "https" && connection.tlsConfigurator == nil
            ? try KubernetesTLS.makeContext(for: connection) : nil
        return try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(10))
            .channelOption(ChannelOptions.socketOption(.so_keepalive), value: 1)
            .connect(host: connection.host, port: connection.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls = connection.tlsConfigurator, connection.scheme == "https" {
                        try tls(channel.pipeline.syncOperations, connection)
                    } else if let tlsContext {
                        try KubernetesTLS.addHandler(to: channel.pipeline.syncOperations, context: tlsContext, connection: connection)
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try Channel(wrappingChannelSynchronously: channel)
                }
            }
    }

    private func requestHead(_ uri: String, _ connection: KubernetesConnection) -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: uri)
        head.headers.add(name: "Host", value: "\(connection.host):\(connection.port)")
        head.headers.add(name: "Accept", value: "application/json")
        head.headers.add(name: "User-Agent", value: "swiftmesh-discovery")
        head.headers.add(name: "Connection", value: "close")
        if let token = connection.token { head.headers.add(name: "Authorization", value: "Bearer \(token)") }
        return head
    }

    /// GETs `uri` and returns the status and the whole body.
    func get(_ uri: String) async throws -> (status: Int, body: Data) {
        let connection = try await resolvedConnection()
        let channel = try await open(connection)
        let limit = maximumBodySize
        return try await channel.executeThenClose { inbound, outbound in
            // A server may answer and close before the request's end is flushed (a 410 for a
            // watch, say): the response still counts, so a failed write is reported only
            // when no response arrives.
            var writeError: (any Error)?
            do { try await outbound.write(contentsOf: [.head(requestHead(uri, connection)), .end(nil)]) } catch { writeError = error }
            var status: Int?
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let head): status = Int(head.status.code)
                case .body(var chunk):
                    guard body.readableBytes + chunk.readableBytes <= limit else { throw KubernetesClientError.bodyTooLarge(limit: limit) }
                    body.writeBuffer(&chunk)
                case .end:
                    guard let status else { throw KubernetesClientError.protocolError("no response head") }
                    return (status, Data(body.readableBytesView))
                }
            }
            throw writeError ?? KubernetesClientError.protocolError("connection closed before the response ended")
        }
    }

    /// GETs `uri` and calls `line` for each newline-terminated line of a 200 response body
    /// as it arrives (a watch). Returns when the server ends the response; throws
    /// ``KubernetesClientError/status(code:body:)`` for any other status.
    func stream(_ uri: String, line: (Data) async throws -> Void) async throws {
        let connection = try await resolvedConnection()
        let channel = try await open(connection)
        try await channel.executeThenClose { inbound, outbound in
            // A server may answer and close before the request's end is flushed (a 410 for a
            // watch, say): the response still counts, so a failed write is reported only
            // when no response arrives.
            var writeError: (any Error)?
            do { try await outbound.write(contentsOf: [.head(requestHead(uri, connection)), .end(nil)]) } catch { writeError = error }
            var status: Int?
            var pending = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let head): status = Int(head.status.code)
                case .body(var chunk):
                    pending.writeBuffer(&chunk)
                    guard status == 200 else { continue }
                    while let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                        let length = newline - pending.readerIndex
                        let bytes = Data(pending.readBytes(length: length)!)
                        pending.moveReaderIndex(forwardBy: 1)
                        if !bytes.isEmpty { try await line(bytes) }
                    }
                    pending.discardReadBytes()
                    if pending.readableBytes > maximumBodySize { throw KubernetesClientError.bodyTooLarge(limit: maximumBodySize) }
                case .end:
                    guard let status else { throw KubernetesClientError.protocolError("no response head") }
                    guard status == 200 else {
                        throw KubernetesClientError.status(code: status, body: String(decoding: pending.readableBytesView, as: UTF8.self))
                    }
                    if pending.readableBytes > 0 { try await line(Data(pending.readBytes(length: pending.readableBytes)!)) }
                    return
                }
            }
            throw writeError ?? KubernetesClientError.protocolError("connection closed before the response ended")
        }
    }
}
