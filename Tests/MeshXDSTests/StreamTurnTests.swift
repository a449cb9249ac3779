import Testing
@testable import MeshXDS

/// ``PendingChanges`` hands a stream's session to one task at a time: the reader (for requests)
/// or the loop (for cache changes); whatever arrives meanwhile waits for the task with the turn.
@Suite struct StreamTurnTests {
    func inbox() -> (PendingChanges<Int>, AsyncStream<StreamEvent>) {
        let (events, continuation) = AsyncStream<StreamEvent>.makeStream()
        return (PendingChanges<Int>(continuation), events)
    }

    /// The events yielded so far (the stream is finished first, so this does not wait).
    func wakes(_ pending: PendingChanges<Int>, _ events: AsyncStream<StreamEvent>) async -> Int {
        pending.continuation.finish()
        var count = 0
        for await event in events { if case .wake = event { count += 1 } }
        return count
    }

    @Test func requestsArrivingDuringATurnAreHandledByItsHolderInOrderBeforeChanges() async {
        let (pending, events) = inbox()
        #expect(pending.take(1) == 1)  // nobody had the turn: the reader handles request 1 itself
        #expect(pending.take(2) == nil)  // queued
        pending.add(TypeURL.endpoint, .names(["a"]))
        #expect(pending.take(3) == nil)
        #expect(!pending.takeTurn())  // the loop, woken meanwhile, leaves it to the holder
        var seen: [String] = []
        loop: while true {
            switch pending.next() {
            case .request(let request): seen.append("request \(request)")
            case .changes(let changes, let since):
                #expect(since != nil)
                seen.append(contentsOf: changes.map { "push \($0.0)" })
            case .done: break loop
            }
        }
        #expect(seen == ["request 2", "request 3", "push \(TypeURL.endpoint)"])
        // The turn was given back: the next request is handled by whoever read it.
        #expect(pending.take(4) == 4)
        #expect({ if case .done = pending.next() { true } else { false } }())
        // A change made while the turn was taken woke nobody: its holder pushed it.
        #expect(await wakes(pending, events) == 0)
    }

    @Test func aChangeWithNobodyHoldingTheTurnWakesTheLoopOnce() async {
        let (pending, events) = inbox()
        pending.add(TypeURL.cluster, .all)
        pending.add(TypeURL.endpoint, .names(["a"]))
        pending.add(TypeURL.endpoint, .names(["b"]))
        #expect(pending.takeTurn())
        guard case .changes(let changes, _) = pending.next() else {
            Issue.record("expected the changes")
            return
        }
        // Merged per type, in push order (clusters before endpoints).
        #expect(changes.map(\.0) == [TypeURL.cluster, TypeURL.endpoint])
        if case .names(let names) = changes[1].1 { #expect(names == ["a", "b"]) } else { Issue.record("names") }
        #expect({ if case .done = pending.next() { true } else { false } }())
        #expect(await wakes(pending, events) == 1)
    }
}
