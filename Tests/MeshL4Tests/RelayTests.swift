import MeshL4
import NIOCore
import NIOPosix
import Synchronization
import Testing

@Suite("Relay", .serialized, .timeLimit(.minutes(1)))
struct RelayTests {
    /// A plain TCP relay (client → relay → backend) built from two RelayHandlers.
    final class TCPRelay: Sendable {
        let listener: any Channel
        let upstreams = Mutex<[any Channel]>([])

        init(to backend: SocketAddress) async throws {
            let box = Mutex<TCPRelay?>(nil)
            listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelOption(.autoRead, value: false)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { downstream in
                    ClientBootstrap(group: downstream.eventLoop)
                        .channelOption(.autoRead, value: false)
                        .channelOption(.allowRemoteHalfClosure, value: true)
                        .connect(to: backend)
                        .flatMap { upstream in
                            box.withLock { $0 }?.upstreams.withLock { $0.append(upstream) }
                            return RelayHandler.join(downstream, upstream)
                        }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            box.withLock { $0 = self }
        }
    }

    @Test("a reader that never reads bounds the relay's buffered bytes to its watermark and one read event")
    func boundedBuffering() async throws {
        let backend = try await TCPBackend.start(.silent, receiveBuffer: 64 * 1024)
        let relay = try await TCPRelay(to: backend.address)
        let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(to: relay.listener.localAddress!) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let written = Atomic<Int>(0)
        let chunk = ByteBuffer(bytes: randomBytes(64 * 1024))
        let writer = Task {
            try await client.executeThenClose { _, outbound in
                for _ in 0..<(4096) {
                    try await outbound.write(chunk)
                    written.add(chunk.readableBytes, ordering: .relaxed)
                }
            }
        }
        var last = -1
        var maxBuffered = 0
        while true {
            for _ in 0..<5 {
                try await Task.sleep(for: .milliseconds(100))
                if let upstream = relay.upstreams.withLock({ $0.first }) {
                    maxBuffered = max(maxBuffered, try await upstream.getOption(.bufferedWritableBytes).get())
                }
            }
            let now = written.load(ordering: .relaxed)
            if now == last { break }
            last = now
        }
        writer.cancel()
        // The relay did read (a join that never started reading would pass the bound vacuously).
        #expect(maxBuffered > 0, "the relay never read from the client")
        // NIO's defaults: a 64 KiB high watermark; one readable event reads up to
        // maxMessagesPerRead (4) times at most 64 KiB before the relay can stop it.
        #expect(maxBuffered <= (64 + 4 * 64) * 1024, "the relay buffered \(maxBuffered) bytes for a reader that reads nothing")
        #expect(last < 256 * 1024 * 1024)
        try? await relay.listener.close()
        for upstream in relay.upstreams.withLock({ $0 }) { try? await upstream.close() }
        await backend.stop()
    }
}
