import Foundation

/// Memory figures of this process, read from `/proc/self/status` (Linux).
public enum ProcessStats {
    /// Resident set size in KiB (0 where `/proc` is not available).
    public static func residentKB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
        return 0
    }
}

extension Duration {
    /// The duration in seconds.
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }

    /// The duration in milliseconds, rounded.
    public var milliseconds: Int { Int((seconds * 1000).rounded()) }
}
