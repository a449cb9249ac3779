import NIOCore

/// Why an HBONE `:authority` was refused.
public struct HBONEAuthorityError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The authority as received.
    public var authority: String
    /// What is wrong with it.
    public var reason: String

    /// Creates an error.
    public init(authority: String, reason: String) {
        self.authority = authority
        self.reason = reason
    }

    public var description: String { "invalid HBONE authority \"\(authority)\": \(reason)" }
}

/// The target of one HBONE tunnel, as carried in the CONNECT request's `:authority`:
/// `ip:port`, `[ipv6]:port`, or `hostname:port` (a service, for waypoints and double HBONE).
public enum HBONETarget: Hashable, Sendable, CustomStringConvertible {
    /// An IP address and port.
    case address(SocketAddress)
    /// A host name (a service) and port, left to the target resolver.
    case hostname(String, port: Int)

    /// Parses an authority; anything but `ip:port`, `[v6]:port` or `host:port` is refused.
    public init(authority: String) throws(HBONEAuthorityError) {
        func fail(_ reason: String) -> HBONEAuthorityError { HBONEAuthorityError(authority: authority, reason: reason) }
        let utf8 = authority.utf8
        // Byte searches: with Foundation visible, `contains(":")` would be a locale-aware
        // substring search, several times slower on this per-tunnel path.
        let colonByte = UInt8(ascii: ":")
        guard !utf8.isEmpty, utf8.count <= 300 else { throw fail("empty or too long") }
        let host: Substring
        let portText: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw fail("unterminated '['") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let rest = authority[authority.index(after: close)...]
            guard rest.first == ":" else { throw fail("missing port after ']'") }
            portText = rest.dropFirst()
            guard host.utf8.contains(colonByte) else { throw fail("brackets around a non-IPv6 host") }
        } else {
            guard let colon = authority.lastIndex(of: ":") else { throw fail("missing port") }
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
            guard !host.utf8.contains(colonByte) else { throw fail("an IPv6 address must be written in brackets") }
        }
        guard !host.isEmpty else { throw fail("empty host") }
        guard !portText.isEmpty, portText.count <= 5, portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let port = Int(portText), (1...65535).contains(port)
        else { throw fail("port must be a number from 1 to 65535") }
        let hostString = String(host)
        if let address = try? SocketAddress(ipAddress: hostString, port: port) {
            self = .address(address)
            return
        }
        if host.utf8.contains(colonByte) || host.allSatisfy({ $0.isNumber || $0 == "." }) {
            throw fail("not a valid IP address")
        }
        guard Self.isHostname(host) else { throw fail("not an IP address or a DNS host name") }
        self = .hostname(hostString.lowercased(), port: port)
    }

    static func isHostname(_ host: Substring) -> Bool {
        guard host.utf8.count <= 253 else { return false }
        for label in host.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.utf8.count <= 63, label.first != "-", label.last != "-" else { return false }
            for byte in label.utf8 {
                let ok = (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A)
                    || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D
                if !ok { return false }
            }
        }
        return true
    }

    /// The port.
    public var port: Int {
        switch self {
        case .address(let address): return address.port ?? 0
        case .hostname(_, let port): return port
        }
    }

    /// The `:authority` text: `ip:port`, `[v6]:port` or `host:port`.
    public var authority: String {
        switch self {
        case .address(let address): return Self.authority(of: address)
        case .hostname(let host, let port): return "\(host):\(port)"
        }
    }

    public var description: String { authority }

    /// `ip:port` or `[v6]:port` for an IP socket address.
    public static func authority(of address: SocketAddress) -> String {
        let ip = address.ipAddress ?? "0.0.0.0"
        let port = address.port ?? 0
        if case .v6 = address { return "[\(ip)]:\(port)" }
        return "\(ip):\(port)"
    }
}
