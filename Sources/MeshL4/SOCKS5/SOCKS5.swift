import MeshAPI
import NIOCore

/// The server side of SOCKS5 (RFC 1928) as ztunnel's explicit outbound listener (15080)
/// speaks it: no authentication, `CONNECT` only, IPv4, IPv6 and domain-name destinations.
///
/// The codec is incremental: each parse function returns nil while the buffer does not hold
/// a whole message yet, and consumes the message's bytes once it does.
public enum SOCKS5 {
    /// The protocol version byte.
    public static let version: UInt8 = 5
    /// Authentication method "no authentication required".
    public static let noAuthentication: UInt8 = 0x00
    /// "No acceptable methods".
    public static let noAcceptableMethods: UInt8 = 0xFF

    /// Where the client wants to go.
    public enum Destination: Hashable, Sendable, CustomStringConvertible {
        /// An IPv4 or IPv6 address and port.
        case address(IPAddressBytes, port: UInt16)
        /// A domain name and port (resolved by the proxy).
        case domain(String, port: UInt16)

        /// `ip:port`, `[ip]:port` or `name:port`.
        public var description: String {
            switch self {
            case .address(let ip, let port): ip.authority(port: port)
            case .domain(let name, let port): "\(name):\(port)"
            }
        }
    }

    /// Reply codes (`REP`).
    public enum Reply: UInt8, Sendable {
        case succeeded = 0x00
        case generalFailure = 0x01
        case notAllowedByRuleset = 0x02
        case networkUnreachable = 0x03
        case hostUnreachable = 0x04
        case connectionRefused = 0x05
        case ttlExpired = 0x06
        case commandNotSupported = 0x07
        case addressTypeNotSupported = 0x08
    }

    /// A malformed or unsupported message; `reply` is what to answer before closing.
    public struct ProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
        /// What to send back (nil when no reply is possible, e.g. a wrong version).
        public var reply: Reply?
        /// What was wrong.
        public var reason: String
        public var description: String { "SOCKS5: \(reason)" }
    }

    /// Parses the client greeting; returns whether "no authentication" was offered.
    public static func parseGreeting(_ buffer: inout ByteBuffer) throws(ProtocolError) -> Bool? {
        guard buffer.readableBytes >= 2, let bytes = buffer.getBytes(at: buffer.readerIndex, length: 2) else { return nil }
        guard bytes[0] == version else {
            throw ProtocolError(reply: nil, reason: "version \(bytes[0]), expected 5")
        }
        let count = Int(bytes[1])
        guard count > 0 else { throw ProtocolError(reply: nil, reason: "no authentication methods offered") }
        guard buffer.readableBytes >= 2 + count else { return nil }
        buffer.moveReaderIndex(forwardBy: 2)
        let methods = buffer.readBytes(length: count)!
        return methods.contains(noAuthentication)
    }

    /// The server's method choice.
    public static func methodSelection(acceptable: Bool) -> ByteBuffer {
        ByteBuffer(bytes: [version, acceptable ? noAuthentication : noAcceptableMethods])
    }

    /// Parses a request; only `CONNECT` is accepted.
    public static func parseRequest(_ buffer: inout ByteBuffer) throws(ProtocolError) -> Destination? {
        guard buffer.readableBytes >= 5, let head = buffer.getBytes(at: buffer.readerIndex, length: 5) else { return nil }
        guard head[0] == version else { throw ProtocolError(reply: .generalFailure, reason: "version \(head[0]), expected 5") }
        guard head[1] == 0x01 else {
            throw ProtocolError(reply: .commandNotSupported, reason: "command \(head[1]) is not supported (CONNECT only)")
        }
        let addressLength: Int
        switch head[3] {
        case 0x01: addressLength = 4
        case 0x04: addressLength = 16
        case 0x03:
            addressLength = 1 + Int(head[4])
            guard head[4] > 0 else { throw ProtocolError(reply: .generalFailure, reason: "empty domain name") }
        default:
            throw ProtocolError(reply: .addressTypeNotSupported, reason: "address type \(head[3]) is not supported")
        }
        guard buffer.readableBytes >= 4 + addressLength + 2 else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        let address = buffer.readBytes(length: addressLength)!
        let port = buffer.readInteger(as: UInt16.self)!
        if head[3] == 0x03 {
            guard let name = String(validating: address.dropFirst(), as: UTF8.self) else {
                throw ProtocolError(reply: .generalFailure, reason: "domain name is not UTF-8")
            }
            return .domain(name, port: port)
        }
        return .address(IPAddressBytes(bytes: address)!, port: port)
    }

    /// A reply; `bound` is the proxy's local address for the connection (zeros when unknown).
    public static func reply(_ code: Reply, bound: (IPAddressBytes, UInt16)? = nil) -> ByteBuffer {
        let (ip, port) = bound ?? (IPAddressBytes(bytes: [0, 0, 0, 0])!, 0)
        var out = ByteBuffer()
        out.writeBytes([version, code.rawValue, 0x00, ip.isIPv4 ? 0x01 : 0x04])
        out.writeBytes(ip.bytes)
        out.writeInteger(port)
        return out
    }
}
