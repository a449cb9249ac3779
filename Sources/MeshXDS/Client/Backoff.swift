/// Exponential reconnect backoff with jitter (ztunnel's: 10 ms, doubling, 15 s cap).
public struct Backoff: Sendable, Equatable {
    /// The first delay.
    public var initial: Duration
    /// The largest delay.
    public var maximum: Duration
    /// Growth factor per failed attempt.
    public var multiplier: Double
    /// Fraction of each delay that is randomised (0 = none, 1 = anywhere in 0…delay).
    public var jitter: Double

    /// Creates a backoff policy.
    public init(
        initial: Duration = .milliseconds(10), maximum: Duration = .seconds(15),
        multiplier: Double = 2, jitter: Double = 0.5
    ) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The un-jittered delay before retry number `attempt` (0-based).
    public func baseDelay(attempt: Int) -> Duration {
        let initialSeconds = Double(initial.components.seconds) + Double(initial.components.attoseconds) / 1e18
        let maxSeconds = Double(maximum.components.seconds) + Double(maximum.components.attoseconds) / 1e18
        let seconds = min(maxSeconds, initialSeconds * pow(multiplier, Double(min(attempt, 64))))
        return .nanoseconds(Int64(seconds * 1e9))
    }

    /// The delay before retry number `attempt`, with jitter drawn from `generator`.
    public func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let base = baseDelay(attempt: attempt)
        guard jitter > 0 else { return base }
        let fraction = 1 - jitter * Double.random(in: 0...1, using: &generator)
        let (seconds, attoseconds) = base.components
        let nanos = (Double(seconds) * 1e9 + Double(attoseconds) / 1e9) * fraction
        return .nanoseconds(Int64(nanos))
    }

    /// The delay before retry number `attempt`, with system randomness.
    public func delay(attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &generator)
    }
}

private func pow(_ base: Double, _ exponent: Double) -> Double {
    var result = 1.0
    var i = 0.0
    while i < exponent {
        result *= base
        i += 1
    }
    return result
}
