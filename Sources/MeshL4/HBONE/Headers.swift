import NIOCore

/// The request headers ztunnel adds to a CONNECT, built and parsed here.
public enum HBONEHeaders {
    /// `for="ip:port"`, plus `;host=<service>` when a destination service is known.
    public static func forwarded(for source: SocketAddress, host: String? = nil) -> String {
        var value = "for=\"\(HBONETarget.authority(of: source))\""
        if let host, !host.isEmpty { value += ";host=\(host)" }
        return value
    }

    /// The `for=` address of a `forwarded` header (first element), or nil when absent or not an
    /// IP address with a port.
    public static func forwardedFor(_ value: String) -> SocketAddress? {
        let first = value.split(separator: ",", maxSplits: 1).first ?? ""
        for pair in first.split(separator: ";") {
            let trimmed = pair.drop { $0 == " " }
            guard trimmed.prefix(4).lowercased() == "for=" else { continue }
            var raw = trimmed.dropFirst(4)
            if raw.hasPrefix("\"") && raw.hasSuffix("\"") && raw.count >= 2 { raw = raw.dropFirst().dropLast() }
            if case .address(let address) = try? HBONETarget(authority: String(raw)) { return address }
            return nil
        }
        return nil
    }

    /// A `baggage` header from `k=v` pairs, in order.
    public static func baggage(_ entries: [(key: String, value: String)]) -> String {
        entries.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// The `k=v` pairs of a `baggage` header (properties after `;` are dropped).
    public static func parseBaggage(_ value: String) -> [String: String] {
        var out: [String: String] = [:]
        for member in value.split(separator: ",") {
            let entry = member.split(separator: ";", maxSplits: 1).first ?? ""
            guard let equals = entry.firstIndex(of: "=") else { continue }
            let key = entry[..<equals].trimmingSpaces
            let val = entry[entry.index(after: equals)...].trimmingSpaces
            if !key.isEmpty { out[String(key)] = String(val) }
        }
        return out
    }

    /// A fresh random W3C `traceparent`: `00-<32 hex trace id>-<16 hex parent id>-00`.
    public static func makeTraceparent<G: RandomNumberGenerator>(using generator: inout G) -> String {
        let trace = hex(generator.next() as UInt64) + hex(generator.next() as UInt64)
        let parent = hex(generator.next() as UInt64)
        return "00-\(trace)-\(parent)-00"
    }

    /// A fresh random `traceparent` from the system generator.
    public static func makeTraceparent() -> String {
        var generator = SystemRandomNumberGenerator()
        return makeTraceparent(using: &generator)
    }

    /// Whether `value` is a well-formed version-00 `traceparent`.
    public static func isValidTraceparent(_ value: String) -> Bool {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "00", parts[1].count == 32, parts[2].count == 16, parts[3].count == 2
        else { return false }
        let isHex: (Substring) -> Bool = { $0.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) } }
        return parts.allSatisfy(isHex) && parts[1] != String(repeating: "0", count: 32)
            && parts[2] != String(repeating: "0", count: 16)
    }

    private static let digits = Array("0123456789abcdef".utf8)

    static func hex(_ value: UInt64) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        var v = value
        for index in stride(from: 15, through: 0, by: -1) {
            bytes[index] = digits[Int(v & 0xF)]
            v >>= 4
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
