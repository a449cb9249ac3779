/// Limits how many certificate signing requests are in flight at once (ztunnel: 8), shared by
/// every ``WorkloadIdentity`` of a process.
public actor CSRLimiter {
    /// Most requests in flight at once.
    public nonisolated let limit: Int
    private var inFlight = 0
    private var highWater = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Creates a limiter.
    public init(limit: Int = MeshCAConstants.maximumConcurrentCSRs) {
        self.limit = max(1, limit)
    }

    /// The most requests that were ever in flight at once.
    public var maximumObservedConcurrency: Int { highWater }

    /// Runs `body` once a slot is free.
    public func withPermit<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        if inFlight < limit {
            inFlight += 1
        } else {
            // The slot is handed over by release(), which does not decrement inFlight.
            await withCheckedContinuation { waiters.append($0) }
        }
        highWater = max(highWater, inFlight)
    }

    private func release() {
        if waiters.isEmpty {
            inFlight -= 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}
