import Foundation
import Synchronization

/// Status of every connected client of one server, safe to read from any task.
public final class StatusRegistry: Sendable {
    let clients = Mutex<[UInt64: ClientStatus]>([:])

    /// Creates an empty registry.
    public init() {}

    /// Every connected client, ordered by stream id.
    public var all: [ClientStatus] {
        clients.withLock { $0.values.sorted { $0.streamID < $1.streamID } }
    }

    /// Connected clients whose `node.id` is `nodeID`.
    public func clients(nodeID: String) -> [ClientStatus] {
        all.filter { $0.nodeID == nodeID }
    }

    /// The status of one stream.
    public func client(streamID: UInt64) -> ClientStatus? {
        clients.withLock { $0[streamID] }
    }

    /// The status of one type on one stream: what ``client(streamID:)`` would say about
    /// `typeURL`, without copying the rest of the stream's status (cheap enough for a callback
    /// that runs on every request).
    public func typeStatus(streamID: UInt64, typeURL: String) -> ClientStatus.TypeStatus? {
        clients.withLock { clients in
            guard let index = clients.index(forKey: streamID) else { return nil }
            return clients.values[index].types[typeURL]
        }
    }

    /// JSON for a debug endpoint.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(all)
    }

    func open(_ status: ClientStatus) {
        clients.withLock { $0[status.streamID] = status }
    }

    func close(_ streamID: UInt64) {
        clients.withLock { _ = $0.removeValue(forKey: streamID) }
    }

    func update(_ streamID: UInt64, _ body: (inout ClientStatus) -> Void) {
        clients.withLock { clients in
            // In place: copying the status out and back would copy its `types` on every update.
            guard let index = clients.index(forKey: streamID) else { return }
            body(&clients.values[index])
        }
    }

    func updateType(_ streamID: UInt64, _ typeURL: String, _ body: (inout ClientStatus.TypeStatus) -> Void) {
        update(streamID) { status in
            body(&status.types[typeURL, default: ClientStatus.TypeStatus()])
        }
    }
}
