import NIOCore

/// Protocol-level constants and defaults of MeshL4, kept in one place so they can be audited
/// against ztunnel (`shared/facts/ambient.md`, sections 2 and 7).
public enum L4Constants {
    /// The module's name, for logs.
    public static let moduleName = "MeshL4"

    // MARK: Ports

    /// ALPN protocol of HBONE.
    public static let alpnH2 = "h2"
    /// Inbound HBONE port.
    public static let hbonePort = 15008

    // MARK: HTTP/2 (ztunnel's `HTTP2_*` settings)

    /// Initial stream flow-control window: 4 MiB.
    public static let streamWindowSize = 4 * 1024 * 1024
    /// Connection flow-control window: 16 MiB.
    public static let connectionWindowSize = 16 * 1024 * 1024
    /// SETTINGS_MAX_FRAME_SIZE: 1 MiB.
    public static let maxFrameSize = 1024 * 1024
    /// SETTINGS_MAX_CONCURRENT_STREAMS advertised by the server.
    public static let serverMaxConcurrentStreams = 200
    /// Largest header list the client accepts: 16 KiB.
    public static let clientMaxHeaderListSize = 16 * 1024
    /// Largest header list the server accepts: 64 KiB.
    public static let serverMaxHeaderListSize = 64 * 1024
    /// First keepalive PING after this much time, then one per interval.
    public static let keepaliveInterval: TimeAmount = .seconds(10)
    /// A PING not acknowledged within this time drops the connection.
    public static let keepaliveTimeout: TimeAmount = .seconds(20)

    // MARK: Connection pool (ztunnel's `POOL_*`)

    /// Streams per pooled connection (`POOL_MAX_STREAMS_PER_CONNECTION`), further capped by the
    /// server's SETTINGS_MAX_CONCURRENT_STREAMS.
    public static let poolMaxStreamsPerConnection = 100
    /// A pooled connection nobody checks out for this long is released (`POOL_UNUSED_RELEASE_TIMEOUT`).
    public static let poolUnusedReleaseTimeout: TimeAmount = .minutes(5)
    /// Outbound TCP connect timeout.
    public static let connectTimeout: TimeAmount = .seconds(10)

    // MARK: Request and response

    /// The request method of a tunnel.
    public static let connectMethod = "CONNECT"
    /// Header carrying `for="ip:port"` (and `host=` when a service is known).
    public static let forwardedHeader = "forwarded"
    /// Header describing the source workload as `k=v` pairs.
    public static let baggageHeader = "baggage"
    /// W3C trace context header, `00-<32 hex>-<16 hex>-00`.
    public static let traceparentHeader = "traceparent"
    /// Status answered once the upstream is connected.
    public static let statusOK = 200
    /// Status for a request that is not a valid CONNECT (method, authority).
    public static let statusBadRequest = 400
    /// Status for a request denied by authorization.
    public static let statusUnauthorized = 401
    /// Status when the target is unknown or the upstream connect fails.
    public static let statusServiceUnavailable = 503

    // MARK: Metrics (Istio's standard TCP metrics)

    /// Counter of opened TCP connections.
    public static let connectionsOpenedMetric = "istio_tcp_connections_opened_total"
    /// Counter of closed TCP connections.
    public static let connectionsClosedMetric = "istio_tcp_connections_closed_total"
    /// Counter of bytes sent in the response direction (server to client).
    public static let sentBytesMetric = "istio_tcp_sent_bytes_total"
    /// Counter of bytes received in the request direction (client to server).
    public static let receivedBytesMetric = "istio_tcp_received_bytes_total"
    /// The value written for an unknown label.
    public static let unknownLabel = "unknown"
}
