import Synchronization

/// What a stream's single loop reacts to.
enum StreamEvent<Request: Sendable>: Sendable {
    case request(Request)
    /// Cache changes are waiting in ``PendingChanges``.
    case wake
    case end((any Error)?)
}

/// Cache changes collected between two turns of a stream's loop, merged per type URL, so a burst
/// of updates becomes one push per type, in push order.
final class PendingChanges<Request: Sendable>: Sendable {
    struct State {
        var changes: [String: ChangeSet] = [:]
        var scheduled = false
        var since: ContinuousClock.Instant?
    }

    let state = Mutex(State())
    let continuation: AsyncStream<StreamEvent<Request>>.Continuation

    init(_ continuation: AsyncStream<StreamEvent<Request>>.Continuation) {
        self.continuation = continuation
    }

    func add(_ typeURL: String, _ change: ChangeSet) {
        let wake = state.withLock { state -> Bool in
            switch (state.changes[typeURL], change) {
            case (nil, _): state.changes[typeURL] = change
            case (.names(let a)?, .names(let b)): state.changes[typeURL] = .names(a.union(b))
            default: state.changes[typeURL] = .all
            }
            if state.since == nil { state.since = .now }
            if state.scheduled { return false }
            state.scheduled = true
            return true
        }
        if wake { continuation.yield(.wake) }
    }

    /// Takes the pending changes in push order.
    func take() -> (changes: [(String, ChangeSet)], since: ContinuousClock.Instant?) {
        state.withLock { state in
            let out = state.changes.sorted { (TypeURL.rank($0.key), $0.key) < (TypeURL.rank($1.key), $1.key) }
            let since = state.since
            state.changes = [:]
            state.scheduled = false
            state.since = nil
            return (out.map { ($0.key, $0.value) }, since)
        }
    }
}
