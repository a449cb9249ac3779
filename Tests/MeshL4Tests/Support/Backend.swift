import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A plain TCP backend on an ephemeral loopback port that counts what it sees.
final class TCPBackend: Sendable {
    enum Mode: Sendable {
        /// Echoes bytes; half-closes after the peer's FIN.
        case echo
        /// Sends `greeting` and FIN at once, then counts bytes until the peer's FIN.
        case greetThenCount(String)
        /// Counts bytes until FIN, then answers `got <n>` and closes.
        case countThenReply
        /// Resets a connection (SO_LINGER 0) when its first bytes arrive: the reset then hits an
        /// established relay. (A reset at accept can beat the proxy's connect completion, which
        /// is a failed connect, a 503, instead.)
        case reset
        /// Accepts and never reads.
        case silent
        /// Keeps every byte in `recorded`; closes after the peer's FIN.
        case record
        /// Answers the first bytes with an HTTP/1.1 200 carrying `body`, then closes.
        case http(body: String)
    }

    let channel: any Channel
    let connections = Atomic<Int>(0)
    let closed = Atomic<Int>(0)
    let received = Atomic<Int>(0)
    let children = Mutex<[any Channel]>([])
    let recorded = Mutex<[UInt8]>([])
    /// The remote address of every accepted connection.
    let remotes = Mutex<[SocketAddress]>([])

    var address: SocketAddress { channel.localAddress! }
    var port: Int { address.port! }

    private init(channel: any Channel) { self.channel = channel }

    static func start(_ mode: Mode, host: String = "127.0.0.1", receiveBuffer: Int? = nil) async throws -> TCPBackend {
        let box = Mutex<TCPBackend?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .serverChannelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer ?? 0 > 0 ? receiveBuffer! : 131072))
            .childChannelOption(.autoRead, value: { if case .silent = mode { false } else { true } }())
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let backend = box.withLock({ $0 }) else { return }
                    backend.connections.add(1, ordering: .relaxed)
                    backend.children.withLock { $0.append(channel) }
                    if let remote = channel.remoteAddress { backend.remotes.withLock { $0.append(remote) } }
                    channel.closeFuture.whenComplete { _ in backend.closed.add(1, ordering: .relaxed) }
                    try channel.pipeline.syncOperations.addHandler(BackendHandler(mode: mode, backend: backend))
                }
            }
            .bind(host: host, port: 0).get()
        let backend = TCPBackend(channel: channel)
        box.withLock { $0 = backend }
        return backend
    }

    func stop() async {
        try? await channel.close()
        for child in children.withLock({ $0 }) { try? await child.close() }
    }
}

final class BackendHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let mode: TCPBackend.Mode
    let backend: TCPBackend
    var count = 0
    var request = ""
    var answered = false

    init(mode: TCPBackend.Mode, backend: TCPBackend) {
        self.mode = mode
        self.backend = backend
    }

    func channelActive(context: ChannelHandlerContext) {
        switch mode {
        case .greetThenCount(let text):
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
            context.close(mode: .output, promise: nil)
        default:
            break
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        backend.received.add(buffer.readableBytes, ordering: .relaxed)
        count += buffer.readableBytes
        switch mode {
        case .echo:
            context.write(data, promise: nil)
        case .reset:
            if let socket = context.channel as? any SocketOptionProvider {
                let channel = context.channel
                socket.setSoLinger(NIOLinger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
            }
        case .record:
            backend.recorded.withLock { $0.append(contentsOf: buffer.readableBytesView) }
        case .http(let body):
            // Answer once, after the whole request head (closing with unread bytes would reset).
            request += String(decoding: buffer.readableBytesView, as: UTF8.self)
            guard !answered, request.contains("\r\n\r\n") else { return }
            answered = true
            let response = "HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: response))).whenComplete { _ in
                channel.close(promise: nil)
            }
        default:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else { return }
        switch mode {
        case .echo, .greetThenCount:
            // NIO turns close(mode: .output) after EOF into a full close that drops pending
            // writes: close once every earlier write is out.
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenComplete { _ in channel.close(promise: nil) }
        case .countThenReply:
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "got \(count)"))).whenComplete { _ in
                channel.close(promise: nil)
            }
        default:
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
