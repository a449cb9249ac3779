/// Exponential backoff with jitter between reconnection attempts.
public struct Backoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double
    /// Fraction of each delay randomised (0.2 = ±20 %).
    public var jitter: Double

    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(30), multiplier: Double = 2, jitter: Double = 0.2) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The delay before attempt `attempt` (0-based) after failures.
    public func delay(attempt: Int) -> Duration {
        var d = initial
        for _ in 0..<min(attempt, 62) {
            d = d * multiplier
            if d >= maximum { d = maximum; break }
        }
        let factor = 1 + Double.random(in: -jitter...jitter)
        return d * factor
    }
}
