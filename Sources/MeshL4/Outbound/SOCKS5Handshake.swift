import Logging
import MeshAPI
import NIOCore
import NIOPosix

/// Negotiates SOCKS5 on one accepted connection (reads off), connects the request through the
/// ``OutboundConnector``, answers, then removes itself and hands the connection to a relay.
/// Bytes after the request (and the client's EOF) pass on to the ``RelayInputHold`` behind it.
final class SOCKS5Handshake: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case greeting
        case request
        case connecting
        case done
    }

    private let outbound: OutboundContext
    private var state = State.greeting
    private var buffer = ByteBuffer()

    init(outbound: OutboundContext) {
        self.outbound = outbound
    }

    private var negotiating: Bool {
        switch state {
        case .greeting, .request: true
        case .connecting, .done: false
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard negotiating else {
            context.fireChannelRead(data)
            return
        }
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        advance(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if negotiating {
            context.read()
        } else {
            context.fireChannelReadComplete()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event, negotiating else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        outbound.logger.debug("SOCKS5 client closed before its request was complete")
        state = .done
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        outbound.logger.debug("SOCKS5 connection failed", metadata: ["error": "\(error)"])
        state = .done
        context.close(promise: nil)
    }

    private func advance(context: ChannelHandlerContext) {
        do throws(SOCKS5.ProtocolError) {
            if case .greeting = state {
                guard let acceptable = try SOCKS5.parseGreeting(&buffer) else { return }
                guard acceptable else {
                    fail(context: context, reply: SOCKS5.methodSelection(acceptable: false), reason: "no acceptable authentication method")
                    return
                }
                context.writeAndFlush(wrapOutboundOut(SOCKS5.methodSelection(acceptable: true)), promise: nil)
                state = .request
            }
            if case .request = state {
                guard let destination = try SOCKS5.parseRequest(&buffer) else { return }
                state = .connecting
                if buffer.readableBytes > 0 {
                    // The client's first bytes, pipelined after the request: kept for the upstream.
                    context.fireChannelRead(wrapInboundOut(buffer))
                    buffer = ByteBuffer()
                }
                connect(context: context, destination: destination)
            }
        } catch {
            fail(context: context, reply: error.reply.map { SOCKS5.reply($0) }, reason: error.description)
        }
    }

    private func connect(context: ChannelHandlerContext, destination: SOCKS5.Destination) {
        let eventLoop = context.eventLoop
        let resolved: EventLoopFuture<Result<SocketAddress, OutboundFailure>>
        switch destination {
        case .address(let ip, let port):
            resolved = eventLoop.makeSucceededFuture(.success(SocketAddress(ip, port: port)))
        case .domain(let name, let port):
            // getaddrinfo blocks: off the event loop.
            resolved = NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) {
                try SocketAddress.makeAddressResolvingHost(name, port: Int(port))
            }.map { .success($0) }.recover { .failure(OutboundFailure(.unreachable, "cannot resolve \(name): \($0)")) }
        }
        let source = context.channel.remoteAddress
        let outbound = outbound
        let loopBound = NIOLoopBound((self, context), eventLoop: eventLoop)
        resolved.flatMap { resolution -> EventLoopFuture<Result<any Channel, OutboundFailure>> in
            switch resolution {
            case .success(let address):
                guard let source else {
                    return eventLoop.makeSucceededFuture(.failure(OutboundFailure(.general, "client address unknown")))
                }
                return outbound.connect(OutboundRequest(source: source, destination: address, eventLoop: eventLoop))
            case .failure(let failure):
                return eventLoop.makeSucceededFuture(.failure(failure))
            }
        }.hop(to: eventLoop).whenSuccess { result in
            let (handler, context) = loopBound.value
            handler.connected(context: context, result: result, destination: destination)
        }
    }

    private func connected(
        context: ChannelHandlerContext, result: Result<any Channel, OutboundFailure>, destination: SOCKS5.Destination
    ) {
        switch result {
        case .failure(let failure):
            fail(context: context, reply: SOCKS5.reply(failure.kind.socksReply), reason: "\(destination): \(failure)")
        case .success(let upstream):
            guard case .connecting = state, context.channel.isActive else {
                upstream.close(promise: nil)
                return
            }
            state = .done
            let bound = upstream.localAddress.flatMap { address in
                address.ipBytes.map { ($0, UInt16(truncatingIfNeeded: address.port ?? 0)) }
            }
            outbound.logger.debug("SOCKS5 connected", metadata: ["destination": "\(destination)"])
            context.writeAndFlush(wrapOutboundOut(SOCKS5.reply(.succeeded, bound: bound)), promise: nil)
            let channel = context.channel
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            outbound.relay(accepted: channel, upstream: upstream)
        }
    }

    /// Answers `reply` (if any), then closes.
    private func fail(context: ChannelHandlerContext, reply: ByteBuffer?, reason: String) {
        state = .done
        outbound.logger.debug("SOCKS5 request failed", metadata: ["reason": "\(reason)"])
        guard let reply else {
            context.close(promise: nil)
            return
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(reply)).whenComplete { _ in channel.close(promise: nil) }
    }
}

extension OutboundFailure.Kind {
    /// The SOCKS5 reply for this failure.
    var socksReply: SOCKS5.Reply {
        switch self {
        case .denied: .notAllowedByRuleset
        case .unreachable: .hostUnreachable
        case .refused: .connectionRefused
        case .general: .generalFailure
        }
    }
}
