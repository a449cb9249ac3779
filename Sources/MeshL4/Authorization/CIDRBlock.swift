import MeshAPI

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
