import CoreMetrics
import Synchronization

/// The server's side of a push, from its `pilot_xds_push_time` timer: the time from a cache
/// change to a response handed to each stream's transport. The longest is when the server had
/// written the change to every client that got it; the spread of all of them shows whether the
/// writes start late or are paced by the cost per stream. Installed as the process's metrics
/// backend by mesh-bench; every other instrument is a no-op.
public final class PushWrites: MetricsFactory, Sendable {
    public static let shared = PushWrites()

    let recorded = Mutex<[Int64]>([])

    /// Forgets the pushes so far (call before a push).
    public func reset() { recorded.withLock { $0.removeAll(keepingCapacity: true) } }

    /// Every push time recorded since ``reset()``, in nanoseconds, shortest first.
    public var sortedNanoseconds: [Int64] { recorded.withLock { $0 }.sorted() }

    final class Recorder: TimerHandler {
        let owner: PushWrites
        init(_ owner: PushWrites) { self.owner = owner }

        func recordNanoseconds(_ duration: Int64) {
            owner.recorded.withLock { $0.append(duration) }
        }
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        label == "pilot_xds_push_time" ? Recorder(self) : NOOPMetricsHandler.instance
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
