import Foundation
import MeshAPI
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import X509

@testable import MeshCA

/// Echoes every byte back.
final class EchoHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(data, promise: nil)
    }
}

/// Roots that change during a test.
final class RootsBox: Sendable {
    private let value: Mutex<[Certificate]>
    init(_ roots: [Certificate] = []) { value = Mutex(roots) }
    var roots: [Certificate] { value.withLock { $0 } }
    func set(_ roots: [Certificate]) { value.withLock { $0 = roots } }
}

/// A TLS echo server on an ephemeral loopback port, taking its context from `contextProvider`
/// for each new connection and requiring a client SPIFFE certificate checked by `verifier`.
struct TLSEchoServer {
    let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    static func start(
        context contextProvider: @escaping @Sendable () -> NIOSSLContext?, verifier: SpiffePeerVerifier
    ) async throws -> TLSEchoServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let context = contextProvider() else { throw NIOSSLError.noCertificateToValidate }
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLServerHandler(context: context, customVerificationCallbackWithMetadata: verifier.callback))
                    try channel.pipeline.syncOperations.addHandler(EchoHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TLSEchoServer(channel: channel)
    }

    func stop() async throws {
        try await channel.close()
    }
}

/// What a client saw of the server.
struct ServerView: Sendable {
    var identity: SpiffeID
    var leafSerial: Certificate.SerialNumber
}

/// Opens a client TLS connection, completes the handshake with a first echo, and runs `body`
/// with what the client saw of the server and a round-trip function; closes afterwards.
func withTLSEchoConnection<T: Sendable>(
    port: Int, context: NIOSSLContext, verifier: SpiffePeerVerifier,
    _ body: (ServerView, (String) async throws -> Void) async throws -> T
) async throws -> T {
    let box = SeenBox()
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                let handler = try NIOSSLClientHandler(
                    context: context, serverHostname: nil,
                    customVerificationCallbackWithMetadata: { certificates, promise in
                        if let first = certificates.first,
                            let leaf = try? Certificate(derEncoded: first.toDERBytes()),
                            let identity = try? leaf.spiffeIdentity()
                        {
                            box.set(ServerView(identity: identity, leafSerial: leaf.serialNumber))
                        }
                        verifier.callback(certificates, promise)
                    })
                try channel.pipeline.syncOperations.addHandler(handler)
                return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    return try await channel.executeThenClose { inbound, outbound in
        var iterator = inbound.makeAsyncIterator()
        func roundTrip(_ text: String) async throws {
            try await outbound.write(ByteBuffer(string: text))
            var received = ""
            while received.utf8.count < text.utf8.count {
                guard var buffer = try await iterator.next() else { throw ChannelError.eof }
                received += buffer.readString(length: buffer.readableBytes) ?? ""
            }
            guard received == text else { throw ChannelError.inappropriateOperationForState }
        }
        try await roundTrip("hello")
        guard let view = box.value else { throw NIOSSLError.noCertificateToValidate }
        return try await body(view, roundTrip)
    }
}

final class SeenBox: Sendable {
    private let inner = Mutex<ServerView?>(nil)
    func set(_ view: ServerView) { inner.withLock { $0 = view } }
    var value: ServerView? { inner.withLock { $0 } }
}
