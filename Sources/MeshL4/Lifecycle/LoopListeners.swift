import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Listening sockets on one address, one per event loop of a group, as Envoy's listeners are
/// with `enable_reuse_port` (its default on Linux).
///
/// Each socket is bound with `SO_REUSEPORT`, so the kernel spreads new connections over them,
/// and each accepts onto its own loop. A connection is then served on the thread that accepted
/// it: no hand-off to another event loop (a cross-thread wake-up) on the way to its first byte.
/// With a single listening socket, NIO gives accepted sockets to the group's loops in turn, so
/// most connections would pay that hop on a multi-loop group.
///
/// On platforms without `SO_REUSEPORT`, or when `perLoop` is false, there is one socket whose
/// accepted connections go to the group's loops in turn.
///
/// `SO_REUSEPORT` also lets another process of the same user bind the same address; pass
/// `perLoop: false` where that must fail instead.
public struct LoopListeners: Sendable {
    /// The listening channels (one per event loop, or one).
    public let channels: [any Channel]

    /// The bound address (read the port from here after binding port 0).
    public var localAddress: SocketAddress? { channels.first?.localAddress }

    /// Binds `host:port` (port 0: one ephemeral port shared by every socket).
    /// - Parameters:
    ///   - perLoop: one socket per event loop (`SO_REUSEPORT`); false binds one socket.
    ///   - configure: the bootstrap's options and child initializer; it is called once per
    ///     socket with a bootstrap whose server and child loop is that socket's loop. Every socket
    ///     already has `SO_REUSEADDR` and a backlog of 1,024 (`configure` may set another).
    public static func bind(
        host: String, port: Int, group: any EventLoopGroup, perLoop: Bool = true,
        configure: (ServerBootstrap) -> ServerBootstrap
    ) async throws -> LoopListeners {
        func listening(_ bootstrap: ServerBootstrap) -> ServerBootstrap {
            configure(
                bootstrap
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .serverChannelOption(.backlog, value: 1024))
        }
        let loops = Array(group.makeIterator())
        guard perLoop, loops.count > 1, let reusePort = reusePortOption else {
            let channel = try await listening(ServerBootstrap(group: group)).bind(host: host, port: port).get()
            return LoopListeners(channels: [channel])
        }
        var channels: [any Channel] = []
        do {
            var boundPort = port
            for loop in loops {
                let bootstrap = ServerBootstrap(group: loop, childGroup: loop)
                    .serverChannelOption(.socketOption(reusePort), value: 1)
                let channel = try await listening(bootstrap).bind(host: host, port: boundPort).get()
                channels.append(channel)
                // Port 0: the first socket picks the port, the others join it.
                if boundPort == 0 { boundPort = channel.localAddress?.port ?? 0 }
            }
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        return LoopListeners(channels: channels)
    }

    /// Closes every listening socket (accepted connections stay open).
    public func close() async {
        for channel in channels { try? await channel.close() }
    }

    private static var reusePortOption: NIOBSDSocket.Option? {
        #if os(Linux)
        return NIOBSDSocket.Option(rawValue: SO_REUSEPORT)
        #else
        return nil
        #endif
    }
}
