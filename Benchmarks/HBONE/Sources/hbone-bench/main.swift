// hbone-bench: the processes scripts/bench-hbone.sh runs to compare our HBONE pair with Envoy's.
//
//   hbone-bench certs DIR                         issue client/server certificates from a MeshCA root
//   hbone-bench echo PORT                         TCP echo backend
//   hbone-bench terminator PORT CERTDIR           our HBONE server (targets connected as given)
//   hbone-bench originator SERVER CERTDIR LISTEN=TARGET[/unpooled] ...
//                                                 plain TCP in → our HBONE client → SERVER
//   hbone-bench setup PORT COUNT [SAMPLES]        COUNT sequential connect + 1-byte echo; p50/p99
//                                                 (each sample in µs appended to SAMPLES)
//   hbone-bench idle SERVER TARGET CERTDIR COUNT  open COUNT idle tunnels in-process; report memory
//
// HBONE_BENCH_MAX_READ sets the largest socket read of the pair (default 256 KiB, the library's).
import Foundation
import Logging
import MeshAPI
import MeshCA
import MeshL4
import NIOCore
import NIOPosix
import X509

#if canImport(Glibc)
import Glibc
#endif

let clientIdentity = try! SpiffeID(trustDomain: "cluster.local", namespace: "default", serviceAccount: "bench-client")
let serverIdentity = try! SpiffeID(trustDomain: "cluster.local", namespace: "default", serviceAccount: "bench-server")

func quiet() -> Logger {
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    return logger
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("hbone-bench: \(message)\n".utf8))
    exit(2)
}

func address(_ text: String) throws -> SocketAddress {
    guard case .address(let address) = try HBONETarget(authority: text) else { fail("not an ip:port: \(text)") }
    return address
}

func loadCertificate(_ dir: String, _ name: String) throws -> WorkloadCertificate {
    let chain = try PEMCodec.certificates(
        fromPEM: String(contentsOfFile: "\(dir)/\(name).pem", encoding: .utf8), source: "\(name).pem")
    let roots = try PEMCodec.certificates(
        fromPEM: String(contentsOfFile: "\(dir)/ca.pem", encoding: .utf8), source: "ca.pem")
    let key = try PEMCodec.privateKey(
        fromPEM: String(contentsOfFile: "\(dir)/\(name).key", encoding: .utf8), source: "\(name).key")
    return WorkloadCertificate(
        identity: try chain[0].spiffeIdentity(), leaf: chain[0], intermediates: Array(chain.dropFirst()), roots: roots,
        privateKey: key)
}

/// Largest read from a socket (HBONE_BENCH_MAX_READ, default the library's 256 KiB), for trying sizes.
let maximumRead = ProcessInfo.processInfo.environment["HBONE_BENCH_MAX_READ"].flatMap { Int($0) } ?? 256 * 1024

func residentKB() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    return 0
}

func certs(_ dir: String) async throws {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let authority = try CertificateAuthority.selfSigned(directory: URL(fileURLWithPath: "\(dir)/root"))
    for (name, identity) in [("client", clientIdentity), ("server", serverIdentity)] {
        let certificate = try await WorkloadIdentity(
            identity: identity, requester: LocalCertificateRequester(authority: authority, identity: identity),
            logger: quiet()
        ).refresh()
        try certificate.certificateChainPEM().write(toFile: "\(dir)/\(name).pem", atomically: true, encoding: .utf8)
        try certificate.privateKeyPEM().write(toFile: "\(dir)/\(name).key", atomically: true, encoding: .utf8)
        try certificate.trustBundlePEM().write(toFile: "\(dir)/ca.pem", atomically: true, encoding: .utf8)
    }
    print("client \(clientIdentity)\nserver \(serverIdentity)")
}

/// Echoes bytes; closes once the peer has finished and everything was written.
final class Echo: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.write(data, promise: nil) }
    func channelReadComplete(context: ChannelHandlerContext) { context.flush() }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else { return }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenComplete { _ in channel.close(promise: nil) }
    }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

func echo(_ port: Int) async throws {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.backlog, value: 4096)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.allowRemoteHalfClosure, value: true)
        .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
        .childChannelInitializer { $0.pipeline.addHandler(Echo()) }
        .bind(host: "127.0.0.1", port: port).get()
    print("ready")
    try await channel.closeFuture.get()
}

func terminator(_ port: Int, _ dir: String) async throws {
    let credentials = try HBONECredentials(certificate: try loadCertificate(dir, "server"))
    let server = try await HBONEServer.start(
        credentials: credentials,
        configuration: .init(
            host: "127.0.0.1", port: port, maximumReadSize: maximumRead, logger: quiet(), accessLogger: quiet()))
    print("ready \(server.localAddress!)")
    while true { try await Task.sleep(for: .seconds(3600)) }
}

