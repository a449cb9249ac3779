import Foundation
import MeshCA
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS

/// Opens TLS (optionally without a client certificate) and HTTP/2 to a server and sends one
/// request with arbitrary headers; returns the response status. Does not check the server's
/// certificate: it tests the server's refusals, not the client's.
enum RawH2Client {
    static func request(
        port: Int, certificate: WorkloadCertificate?, headers: [(String, String)], host: String = "127.0.0.1"
    ) async throws -> Int {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv13
        tls.applicationProtocols = ["h2"]
        tls.certificateVerification = .none
        if let certificate {
            tls.certificateChain = try certificate.nioSSLCertificateChain().map { .certificate($0) }
            tls.privateKey = .privateKey(try certificate.nioSSLPrivateKey())
        }
        let context = try NIOSSLContext(configuration: tls)
        let multiplexer = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    return try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                        mode: .client, connectionConfiguration: .init(), streamConfiguration: .init()
                    ) { $0.close() }
                }
            }
        let promise = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Int.self)
        let stream = try await multiplexer.createStreamChannel { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandler(StatusCatcher(headers: headers, promise: promise))
            }
        }.get()
        defer { stream.parent?.close(promise: nil) }
        return try await promise.futureResult.get()
    }
}

final class StatusCatcher: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload
    let headers: [(String, String)]
    let promise: EventLoopPromise<Int>

    init(headers: [(String, String)], promise: EventLoopPromise<Int>) {
        self.headers = headers
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: HPACKHeaders(headers)))), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .headers(let response) = unwrapInboundIn(data), let status = response.headers.first(name: ":status") {
            promise.succeed(Int(status) ?? -1)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.ioOnClosedChannel)
    }
}
