import Foundation

/// The server's view of one connected xDS client, serialisable for a debug endpoint
/// (`/debug/syncz`-style).
public struct ClientStatus: Sendable, Codable, Equatable {
    /// Which ADS flavour the stream speaks.
    public enum Mode: String, Sendable, Codable {
        /// State of the world.
        case sotw
        /// Incremental.
        case delta
    }

    /// A rejected response.
    public struct Nack: Sendable, Codable, Equatable {
        /// The version the client still runs (SotW `version_info`; for delta, the last acked).
        public var keptVersion: String
        /// The nonce of the rejected response.
        public var nonce: String
        /// The version that was rejected.
        public var rejectedVersion: String
        /// The client's `error_detail.message`.
        public var message: String
        /// When the NACK arrived.
        public var at: Date
    }

    /// Per type URL progress.
    public struct TypeStatus: Sendable, Codable, Equatable {
        /// Version of the newest response sent.
        public var lastSentVersion: String?
        /// Nonce of the newest response sent.
        public var lastSentNonce: String?
        /// Newest version the client acknowledged.
        public var lastAckedVersion: String?
        /// Nonce the newest ACK echoed.
        public var lastAckedNonce: String?
        /// Newest NACK, if any (cleared by a later ACK of a newer version? no: kept for history).
        public var lastNack: Nack?
        /// Responses sent.
        public var responses: Int = 0
        /// Names the client subscribed to (`["*"]` for wildcard).
        public var subscribed: [String] = []
    }

    /// Server-assigned stream id.
    public var streamID: UInt64
    /// `node.id` from the first request.
    public var nodeID: String
    /// `node.cluster`.
    public var cluster: String
    /// SotW or delta.
    public var mode: Mode
    /// When the stream opened.
    public var connectedSince: Date
    /// Progress by type URL.
    public var types: [String: TypeStatus]

    /// Whether every type that was sent has been acknowledged at its newest version.
    public var isSynced: Bool {
        types.values.allSatisfy { $0.lastSentVersion == nil || $0.lastAckedNonce == $0.lastSentNonce }
    }
}
