import Foundation
import MeshL4
import NIOCore
import NIOPosix
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Many short tunnels in a row over one pooled connection, each relayed from a TCP socket the
/// way ztunnel and the benchmark originator relay them: connect, send one byte, read the echo,
/// close. Every stream must end on both sides, or the server's stream limit fills up.
@Suite("Short tunnels over a pooled connection", .serialized, .timeLimit(.minutes(1)))
struct ShortTunnelTests {
    /// A local TCP listener whose connections are relayed into HBONE tunnels.
    static func originator(_ pair: HBONEPair) async throws -> any Channel {
        let client = pair.client
        let server = pair.serverAddress
        let target = pair.backendTarget
        return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { downstream in
                downstream.eventLoop.makeCompletedFuture {
                    try downstream.pipeline.syncOperations.addHandler(RelayInputHold())
                    // On the socket's loop, without Swift concurrency when the pool has room.
                    client.openChannelFuture(
                        to: target, via: server, expectedIdentities: [serverID], on: downstream.eventLoop
                    ).flatMap { stream in
                        RelayHandler.join(downstream, stream.channel)
                    }.whenFailure { _ in downstream.close(promise: nil) }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// Connect, send a byte, read it back, close. Nil on success, else what went wrong.
    static func echoOnce(port: Int) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return "socket: \(errno)" }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return "connect: \(errno)" }
        var byte: UInt8 = 0x2A
        guard send(fd, &byte, 1, 0) == 1 else { return "send: \(errno)" }
        var back: UInt8 = 0
        let got = recv(fd, &back, 1, 0)
        guard got == 1, back == 0x2A else { return "recv returned \(got), errno \(errno)" }
        return nil
    }

    @Test("sequential short tunnels beyond the server's stream limit all succeed on one connection")
    func sequentialBeyondStreamLimit() async throws {
        try await withPair { pair in
            let listener = try await Self.originator(pair)
            let port = listener.localAddress!.port!
            var failures: [String] = []
            for index in 0..<230 {
                let failure = await Task.detached { Self.echoOnce(port: port) }.value
                if let failure { failures.append("tunnel \(index + 1): \(failure)") }
            }
            try? await listener.close()
            #expect(failures.isEmpty, "\(failures.prefix(5))")
            #expect(pair.server.statistics.streamsReceived == 230)
            #expect(pair.client.pool.snapshot.dials <= 2)  // one per event loop
        }
    }

    @Test("sequential short tunnels through the async stream API keep one connection")
    func sequentialAsyncStreams() async throws {
        try await withPair { pair in
            for _ in 0..<230 {
                let stream = try await pair.open()
                let (_, count) = try await pump(stream.channel, payload: [0x2A])
                #expect(count == 1)
            }
            #expect(pair.client.pool.snapshot.dials == 1)
            #expect(pair.server.statistics.connectionsAccepted == 1)
        }
    }

    @Test("openChannelFuture reports a refusal as a typed error and opens a tunnel, pooled and unpooled", arguments: [true, false])
    func futureRefusal(pooling: Bool) async throws {
        try await withPair(
            server: { config in
                config.authorizer = { info in info.target.port == 1 ? .deny(reason: "test") : .allow }
            }, client: { $0.pooling = pooling }
        ) { pair in
            let loop = MultiThreadedEventLoopGroup.singleton.next()
            let denied = HBONETarget.address(try SocketAddress(ipAddress: "127.0.0.1", port: 1))
            for _ in 0..<2 {  // pooled: the first dials, the second reuses the connection
                await #expect(throws: HBONEError.rejected(status: 401)) {
                    _ = try await pair.client.openChannelFuture(
                        to: denied, via: pair.serverAddress, expectedIdentities: [serverID], on: loop
                    ).get()
                }
            }
            let wrong = spiffe("default", "somebody-else")
            await #expect(throws: HBONEError.serverIdentityMismatch(expected: [wrong], presented: serverID.description)) {
                _ = try await pair.client.openChannelFuture(
                    to: pair.backendTarget, via: pair.serverAddress, expectedIdentities: [wrong], on: loop
                ).get()
            }
            let stream = try await pair.client.openChannelFuture(
                to: pair.backendTarget, via: pair.serverAddress, expectedIdentities: [serverID], on: loop
            ).get()
            #expect(stream.channel.eventLoop === loop)
            #expect(stream.peerIdentity == serverID)
            stream.channel.close(promise: nil)  // a reset of an open stream
            #expect(pair.client.pool.snapshot.dials == (pooling ? 2 : 0))  // the wrong identity is another pool key
            #expect(pair.server.statistics.connectionsAccepted == (pooling ? 2 : 4))
        }
    }
}
