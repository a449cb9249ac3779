import MeshProto

/// A request as a callback sees it.
public enum XDSRequest: Sendable {
    /// A SotW request.
    case sotw(Envoy_Service_Discovery_V3_DiscoveryRequest)
    /// A delta request.
    case delta(Envoy_Service_Discovery_V3_DeltaDiscoveryRequest)
}

/// A response as a callback sees it.
public enum XDSResponse: Sendable {
    /// A SotW response.
    case sotw(Envoy_Service_Discovery_V3_DiscoveryResponse)
    /// A delta response.
    case delta(Envoy_Service_Discovery_V3_DeltaDiscoveryResponse)
}

/// Hooks for embedding the server: observe streams, veto requests, audit responses.
///
/// Callbacks run on the stream's task, in order; keep them short and never block in them: with
/// ``XDSServer/serve(host:port:onListening:)`` or a transport configured by
/// ``XDSServer/runningStreamsOnConnectionLoops(_:)`` that task runs on the connection's event loop,
/// whose other connections wait meanwhile. A `throw` from
/// ``onStreamOpen`` or ``onRequest`` ends the stream with that error.
public struct XDSCallbacks: Sendable {
    /// A stream opened (before its first request is read).
    public var onStreamOpen: (@Sendable (_ streamID: UInt64, _ mode: ClientStatus.Mode) throws -> Void)?
    /// A stream closed; `node` is nil if it never sent one.
    public var onStreamClosed: (@Sendable (_ streamID: UInt64, _ node: Envoy_Config_Core_V3_Node?) -> Void)?
    /// A request arrived (its `node` is filled in from the first request if the client omitted it).
    public var onRequest: (@Sendable (_ streamID: UInt64, _ request: XDSRequest) throws -> Void)?
    /// A response is about to be written.
    public var onResponse: (@Sendable (_ streamID: UInt64, _ response: XDSResponse) -> Void)?
    /// A client rejected a response (`typeURL`, the client's error text).
    public var onNack: (@Sendable (_ streamID: UInt64, _ typeURL: String, _ message: String) -> Void)?

    /// Creates callbacks; every hook is optional.
    public init(
        onStreamOpen: (@Sendable (UInt64, ClientStatus.Mode) throws -> Void)? = nil,
        onStreamClosed: (@Sendable (UInt64, Envoy_Config_Core_V3_Node?) -> Void)? = nil,
        onRequest: (@Sendable (UInt64, XDSRequest) throws -> Void)? = nil,
        onResponse: (@Sendable (UInt64, XDSResponse) -> Void)? = nil,
        onNack: (@Sendable (UInt64, String, String) -> Void)? = nil
    ) {
        self.onStreamOpen = onStreamOpen
        self.onStreamClosed = onStreamClosed
        self.onRequest = onRequest
        self.onResponse = onResponse
        self.onNack = onNack
    }
}
