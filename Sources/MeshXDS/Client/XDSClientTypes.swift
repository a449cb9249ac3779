import MeshProto

/// How an ``XDSClient`` connects and who it says it is.
public struct XDSClientConfiguration: Sendable {
    /// Which ADS flavour to speak.
    public enum Mode: Sendable, Equatable {
        /// Incremental ADS (the default, as ztunnel uses).
        case delta
        /// State-of-the-world ADS.
        case sotw
    }

    /// Server host (an IPv4 address).
    public var host: String
    /// Server port.
    public var port: Int
    /// The node sent on each stream's first requests (see ``IstioNode``).
    public var node: Envoy_Config_Core_V3_Node
    /// Delta or SotW.
    public var mode: Mode
    /// Reconnect policy.
    public var backoff: Backoff

    /// Creates a configuration.
    public init(
        host: String, port: Int, node: Envoy_Config_Core_V3_Node, mode: Mode = .delta,
        backoff: Backoff = Backoff()
    ) {
        self.host = host
        self.port = port
        self.node = node
        self.mode = mode
        self.backoff = backoff
    }
}

/// One accepted-or-rejected change of one type, handed to a subscription's handler.
public struct XDSClientUpdate: Sendable {
    /// The type URL.
    public var typeURL: String
    /// The response's version (SotW `version_info`; delta `system_version_info`).
    public var version: String
    /// Resources added or changed by this response.
    public var updated: [XDSResource]
    /// Names removed by this response.
    public var removed: [String]
    /// The whole state after this response, if the handler accepts it.
    public var all: [String: XDSResource]

    /// Creates an update (the client makes them; embedders and tests can too).
    public init(typeURL: String, version: String, updated: [XDSResource], removed: [String], all: [String: XDSResource]) {
        self.typeURL = typeURL
        self.version = version
        self.updated = updated
        self.removed = removed
        self.all = all
    }
}

/// Why a handler refused an update; its `message` becomes the NACK's `error_detail`.
public struct XDSRejection: Error, Sendable, CustomStringConvertible {
    /// Human-readable reason.
    public var message: String
    /// Creates a rejection.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Progress of one subscription, for status pages and tests.
public struct XDSSubscriptionStatus: Sendable, Equatable {
    /// Newest accepted version.
    public var acceptedVersion: String
    /// Number of accepted responses.
    public var accepted: Int
    /// Number of rejected responses.
    public var rejected: Int
    /// Message of the newest rejection.
    public var lastError: String?
    /// Resources held.
    public var resourceCount: Int
}

/// What a client reports as it runs.
public enum XDSClientEvent: Sendable {
    /// A stream opened (`attempt` counts connections, from 1).
    case connected(attempt: Int)
    /// The stream ended; the client will retry after `retryIn`.
    case disconnected(reason: String, retryIn: Duration)
    /// A response was accepted and ACKed.
    case accepted(typeURL: String, version: String)
    /// A response was rejected and NACKed.
    case rejected(typeURL: String, message: String)
}
