/// One `key=value` label.
public struct LabelPair: Sendable, Hashable {
    public var key: String
    public var value: String

    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}

/// Equality-based label matching, as Service selectors and `matchLabels` use it.
public enum Labels {
    /// True when `labels` carries every pair of `selector`. An empty selector matches everything.
    @inlinable
    public static func match(_ selector: [String: String], _ labels: [String: String]) -> Bool {
        for (key, value) in selector where labels[key] != value { return false }
        return true
    }
}
