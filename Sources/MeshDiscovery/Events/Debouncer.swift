import Synchronization

/// How events are grouped into batches: a batch is delivered once no event arrived for
/// ``quietPeriod``, or ``maximumDelay`` after its first event, whichever comes first
/// (Istio's `PILOT_DEBOUNCE_AFTER` and `PILOT_DEBOUNCE_MAX`).
public struct DebounceOptions: Sendable, Hashable {
    public var quietPeriod: Duration
    public var maximumDelay: Duration

    public init(quietPeriod: Duration = MeshConstants.debounceAfter, maximumDelay: Duration = MeshConstants.debounceMax) {
        self.quietPeriod = quietPeriod
        self.maximumDelay = maximumDelay
    }

    /// 100 ms quiet period, 10 s maximum delay.
    public static let istio = DebounceOptions()
}

/// Turns a stream of events into coalesced batches.
public enum Debouncer {
    private struct State {
        var batch = MeshEventBatch()
        var first: ContinuousClock.Instant?
        var last: ContinuousClock.Instant?
        var inputFinished = false
    }

    private final class SharedState: Sendable {
        let mutex = Mutex(State())
        func withLock<R>(_ body: (inout State) -> R) -> R { mutex.withLock { body(&$0) } }
    }

    /// Batches of `events`, debounced with `options`. The returned stream ends after the
    /// input ends (delivering what is pending), and stops consuming the input when its
    /// consumer goes away.
    public static func batches<Input: AsyncSequence & Sendable>(
        of events: Input, options: DebounceOptions = .istio
    ) -> AsyncStream<MeshEventBatch> where Input.Element == MeshEvent {
        let (output, continuation) = AsyncStream.makeStream(of: MeshEventBatch.self, bufferingPolicy: .unbounded)
        let (wake, waker) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let state = SharedState()
        let clock = ContinuousClock()

        let pump = Task {
            do {
                for try await event in events {
                    let now = clock.now
                    state.withLock { s in
                        s.batch.append(event)
                        if s.first == nil { s.first = now }
                        s.last = now
                    }
                    waker.yield()
                }
            } catch {}
            state.withLock { $0.inputFinished = true }
            waker.yield()
        }

        let timer = Task {
            var wakeups = wake.makeAsyncIterator()
            while !Task.isCancelled {
                let (deadline, finished): (ContinuousClock.Instant?, Bool) = state.withLock { s in
                    guard let first = s.first, let last = s.last else { return (nil, s.inputFinished) }
                    return (min(last + options.quietPeriod, first + options.maximumDelay), s.inputFinished)
                }
                if finished || (deadline.map { clock.now >= $0 } ?? false) {
                    let batch = state.withLock { s in
                        defer { s.batch = MeshEventBatch(); s.first = nil; s.last = nil }
                        return s.batch
                    }
                    if !batch.isEmpty { continuation.yield(batch) }
                    if finished { break }
                    continue
                }
                if let deadline {
                    try? await Task.sleep(until: deadline, clock: clock)
                } else if await wakeups.next() == nil {
                    break
                }
            }
            continuation.finish()
        }

        continuation.onTermination = { _ in
            pump.cancel()
            timer.cancel()
            waker.finish()
        }
        return output
    }
}
