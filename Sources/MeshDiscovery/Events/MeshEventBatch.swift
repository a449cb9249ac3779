/// Events collected over a debounce window, coalesced so each subject appears at most once
/// with its net change (first `before`, last `after`).
public struct MeshEventBatch: Sendable, Equatable {
    /// Net changes in the order their subjects first changed; nil where changes cancelled out.
    private var slots: [MeshEvent?] = []
    private var positions: [MeshEvent.Subject: Int] = [:]
    /// How many raw events were merged into this batch.
    public private(set) var rawCount = 0

    public init() {}

    /// Builds a batch from raw events in order.
    public init(_ events: some Sequence<MeshEvent>) {
        for e in events { append(e) }
    }

    /// The net changes, in the order their subjects first changed.
    public var events: [MeshEvent] { slots.compactMap { $0 } }

    /// True when no net change remains.
    public var isEmpty: Bool { positions.isEmpty }

    /// Number of net changes.
    public var count: Int { positions.count }

    /// Adds a raw event, merging it with an earlier one about the same subject.
    public mutating func append(_ event: MeshEvent) {
        rawCount += 1
        let subject = event.subject
        guard let index = positions[subject], let earlier = slots[index] else {
            positions[subject] = slots.count
            slots.append(event)
            return
        }
        if let merged = earlier.then(event) {
            slots[index] = merged
        } else {
            slots[index] = nil
            positions[subject] = nil
        }
    }

    public static func == (a: Self, b: Self) -> Bool { a.events == b.events }
}
