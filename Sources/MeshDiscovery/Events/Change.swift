/// One change to a value in the model.
public enum Change<Value: Sendable & Equatable>: Sendable, Equatable {
    case added(Value)
    case updated(before: Value, after: Value)
    case removed(Value)

    /// The value after the change, nil when it was removed.
    public var after: Value? {
        switch self {
        case .added(let v), .updated(_, let v): return v
        case .removed: return nil
        }
    }

    /// The value before the change, nil when it was added.
    public var before: Value? {
        switch self {
        case .added: return nil
        case .updated(let v, _), .removed(let v): return v
        }
    }

    /// The change from `before` to `after`, or nil when nothing changed.
    public init?(before: Value?, after: Value?) {
        switch (before, after) {
        case (nil, nil): return nil
        case (nil, let a?): self = .added(a)
        case (let b?, nil): self = .removed(b)
        case (let b?, let a?):
            if b == a { return nil }
            self = .updated(before: b, after: a)
        }
    }

    /// The single change equivalent to `self` followed by `next`, or nil when they cancel out.
    public func then(_ next: Change<Value>) -> Change<Value>? {
        Change(before: before, after: next.after)
    }
}
