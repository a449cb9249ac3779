import GRPCCore
import NIOCore
import GRPCNIOTransportHTTP2

extension XDSServer {
    /// Serves ADS and SDS over plaintext HTTP/2 on `host:port` until the calling task is cancelled.
    ///
    /// - Parameters:
    ///   - host: the address to bind (e.g. `127.0.0.1`).
    ///   - port: the port; 0 picks a free one.
    ///   - onListening: called once with the bound port.
    public func serve(host: String, port: Int, onListening: @Sendable (Int) -> Void = { _ in }) async throws {
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: host, port: port), transportSecurity: .plaintext,
            config: runningStreamsOnConnectionLoops(Self.transportConfig))
        let server = GRPCServer(transport: transport, services: services)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            let address = try await transport.listeningAddress
            onListening(address.ipv4?.port ?? address.ipv6?.port ?? port)
            try await group.next()
        }
    }

    /// The transport configuration ``serve(host:port:onListening:)`` uses, for embedders that
    /// make their own `HTTP2ServerTransport.Posix`: gRPC's defaults without flush coalescing.
    ///
    /// Coalescing holds each flush up to 100 µs on a timer, hoping that more writes join it. An
    /// xDS stream writes one response per push per type, so there is nothing to join: each push
    /// only paid a timer per connection (scheduling and cancelling it is a linear scan of the
    /// event loop's scheduled tasks, which with a thousand connections showed in profiles).
    public static var transportConfig: HTTP2ServerTransport.Posix.Config {
        var config = HTTP2ServerTransport.Posix.Config.defaults
        config.connection.flushCoalescing = nil
        return config
    }

    /// `config` with a callback that records each accepted connection's event loop, so that this
    /// server runs each stream's tasks on its connection's loop (see ``ConnectionLoops``).
    ///
    /// ``serve(host:port:onListening:)`` does this; embedders that make their own transport pass
    /// its configuration through here. A callback already set in `config` still runs.
    public func runningStreamsOnConnectionLoops(
        _ config: HTTP2ServerTransport.Posix.Config
    ) -> HTTP2ServerTransport.Posix.Config {
        var config = config
        let loops = connectionLoops
        let previous = config.channelDebuggingCallbacks.onAcceptTCPConnection
        config.channelDebuggingCallbacks.onAcceptTCPConnection = { channel in
            loops.record(channel)
            return previous?(channel) ?? channel.eventLoop.makeSucceededVoidFuture()
        }
        return config
    }
}
