#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IP address as its 4 (IPv4) or 16 (IPv6) network-order bytes: the one parser of textual
/// IPs for every module (CA SANs, xDS addresses, L4 policy, proxies).
public struct IPAddressBytes: Hashable, Sendable, CustomStringConvertible {
    /// 4 or 16 bytes, network order.
    public let bytes: [UInt8]

    /// Wraps raw bytes; nil unless there are exactly 4 or 16.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// The same address with an IPv4-mapped IPv6 form (`::ffff:a.b.c.d`) turned into IPv4, as a
    /// dual-stack socket reports IPv4 peers.
    public var canonical: IPAddressBytes {
        let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]
        guard bytes.count == 16, Array(bytes[0..<12]) == mappedPrefix else { return self }
        return IPAddressBytes(bytes: Array(bytes[12..<16]))!
    }

    /// Parses dotted IPv4 or textual IPv6; nil for anything else (host names included).
    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.init(bytes: withUnsafeBytes(of: &v4) { Array($0) })
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self.init(bytes: withUnsafeBytes(of: &v6) { Array($0) })
            return
        }
        return nil
    }

    /// Whether this is an IPv4 address.
    public var isIPv4: Bool { bytes.count == 4 }

    /// The textual form (`10.0.0.1`, `fd00::1`).
    public var description: String {
        if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(cString: buffer)
    }
}

extension IPAddressBytes {
    /// `ip:port`, with brackets for IPv6 (`[fd00::1]:8080`): an HTTP `:authority` or a log endpoint.
    public func authority(port: UInt16) -> String { isIPv4 ? "\(self):\(port)" : "[\(self)]:\(port)" }
}
