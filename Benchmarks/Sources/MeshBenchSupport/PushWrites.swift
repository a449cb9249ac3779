import CoreMetrics
import Synchronization

/// The server's side of a push, from its `pilot_xds_push_time` timer: the longest time from a
/// cache change to a response handed to its stream's transport, i.e. when the server had written
/// the change to every client that got it. Installed as the process's metrics backend by
/// mesh-bench; every other instrument is a no-op.
public final class PushWrites: MetricsFactory, Sendable {
    public static let shared = PushWrites()

    let longest = Atomic<Int64>(0)

    /// Forgets the pushes so far (call before a push).
    public func reset() { longest.store(0, ordering: .relaxed) }

    /// The longest push time recorded since ``reset()``, in nanoseconds (0 if none).
    public var longestNanoseconds: Int64 { longest.load(ordering: .relaxed) }

    final class LongestTimer: TimerHandler {
        let owner: PushWrites
        init(_ owner: PushWrites) { self.owner = owner }

        func recordNanoseconds(_ duration: Int64) {
            var current = owner.longest.load(ordering: .relaxed)
            while duration > current {
                let (exchanged, original) = owner.longest.compareExchange(
                    expected: current, desired: duration, ordering: .relaxed)
                if exchanged { return }
                current = original
            }
        }
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        label == "pilot_xds_push_time" ? LongestTimer(self) : NOOPMetricsHandler.instance
    }
    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        NOOPMetricsHandler.instance
    }
    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        NOOPMetricsHandler.instance
    }
    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        NOOPMetricsHandler.instance
    }
    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        NOOPMetricsHandler.instance
    }
    public func destroyCounter(_ handler: any CounterHandler) {}
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    public func destroyMeter(_ handler: any MeterHandler) {}
    public func destroyRecorder(_ handler: any RecorderHandler) {}
    public func destroyTimer(_ handler: any TimerHandler) {}
}
