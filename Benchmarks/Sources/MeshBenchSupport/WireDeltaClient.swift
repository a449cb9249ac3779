import GRPCCore
import GRPCNIOTransportHTTP2
import MeshProto
import MeshXDS
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import SwiftProtobuf

/// A load-test delta ADS client that speaks gRPC's wire protocol on SwiftNIO's HTTP/2 directly:
/// one `POST` stream of length-prefixed messages, handled on the connection's event loop as it
/// is read, with no gRPC library and no task per stream.
///
/// The protocol is ``LeanDeltaClient``'s (the same parsing, ACKs, NACKs, held versions and
/// `initial_resource_versions` on reconnect); only the transport differs. A grpc-swift client
/// costs about as much CPU per message as the server does, and on a two-core machine the
/// clients share the cores with the server they measure: a cheaper load generator measures
/// more of the server and less of itself, as pilot-load (Go) does for istiod.
public enum WireDeltaClient {
    static let path = "/"
        + Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Method.DeltaAggregatedResources.descriptor
        .fullyQualifiedMethod
    /// The HTTP/2 windows and frame size of ``LeanDeltaClient``'s grpc-swift transport.
    static let http2 = XDSClient.transportConfig.http2

    /// Runs one client until the task is cancelled, reconnecting 100 ms after a stream ends.
    public static func run(host: String, port: Int, node: Envoy_Config_Core_V3_Node, types: [String]) async throws {
        try await LeanDeltaClient.reconnecting { held in
            try await stream(host: host, port: port, node: node, types: types, held: held)
        }
    }

    /// One connection with one ADS stream, until either ends.
    static func stream(
        host: String, port: Int, node: Envoy_Config_Core_V3_Node, types: [String], held: LeanDeltaClient.Held
    ) async throws {
        let subscriptions = LeanDeltaClient.subscriptions(node: node, types: types, held: held)
        let authority = "\(host):\(port)"
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            // Small fixed reads, as LeanDeltaClient's (see there).
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 8192))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    var connection = NIOHTTP2Handler.ConnectionConfiguration()
                    connection.targetWindowSize = Self.http2.targetWindowSize
                    connection.initialSettings = [
                        HTTP2Setting(parameter: .initialWindowSize, value: Self.http2.targetWindowSize),
                        HTTP2Setting(parameter: .maxFrameSize, value: Self.http2.maxFrameSize),
                        HTTP2Setting(parameter: .maxHeaderListSize, value: HPACKDecoder.defaultMaxHeaderListSize),
                    ]
                    var stream = NIOHTTP2Handler.StreamConfiguration()
                    stream.targetWindowSize = Self.http2.targetWindowSize
                    let multiplexer = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                        mode: .client, connectionConfiguration: connection, streamConfiguration: stream
                    ) { inbound in inbound.close() }  // servers do not open streams
                    // Without its stream the connection has no use: closing it makes the client reconnect.
                    let created = channel.eventLoop.makePromise(of: Channel.self)
                    created.futureResult.whenFailure { _ in channel.close(promise: nil) }
                    multiplexer.createStreamChannel(promise: created) { stream in
                        stream.eventLoop.makeCompletedFuture {
                            try stream.pipeline.syncOperations.addHandler(
                                StreamHandler(authority: authority, subscriptions: subscriptions, held: held))
                        }
                    }
                    return channel
                }
            }
        try await withTaskCancellationHandler {
            try await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// The ADS stream: writes the subscriptions, then answers each response with its ACK (or
    /// NACK) as it is read; closes the connection when the stream ends.
    final class StreamHandler: ChannelInboundHandler {
        typealias InboundIn = HTTP2Frame.FramePayload
        typealias OutboundOut = HTTP2Frame.FramePayload

        let authority: String
        let subscriptions: [Envoy_Service_Discovery_V3_DeltaDiscoveryRequest]
        let held: LeanDeltaClient.Held
        /// Bytes of a message not yet complete.
        var pending: ByteBuffer?
        var wrote = false

        init(authority: String, subscriptions: [Envoy_Service_Discovery_V3_DeltaDiscoveryRequest], held: LeanDeltaClient.Held) {
            self.authority = authority
            self.subscriptions = subscriptions
            self.held = held
        }

        func channelActive(context: ChannelHandlerContext) {
            let headers: HPACKHeaders = [
                ":method": "POST", ":scheme": "http", ":path": WireDeltaClient.path, ":authority": authority,
                "content-type": "application/grpc", "te": "trailers", "user-agent": "swiftmesh-bench-wire",
            ]
            context.write(wrapOutboundOut(.headers(.init(headers: headers))), promise: nil)
            for request in subscriptions { write(request, context: context) }
            context.flush()
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .data(let frame):
                guard case .byteBuffer(var bytes) = frame.data else { return }
                if var pending {
                    self.pending = nil
                    pending.writeBuffer(&bytes)
                    bytes = pending
                }
                readMessages(&bytes, context: context)
                if bytes.readableBytes > 0 { pending = bytes }
                if frame.endStream { context.channel.parent?.close(promise: nil) }
            case .headers(let frame):
                // Response headers carry nothing the client needs; trailers end the stream.
                if frame.endStream { context.channel.parent?.close(promise: nil) }
            case .rstStream, .goAway:
                context.channel.parent?.close(promise: nil)
            default:
                break
            }
        }

        /// Handles every complete message at the front of `bytes` (5-byte prefix: a compression
        /// flag, which must be 0, and a big-endian length).
        func readMessages(_ bytes: inout ByteBuffer, context: ChannelHandlerContext) {
            while let flag = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self),
                let length = bytes.getInteger(at: bytes.readerIndex + 1, as: UInt32.self),
                bytes.readableBytes >= 5 + Int(length)
            {
                guard flag == 0 else {
                    context.channel.parent?.close(promise: nil)  // the client announced no compression
                    return
                }
                bytes.moveReaderIndex(forwardBy: 5)
                let message = bytes.readSlice(length: Int(length))!
                let reply = message.withUnsafeReadableBytes { raw -> Envoy_Service_Discovery_V3_DeltaDiscoveryRequest? in
                    guard let response = try? LeanDeltaResponseDeserializer.read(raw) else { return nil }
                    return held.types.withLock { LeanDeltaClient.apply(response, bytes: raw, to: &$0) }
                }
                guard let reply else {
                    context.channel.parent?.close(promise: nil)
                    return
                }
                write(reply, context: context)
            }
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            if wrote {
                wrote = false
                context.flush()
            }
            context.fireChannelReadComplete()
        }

        func channelInactive(context: ChannelHandlerContext) {
            context.channel.parent?.close(promise: nil)
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.channel.parent?.close(promise: nil)
        }

        /// Writes `request` as one length-prefixed message in one DATA frame.
        func write(_ request: Envoy_Service_Discovery_V3_DeltaDiscoveryRequest, context: ChannelHandlerContext) {
            guard let body: [UInt8] = try? request.serializedBytes() else { return }
            var buffer = context.channel.allocator.buffer(capacity: 5 + body.count)
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(UInt32(body.count))
            buffer.writeBytes(body)
            context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(buffer)))), promise: nil)
            wrote = true
        }
    }
}
