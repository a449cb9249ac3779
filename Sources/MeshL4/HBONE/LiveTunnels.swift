import NIOCore
import Synchronization

/// The established tunnels of an ``HBONEServer`` with what they were authorized on, so a
/// policy change can be applied to connections already open (ztunnel re-checks them too).
final class LiveTunnels: Sendable {
    struct Entry: Sendable {
        let info: HBONEConnectionInfo
        let stream: any Channel
    }

    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])

    /// Tracks `stream` until it closes.
    func add(_ info: HBONEConnectionInfo, stream: any Channel) {
        let id = ObjectIdentifier(stream)
        entries.withLock { $0[id] = Entry(info: info, stream: stream) }
        stream.closeFuture.whenComplete { [self] _ in
            _ = entries.withLock { $0.removeValue(forKey: id) }
        }
    }

    var all: [Entry] { entries.withLock { Array($0.values) } }
}

/// Sent down a tunnel's stream pipeline when authorization no longer allows it: the stream
/// handler records the denial and resets the stream (its upstream closes with it).
struct TunnelAuthorizationRevoked: Sendable {
    var reason: String
}
