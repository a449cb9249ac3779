import Synchronization

/// Fans events out to any number of subscribers, each with an unbounded buffer so that no
/// update is ever dropped, in the order they were published.
final class EventHub: Sendable {
    private struct Subscribers {
        var next = 0
        var continuations: [Int: AsyncStream<MeshEvent>.Continuation] = [:]
    }
    private let subscribers = Mutex(Subscribers())

    /// A new subscription; it ends when the consumer stops iterating or the hub finishes.
    func subscribe() -> AsyncStream<MeshEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: MeshEvent.self, bufferingPolicy: .unbounded)
        let id = subscribers.withLock { s in
            s.next += 1
            s.continuations[s.next] = continuation
            return s.next
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.continuations.removeValue(forKey: id) }
        }
        return stream
    }

    var hasSubscribers: Bool { subscribers.withLock { !$0.continuations.isEmpty } }

    /// Delivers events to every subscriber. Callers serialise calls to keep the order.
    func publish(_ events: [MeshEvent]) {
        guard !events.isEmpty else { return }
        subscribers.withLock { s in
            for continuation in s.continuations.values {
                for event in events { continuation.yield(event) }
            }
        }
    }

    /// Ends every subscription.
    func finish() {
        let all = subscribers.withLock { s in
            defer { s.continuations.removeAll() }
            return Array(s.continuations.values)
        }
        for c in all { c.finish() }
    }
}
