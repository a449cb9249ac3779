#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// An IP address as its 4 (IPv4) or 16 (IPv6) network-order bytes.
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

/// An IP prefix (`10.0.0.0/8`, `fd00::/64`), as `istio.security.Address` carries it.
///
/// Host bits after the prefix are ignored, as in ztunnel (`10.1.2.3/8` covers `10.0.0.0/8`).
/// A block never contains an address of the other family.
public struct CIDRBlock: Hashable, Sendable, CustomStringConvertible {
    /// The address part (host bits kept as given).
    public let address: IPAddressBytes
    /// The prefix length: 0...32 for IPv4, 0...128 for IPv6.
    public let prefixLength: Int

    /// Creates a block; nil when the prefix is longer than the address.
    public init?(address: IPAddressBytes, prefixLength: Int) {
        guard prefixLength >= 0, prefixLength <= address.bytes.count * 8 else { return nil }
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses `ip/len` or a bare `ip` (a single-address block).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let ip = IPAddressBytes(String(parts[0])) else { return nil }
        if parts.count == 1 {
            self.init(address: ip, prefixLength: ip.bytes.count * 8)
        } else {
            guard let length = Int(parts[1]), String(length) == parts[1] else { return nil }
            self.init(address: ip, prefixLength: length)
        }
    }

    /// Whether `ip` is inside this block.
    public func contains(_ ip: IPAddressBytes) -> Bool {
        guard ip.bytes.count == address.bytes.count else { return false }
        var remaining = prefixLength
        var index = 0
        while remaining > 0 {
            let bits = min(remaining, 8)
            let mask = UInt8(truncatingIfNeeded: 0xff << (8 - bits))
            if ip.bytes[index] & mask != address.bytes[index] & mask { return false }
            remaining -= bits
            index += 1
        }
        return true
    }

    /// `ip/len`.
    public var description: String { "\(address)/\(prefixLength)" }
}
