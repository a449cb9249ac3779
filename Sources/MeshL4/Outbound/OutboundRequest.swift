import NIOCore

/// One intercepted outbound connection.
public struct OutboundRequest: Sendable {
    /// The application's address (the remote address of the accepted socket).
    public var source: SocketAddress
    /// Where it asked to go: the SOCKS5 request's destination, or the socket's `SO_ORIGINAL_DST`.
    public var destination: SocketAddress
    /// The accepted channel's event loop: connect there to avoid hops between loops.
    public var eventLoop: any EventLoop

    /// Creates a request.
    public init(source: SocketAddress, destination: SocketAddress, eventLoop: any EventLoop) {
        self.source = source
        self.destination = destination
        self.eventLoop = eventLoop
    }
}

/// Why an ``OutboundConnector`` could not connect a request. The SOCKS5 listener answers with the
/// matching reply code; the transparent listener closes the connection.
public struct OutboundFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public enum Kind: Sendable, Hashable {
        /// Policy denies the connection (SOCKS5 reply `0x02`, not allowed by ruleset).
        case denied
        /// No route to the destination, or the name did not resolve (`0x04`, host unreachable).
        case unreachable
        /// The destination refused the connection (`0x05`, connection refused).
        case refused
        /// Anything else (`0x01`, general failure).
        case general
    }

    /// The kind of failure.
    public var kind: Kind
    /// What went wrong, for logs.
    public var reason: String

    /// Creates a failure.
    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public var description: String { "\(kind): \(reason)" }
}

/// Connects one request: returns an *active* byte channel with `autoRead` off (a TCP socket, or
/// the stream channel of ``HBONEClient/openChannel(to:via:expectedIdentities:source:)``), which the
/// listener then relays to with ``RelayHandler/join(_:_:)``. The listener owns the returned
/// channel from then on and closes it with the connection.
///
/// A TCP socket should allow remote half-closure and end its pipeline with a ``RelayInputHold``:
/// NIO reads a socket to its EOF when the peer closes it, even with `autoRead` off, and the hold
/// keeps those bytes until the join (an HBONE stream buffers them by itself).
public typealias OutboundConnector = @Sendable (OutboundRequest) async throws(OutboundFailure) -> any Channel
