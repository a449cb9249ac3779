import GRPCCore
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
            address: .ipv4(host: host, port: port), transportSecurity: .plaintext)
        let server = GRPCServer(transport: transport, services: services)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            let address = try await transport.listeningAddress
            onListening(address.ipv4?.port ?? address.ipv6?.port ?? port)
            try await group.next()
        }
    }
}