func originator(_ server: SocketAddress, _ dir: String, _ listeners: [String]) async throws {
    let credentials = try HBONECredentials(certificate: try loadCertificate(dir, "client"))
    let pooled = HBONEClient(
        credentials: credentials,
        configuration: .init(maximumReadSize: maximumRead, logger: quiet(), accessLogger: quiet()))
    let unpooled = HBONEClient(
        credentials: credentials,
        configuration: .init(pooling: false, maximumReadSize: maximumRead, logger: quiet(), accessLogger: quiet()))
    var channels: [LoopListeners] = []
    for spec in listeners {
        let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let port = Int(parts[0]) else { fail("bad listener \(spec)") }
        let targetParts = parts[1].split(separator: "/").map(String.init)
        let target = try HBONETarget(authority: targetParts[0])
        let client = targetParts.dropFirst().contains("unpooled") ? unpooled : pooled
        // One listening socket per event loop (SO_REUSEPORT), as Envoy listens: a connection is
        // served on the loop that accepted it.
        let listeners = try await LoopListeners.bind(host: "127.0.0.1", port: port, group: MultiThreadedEventLoopGroup.singleton) { bootstrap in
            bootstrap
                .serverChannelOption(.backlog, value: 4096)
                .childChannelOption(.autoRead, value: false)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelOption(
                    .recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16 * 1024, maximum: maximumRead))
                .childChannelInitializer { downstream in
                    // The initializer completes at once (the socket must be registered before it
                    // can be relayed); the tunnel opens afterwards, and RelayInputHold keeps what
                    // the client sends (iperf3's cookie) or closes meanwhile.
                    downstream.eventLoop.makeCompletedFuture {
                        try downstream.pipeline.syncOperations.addHandler(RelayInputHold())
                        let source = downstream.remoteAddress
                        // On the socket's loop: the relay never hops threads, and a pooled open
                        // never goes through Swift concurrency.
                        client.openChannelFuture(
                            to: target, via: server, expectedIdentities: [serverIdentity], source: source,
                            on: downstream.eventLoop
                        ).flatMap { stream in
                            RelayHandler.join(downstream, stream.channel)
                        }.whenFailure { _ in
                            downstream.close(promise: nil)
                        }
                    }
                }
        }
        channels.append(listeners)
    }
    print("ready")
    while true { try await Task.sleep(for: .seconds(3600)) }
}

func setup(_ port: Int, _ count: Int, samplesFile: String?) throws {
    var samples: [Double] = []
    samples.reserveCapacity(count)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let warmup = 20
    for index in 0..<(count + warmup) {
        var start = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 3, tv_usec: 0)  // a stuck tunnel fails the run instead of hanging it
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { fail("connect failed: \(errno)") }
        var byte: UInt8 = 0x2A
        guard send(fd, &byte, 1, 0) == 1 else { fail("send failed: \(errno)") }
        var back: UInt8 = 0
        guard recv(fd, &back, 1, 0) == 1, back == 0x2A else { fail("no echo on tunnel \(index + 1) (errno \(errno))") }
        var end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &end)
        close(fd)
        if index >= warmup {
            samples.append(Double(end.tv_sec - start.tv_sec) * 1e6 + Double(end.tv_nsec - start.tv_nsec) / 1e3)
        }
    }
    if let samplesFile {
        // Appended, so that a script can take percentiles over several interleaved rounds.
        guard let file = fopen(samplesFile, "a") else { fail("cannot write \(samplesFile)") }
        for sample in samples { fputs(String(format: "%.1f\n", sample), file) }
        fclose(file)
    }
    samples.sort()
    func percentile(_ p: Double) -> Double { samples[min(samples.count - 1, Int(Double(samples.count) * p))] }
    print(String(format: "p50_us=%.0f p99_us=%.0f", percentile(0.5), percentile(0.99)))
}

func idle(_ server: SocketAddress, _ target: SocketAddress, _ dir: String, _ count: Int) async throws {
    let credentials = try HBONECredentials(certificate: try loadCertificate(dir, "client"))
    let client = HBONEClient(credentials: credentials, configuration: .init(logger: quiet(), accessLogger: quiet()))
    // Warm the pool and the allocator with one tunnel first.
    let first = try await client.openChannel(to: .address(target), via: server, expectedIdentities: [serverIdentity])
    let before = residentKB()
    var open: [HBONEChannel] = [first]
    open.reserveCapacity(count)
    let batch = 200
    var opened = 1
    while opened < count {
        let n = min(batch, count - opened)
        let more = try await withThrowingTaskGroup(of: HBONEChannel.self) { group in
            for _ in 0..<n {
                group.addTask {
                    try await client.openChannel(to: .address(target), via: server, expectedIdentities: [serverIdentity])
                }
            }
            var out: [HBONEChannel] = []
            for try await channel in group { out.append(channel) }
            return out
        }
        open += more
        opened += n
    }
    let after = residentKB()
    let connections = client.pool.snapshot.streamsPerConnection.values.reduce(0) { $0 + $1.count }
    print("tunnels=\(open.count) connections=\(connections) client_rss_before_kb=\(before) client_rss_after_kb=\(after) client_kb_per_tunnel=\(String(format: "%.2f", Double(after - before) / Double(count - 1)))")
    fflush(nil)
    // Hold the tunnels until stdin closes (the script measures the server meanwhile).
    _ = FileHandle.standardInput.readDataToEndOfFile()
    for channel in open { channel.channel.close(promise: nil) }
}

let args = Array(CommandLine.arguments.dropFirst())
guard let command = args.first else { fail("usage: see the header of main.swift") }
do {
    switch command {
    case "certs" where args.count == 2: try await certs(args[1])
    case "echo" where args.count == 2: try await echo(Int(args[1])!)
    case "terminator" where args.count == 3: try await terminator(Int(args[1])!, args[2])
    case "originator" where args.count >= 4: try await originator(try address(args[1]), args[2], Array(args[3...]))
    case "setup" where args.count == 3 || args.count == 4:
        try setup(Int(args[1])!, Int(args[2])!, samplesFile: args.count == 4 ? args[3] : nil)
    case "idle" where args.count == 5: try await idle(try address(args[1]), try address(args[2]), args[3], Int(args[4])!)
    default: fail("unknown command or arguments: \(args.joined(separator: " "))")
    }
} catch {
    fail("\(error)")
}
