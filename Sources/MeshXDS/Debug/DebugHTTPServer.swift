import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 server for a control plane's monitoring port (istiod's 15014): `GET`
/// routes answered by closures, e.g. `/ready`, `/metrics`, `/debug/syncz`.
public struct DebugHTTPServer: Sendable {
    /// One answer.
    public struct Response: Sendable {
        /// HTTP status code.
        public var status: Int
        /// `Content-Type`.
        public var contentType: String
        /// The body.
        public var body: String

        /// Creates a response.
        public init(status: Int = 200, contentType: String = "text/plain; charset=utf-8", body: String) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }

        /// A JSON body.
        public static func json(_ body: String, status: Int = 200) -> Response {
            Response(status: status, contentType: "application/json", body: body)
        }
    }

    /// A route handler: the query parameters in, a response out.
    public typealias Handler = @Sendable (_ query: [String: String]) async -> Response

    /// Handlers by path.
    public var routes: [String: Handler]
    private let logger: Logger

    /// Creates a server with `routes`.
    public init(routes: [String: Handler], logger: Logger = Logger(label: "swiftmesh.xds.debug")) {
        self.routes = routes
        self.logger = logger
    }

    /// Serves until cancelled; `onListening` gets the bound port (useful with port 0).
    public func serve(host: String, port: Int, onListening: @Sendable (Int) -> Void = { _ in }) async throws {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                        wrappingChannelSynchronously: child)
                }
            }
        onListening(channel.channel.localAddress?.port ?? port)
        try await withTaskCancellationHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await channel.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await handle(connection) }
                    }
                }
            }
        } onCancel: {
            channel.channel.close(promise: nil)
        }
    }

    private func handle(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let h): head = h
                    case .body: continue
                    case .end:
                        guard let head else { return }
                        let response = await respond(to: head)
                        var headers = HTTPHeaders()
                        headers.add(name: "Content-Type", value: response.contentType)
                        headers.add(name: "Content-Length", value: "\(response.body.utf8.count)")
                        let keepAlive = head.isKeepAlive
                        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
                        try await outbound.write(.head(HTTPResponseHead(
                            version: head.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)))
                        try await outbound.write(.body(.byteBuffer(ByteBuffer(string: response.body))))
                        try await outbound.write(.end(nil))
                        if !keepAlive { return }
                    }
                }
            }
        } catch {
            logger.debug("debug connection ended", metadata: ["error": "\(error)"])
        }
    }

    private func respond(to head: HTTPRequestHead) async -> Response {
        guard head.method == .GET else { return Response(status: 405, body: "method not allowed\n") }
        let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts[0])
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = String(kv[0]).removingPercentEncoding ?? String(kv[0])
                let value = kv.count == 2 ? (String(kv[1]).removingPercentEncoding ?? String(kv[1])) : ""
                query[key] = value
            }
        }
        guard let handler = routes[path] else {
            return Response(status: 404, body: "no route for \(path); try: \(routes.keys.sorted().joined(separator: ", "))\n")
        }
        return await handler(query)
    }
}
