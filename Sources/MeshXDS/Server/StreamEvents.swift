import Synchronization

/// What wakes a stream's loop task.
enum StreamEvent: Sendable {
    /// Cache changes are waiting in ``PendingChanges``.
    case wake
    /// The request stream ended (with an error, or nil when the client closed it).
    case end((any Error)?)
}

/// A stream's inbox: cache changes collected between two turns of its session, merged per type
/// URL (so a burst of updates becomes one push per type, in push order), and requests that
/// arrived while another task had the turn.
///
/// Two tasks serve a stream: its reader, which handles each request itself, and its loop, woken
/// by cache changes, which pushes them. Only one of them has the session's turn at a time
/// (``take(_:)`` or ``takeTurn()`` gave it); whatever arrives meanwhile waits here, and the task
/// with the turn handles it (``next(pushing:)``) before giving the turn back. So an ACK is
/// handled on the task that read it, without a hop to the loop task, and the session still sees
/// one event at a time.
///
/// The reader never pushes: it hands waiting changes to the loop and goes back to reading. A
/// reader busy pushing a stream of changes would stop reading ACKs, and a client that blocks
/// on writing its ACKs once the server stops reading them would stop reading pushes: both
/// would wait for ever.
final class PendingChanges<Request: Sendable>: Sendable {
    struct State {
        var changes: [String: ChangeSet] = [:]
        var scheduled = false
        var since: ContinuousClock.Instant?
        /// Requests that arrived while the turn was taken, in arrival order.
        var requests: [Request] = []
        var requestsHead = 0
        /// Whether a task has the session's turn.
        var busy = false

        /// The changes in push order, emptied.
        mutating func takeChanges() -> (changes: [(String, ChangeSet)], since: ContinuousClock.Instant?) {
            let out: [(String, ChangeSet)]
            if changes.count == 1, let only = changes.first {
                out = [(only.key, only.value)]
            } else {
                out = changes.sorted { (TypeURL.rank($0.key), $0.key) < (TypeURL.rank($1.key), $1.key) }
                    .map { ($0.key, $0.value) }
            }
            let taken = since
            changes = [:]
            scheduled = false
            since = nil
            return (out, taken)
        }
    }

    /// What the task with the turn does next.
    enum Next {
        case request(Request)
        case changes([(String, ChangeSet)], since: ContinuousClock.Instant?)
        /// Nothing is waiting for this task: the turn was given back.
        case done
    }

    let state = Mutex(State())
    let continuation: AsyncStream<StreamEvent>.Continuation

    init(_ continuation: AsyncStream<StreamEvent>.Continuation) {
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
            // The task with the turn sees the change before giving the turn back.
            if state.scheduled || state.busy { return false }
            state.scheduled = true
            return true
        }
        if wake { continuation.yield(.wake) }
    }

    /// Takes the turn for `request` (the reader): returns it if the caller now has the turn (and
    /// must handle it, then follow ``next(pushing:)`` until `.done`), or nil if it was queued for
    /// the task that has it.
    func take(_ request: Request) -> Request? {
        state.withLock { state in
            if state.busy {
                state.requests.append(request)
                return nil
            }
            state.busy = true
            return request
        }
    }

    /// Takes the turn if no task has it (the loop); the caller then follows ``next(pushing:)``
    /// until `.done`.
    func takeTurn() -> Bool {
        state.withLock { state in
            if state.busy {
                // This wake is spent: the reader, which has the turn, wakes the loop again if
                // changes still wait when it gives the turn back.
                state.scheduled = false
                return false
            }
            state.busy = true
            return true
        }
    }

    /// The next thing waiting, for the task with the turn: queued requests first (in arrival
    /// order), then the changes if `pushing` (the loop); `.done` gives the turn back, and, if
    /// changes wait for a task that does not push (the reader), wakes the loop for them.
    func next(pushing: Bool) -> Next {
        var wake = false
        let next = state.withLock { state -> Next in
            if state.requestsHead < state.requests.count {
                let request = state.requests[state.requestsHead]
                state.requestsHead += 1
                if state.requestsHead == state.requests.count {
                    state.requests.removeAll(keepingCapacity: true)
                    state.requestsHead = 0
                }
                return .request(request)
            }
            if !state.changes.isEmpty {
                if pushing {
                    let (changes, since) = state.takeChanges()
                    return .changes(changes, since: since)
                }
                if !state.scheduled {
                    state.scheduled = true
                    wake = true
                }
            }
            state.busy = false
            return .done
        }
        if wake { continuation.yield(.wake) }
        return next
    }
}
