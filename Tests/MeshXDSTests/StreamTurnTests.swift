import Testing
@testable import MeshXDS

/// ``PendingChanges`` hands a stream's session to one task at a time: the reader (for requests)
/// or the loop (for cache changes); whatever arrives meanwhile waits for the task with the turn.
@Suite struct StreamTurnTests {
    func inbox() -> (PendingChanges<Int>, AsyncStream<StreamEvent>) {
        let (events, continuation) = AsyncStream<StreamEvent>.makeStream()
        return (PendingChanges<Int>(continuation), events)
    }

    /// The wakes yielded so far (the stream is finished first, so this does not wait).
    func wakes(_ pending: PendingChanges<Int>, _ events: AsyncStream<StreamEvent>) async -> Int {
        pending.continuation.finish()
        var count = 0
        for await event in events { if case .wake = event { count += 1 } }
        return count
    }

    /// Follows `next(pushing:)` until the turn is given back; what was handled, in order.
    func drain(_ pending: PendingChanges<Int>, pushing: Bool) -> [String] {
        var seen: [String] = []
        while true {
            switch pending.next(pushing: pushing) {
            case .request(let request): seen.append("request \(request)")
            case .changes(let changes, let since):
                #expect(since != nil)
                seen.append(contentsOf: changes.map { "push \($0.0)" })
            case .done: return seen
            }
        }
    }

    @Test func requestsArrivingDuringATurnAreHandledInOrderAndTheReaderLeavesChangesToTheLoop() async {
        let (pending, events) = inbox()
        #expect(pending.take(1) == 1)  // nobody had the turn: the reader handles request 1 itself
        #expect(pending.take(2) == nil)  // queued
        pending.add(TypeURL.endpoint, .names(["a"]))  // no wake: the holder sees it
        #expect(pending.take(3) == nil)
        #expect(!pending.takeTurn())  // a loop woken meanwhile would leave it to the holder
        // The reader handles the queued requests, then gives the turn back and wakes the loop
        // for the change instead of pushing it (it must go back to reading ACKs).
        #expect(drain(pending, pushing: false) == ["request 2", "request 3"])
        #expect(pending.takeTurn())
        #expect(pending.take(4) == nil)  // the loop has the turn: queued, handled before the push
        #expect(drain(pending, pushing: true) == ["request 4", "push \(TypeURL.endpoint)"])
        #expect(pending.take(5) == 5)  // the turn was given back
        #expect(drain(pending, pushing: false) == [])
        #expect(await wakes(pending, events) == 1)
    }

    @Test func aWakeSpentWhileTheReaderHadTheTurnIsRenewedWhenItGivesTheTurnBack() async {
        let (pending, events) = inbox()
        pending.add(TypeURL.endpoint, .all)  // wakes the loop
        #expect(pending.take(1) == 1)  // but the reader takes the turn first
        #expect(!pending.takeTurn())  // the loop, woken, finds it taken
        #expect(drain(pending, pushing: false) == [])  // the reader leaves the change: a new wake
        #expect(pending.takeTurn())
        #expect(drain(pending, pushing: true) == ["push \(TypeURL.endpoint)"])
        #expect(await wakes(pending, events) == 2)
    }

    @Test func aChangeWithNobodyHoldingTheTurnWakesTheLoopOnce() async {
        let (pending, events) = inbox()
        pending.add(TypeURL.cluster, .all)
        pending.add(TypeURL.endpoint, .names(["a"]))
        pending.add(TypeURL.endpoint, .names(["b"]))
        #expect(pending.takeTurn())
        guard case .changes(let changes, _) = pending.next(pushing: true) else {
            Issue.record("expected the changes")
            return
        }
        // Merged per type, in push order (clusters before endpoints).
        #expect(changes.map(\.0) == [TypeURL.cluster, TypeURL.endpoint])
        if case .names(let names) = changes[1].1 { #expect(names == ["a", "b"]) } else { Issue.record("names") }
        #expect(drain(pending, pushing: true) == [])
        #expect(await wakes(pending, events) == 1)
    }
}
