import NIOCore
import NIOHTTP2

/// HTTP/2 settings of an HBONE endpoint. The defaults are ztunnel's.
public struct HBONEHTTP2Configuration: Sendable, Hashable {
    /// Initial stream flow-control window (SETTINGS_INITIAL_WINDOW_SIZE).
    public var streamWindowSize: Int
    /// Connection flow-control window.
    public var connectionWindowSize: Int
    /// SETTINGS_MAX_FRAME_SIZE.
    public var maxFrameSize: Int
    /// SETTINGS_MAX_CONCURRENT_STREAMS advertised (servers; nil: not advertised).
    public var maxConcurrentStreams: Int?
    /// SETTINGS_MAX_HEADER_LIST_SIZE.
    public var maxHeaderListSize: Int
    /// PING interval (nil: no keepalive).
    public var keepaliveInterval: TimeAmount?
    /// A PING unanswered for this long closes the connection.
    public var keepaliveTimeout: TimeAmount
    /// Bytes written to a stream but not yet sent (flow control) above which the stream reports
    /// itself unwritable, so the relay stops reading the other side.
    public var streamSendBufferHighWatermark: Int
    /// Below this the stream is writable again.
    public var streamSendBufferLowWatermark: Int

    /// Creates a configuration.
    public init(
        streamWindowSize: Int = L4Constants.streamWindowSize,
        connectionWindowSize: Int = L4Constants.connectionWindowSize,
        maxFrameSize: Int = L4Constants.maxFrameSize, maxConcurrentStreams: Int?, maxHeaderListSize: Int,
        keepaliveInterval: TimeAmount? = L4Constants.keepaliveInterval,
        keepaliveTimeout: TimeAmount = L4Constants.keepaliveTimeout,
        streamSendBufferHighWatermark: Int = 256 * 1024, streamSendBufferLowWatermark: Int = 128 * 1024
    ) {
        self.streamWindowSize = streamWindowSize
        self.connectionWindowSize = connectionWindowSize
        self.maxFrameSize = maxFrameSize
        self.maxConcurrentStreams = maxConcurrentStreams
        self.maxHeaderListSize = maxHeaderListSize
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveTimeout = keepaliveTimeout
        self.streamSendBufferHighWatermark = streamSendBufferHighWatermark
        self.streamSendBufferLowWatermark = streamSendBufferLowWatermark
    }

    /// ztunnel's server side: 200 concurrent streams, 64 KiB header lists.
    public static let server = HBONEHTTP2Configuration(
        maxConcurrentStreams: L4Constants.serverMaxConcurrentStreams, maxHeaderListSize: L4Constants.serverMaxHeaderListSize)
    /// ztunnel's client side: push disabled, 16 KiB header lists.
    public static let client = HBONEHTTP2Configuration(
        maxConcurrentStreams: nil, maxHeaderListSize: L4Constants.clientMaxHeaderListSize)

    func initialSettings(isServer: Bool) -> HTTP2Settings {
        var settings: HTTP2Settings = [
            HTTP2Setting(parameter: .initialWindowSize, value: streamWindowSize),
            HTTP2Setting(parameter: .maxFrameSize, value: maxFrameSize),
            HTTP2Setting(parameter: .maxHeaderListSize, value: maxHeaderListSize),
        ]
        if let maxConcurrentStreams {
            settings.append(HTTP2Setting(parameter: .maxConcurrentStreams, value: maxConcurrentStreams))
        }
        if !isServer { settings.append(HTTP2Setting(parameter: .enablePush, value: 0)) }
        return settings
    }

    func connectionConfiguration(isServer: Bool) -> NIOHTTP2Handler.ConnectionConfiguration {
        var configuration = NIOHTTP2Handler.ConnectionConfiguration()
        configuration.initialSettings = initialSettings(isServer: isServer)
        configuration.targetWindowSize = connectionWindowSize
        // A tunnel's DATA frames may legitimately be empty (END_STREAM alone).
        configuration.maximumSequentialEmptyDataFrames = 16
        return configuration
    }

    func streamConfiguration() -> NIOHTTP2Handler.StreamConfiguration {
        var configuration = NIOHTTP2Handler.StreamConfiguration()
        configuration.targetWindowSize = streamWindowSize
        configuration.outboundBufferSizeHighWatermark = streamSendBufferHighWatermark
        configuration.outboundBufferSizeLowWatermark = streamSendBufferLowWatermark
        return configuration
    }
}
