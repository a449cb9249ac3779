import Foundation
import Synchronization

/// When each load-test client (wire or lean) in this process received each type's newest version: the figure
/// behind "time until all clients have it" (receipt, as opposed to the server seeing the ACK).
public final class Receipts: Sendable {
    /// The clients of this process.
    public static let shared = Receipts()

    let clients = Mutex<[LeanDeltaClient.Held]>([])

    func register(_ held: LeanDeltaClient.Held) {
        clients.withLock { $0.append(held) }
    }

    /// How many clients hold `version` of `typeURL` (the `system_version_info` of the newest
    /// response they applied), and the latest ``MonotonicClock`` instant at which one of them
    /// received it.
    public func received(typeURL: String, version: String) -> (count: Int, latest: UInt64) {
        let clients = self.clients.withLock { $0 }
        var count = 0
        var latest: UInt64 = 0
        for client in clients {
            client.types.withLock { types in
                guard let state = types[typeURL], state.systemVersion == version else { return }
                count += 1
                latest = max(latest, state.receivedAt)
            }
        }
        return (count, latest)
    }

    /// Answers the benchmark's queries on standard input, one a line (`received TYPE VERSION`
    /// → `COUNT NANOSECONDS`), until it closes; then returns.
    public func serveQueries() {
        while let line = readLine() {
            let words = line.split(separator: " ")
            guard words.count == 3, words[0] == "received" else { continue }
            let (count, latest) = received(typeURL: String(words[1]), version: String(words[2]))
            FileHandle.standardOutput.write(Data("\(count) \(latest)\n".utf8))
        }
    }
}

/// `CLOCK_MONOTONIC`, the same clock in every process of the machine, so that the benchmark can
/// compare its own instants with those its client process records.
public enum MonotonicClock {
    /// Now, in nanoseconds.
    public static func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
