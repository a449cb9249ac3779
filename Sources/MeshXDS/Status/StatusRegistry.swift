import Foundation
import Synchronization

/// Status of every connected client of one server, safe to read from any task.
///
/// Each stream's status sits behind its own lock, which its session takes to record a response
/// or an ACK; the registry's lock only guards which streams exist. So the sessions of a push to
/// many clients, running on several threads, do not all queue on one lock.
public final class StatusRegistry: Sendable {
    /// One stream's status, updated by its session.
    final class Entry: Sendable {
        let status: Mutex<ClientStatus>

        init(_ status: ClientStatus) { self.status = Mutex(status) }

        func updateType(_ typeURL: String, _ body: (inout ClientStatus.TypeStatus) -> Void) {
            // In place: copying the status out and back would copy its `types` on every update.
            status.withLock { body(&$0.types[typeURL, default: ClientStatus.TypeStatus()]) }
        }
    }

    let clients = Mutex<[UInt64: Entry]>([:])

    /// Creates an empty registry.
    public init() {}

    /// Every connected client, ordered by stream id.
    public var all: [ClientStatus] {
        clients.withLock { Array($0.values) }.map { $0.status.withLock { $0 } }.sorted { $0.streamID < $1.streamID }
    }

    /// Connected clients whose `node.id` is `nodeID`.
    public func clients(nodeID: String) -> [ClientStatus] {
        all.filter { $0.nodeID == nodeID }
    }

    /// The status of one stream.
    public func client(streamID: UInt64) -> ClientStatus? {
        clients.withLock { $0[streamID] }?.status.withLock { $0 }
    }

    /// The status of one type on one stream: what ``client(streamID:)`` would say about
    /// `typeURL`, without copying the rest of the stream's status (cheap enough for a callback
    /// that runs on every request).
    public func typeStatus(streamID: UInt64, typeURL: String) -> ClientStatus.TypeStatus? {
        clients.withLock { $0[streamID] }?.status.withLock { $0.types[typeURL] }
    }

    /// JSON for a debug endpoint.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(all)
    }

    /// Registers a stream; its session updates the returned entry.
    func open(_ status: ClientStatus) -> Entry {
        let entry = Entry(status)
        clients.withLock { $0[status.streamID] = entry }
        return entry
    }

    func close(_ streamID: UInt64) {
        clients.withLock { _ = $0.removeValue(forKey: streamID) }
    }
}
