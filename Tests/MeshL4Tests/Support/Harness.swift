import MeshAPI
import MeshCA
import MeshL4
import NIOCore
import NIOPosix

let serverID = spiffe("default", "server")
let clientID = spiffe("default", "client")

/// An HBONE server, a client and a backend in one process, stopped by `stop()`.
struct HBONEPair {
    let server: HBONEServer
    let client: HBONEClient
    let backend: TCPBackend
    let serverAddress: SocketAddress
    var backendTarget: HBONETarget { .address(backend.address) }

    static func start(
        backend mode: TCPBackend.Mode = .echo, backendReceiveBuffer: Int? = nil,
        server configure: (inout HBONEServer.Configuration) -> Void = { _ in },
        client configureClient: (inout HBONEClient.Configuration) -> Void = { _ in },
        clientCredentials: HBONECredentials? = nil
    ) async throws -> HBONEPair {
        let backend = try await TCPBackend.start(mode, receiveBuffer: backendReceiveBuffer)
        var serverConfiguration = HBONEServer.Configuration(
            host: "127.0.0.1", port: 0, logger: quietLogger, accessLogger: quietLogger)
        configure(&serverConfiguration)
        let server = try await HBONEServer.start(
            credentials: try await TestCA.shared.credentials(for: serverID), configuration: serverConfiguration)
        var clientConfiguration = HBONEClient.Configuration(logger: quietLogger, accessLogger: quietLogger)
        configureClient(&clientConfiguration)
        let credentials: HBONECredentials
        if let clientCredentials {
            credentials = clientCredentials
        } else {
            credentials = try await TestCA.shared.credentials(for: clientID)
        }
        let client = HBONEClient(credentials: credentials, configuration: clientConfiguration)
        return HBONEPair(server: server, client: client, backend: backend, serverAddress: server.localAddress!)
    }

    func open(
        _ target: HBONETarget? = nil, expected: [SpiffeID] = [serverID], source: SocketAddress? = nil
    ) async throws(HBONEError) -> HBONEStream {
        try await client.open(to: target ?? backendTarget, via: serverAddress, expectedIdentities: expected, source: source)
    }

    func stop() async {
        await client.shutdown()
        await server.close()
        await backend.stop()
    }
}

/// Runs `body` with a started pair and stops it afterwards, also when `body` throws.
func withPair<T>(
    backend: TCPBackend.Mode = .echo, backendReceiveBuffer: Int? = nil,
    server: (inout HBONEServer.Configuration) -> Void = { _ in },
    client: (inout HBONEClient.Configuration) -> Void = { _ in },
    clientCredentials: HBONECredentials? = nil,
    _ body: (HBONEPair) async throws -> T
) async throws -> T {
    let pair = try await HBONEPair.start(
        backend: backend, backendReceiveBuffer: backendReceiveBuffer, server: server, client: client, clientCredentials: clientCredentials)
    do {
        let result = try await body(pair)
        await pair.stop()
        return result
    } catch {
        await pair.stop()
        throw error
    }
}
