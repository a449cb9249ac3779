import NIOCore

/// PROXY protocol version 2 (HAProxy's binary header), as ztunnel writes it in front of the
/// bytes of a tunnelled connection when the destination workload's application tunnel is
/// `PROXY` (a waypoint "sandwich"): the original source and destination, and the source's
/// SPIFFE identity in TLV ``identityTLV``.
///
/// Only what ztunnel sends is supported: command `PROXY` with TCP over IPv4 (`0x11`) or
/// TCP over IPv6 (`0x21`), followed by any TLVs. The parser rejects the `LOCAL` command
/// (it carries no addresses to put in a ``Header``), other families (UNSPEC, UNIX) and
/// datagram transports.
public enum ProxyProtocolV2 {
    /// The 12-byte signature every v2 header starts with.
    public static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    /// TLV carrying the source workload's SPIFFE id (`spiffe://td/ns/NS/sa/SA`), as ztunnel writes it.
    public static let identityTLV: UInt8 = 0xD0
    /// TLV reserved by ztunnel's proto for the destination service's hostname.
    public static let serviceTLV: UInt8 = 0xD1

    /// Version 2 and command `PROXY`.
    static let versionAndProxyCommand: UInt8 = 0x21
    /// TCP over IPv4.
    static let tcp4: UInt8 = 0x11
    /// TCP over IPv6.
    static let tcp6: UInt8 = 0x21
    /// UNSPEC family and transport (only ever encoded, for non-IP addresses).
    static let unspecified: UInt8 = 0x00
    /// Signature, version/command, family and the 2-byte length.
    static let fixedLength = 16

    /// One type-length-value extension.
    public struct TLV: Sendable, Hashable {
        /// The type byte (e.g. ``ProxyProtocolV2/identityTLV``).
        public var type: UInt8
        /// The value (at most 65535 bytes are encodable).
        public var value: [UInt8]

        /// Creates a TLV.
        public init(type: UInt8, value: [UInt8]) {
            self.type = type
            self.value = value
        }
    }

    /// A decoded (or to be encoded) header.
    public struct Header: Sendable, Hashable {
        /// The original client.
        public var source: SocketAddress
        /// The original destination.
        public var destination: SocketAddress
        /// TLVs in wire order.
        public var tlvs: [TLV]

        /// Creates a header.
        public init(source: SocketAddress, destination: SocketAddress, tlvs: [TLV] = []) {
            self.source = source
            self.destination = destination
            self.tlvs = tlvs
        }

        /// Creates a header carrying `identity` (a SPIFFE URI) in TLV ``ProxyProtocolV2/identityTLV``
        /// and, when given, `service` in TLV ``ProxyProtocolV2/serviceTLV``.
        public init(source: SocketAddress, destination: SocketAddress, identity: String?, service: String? = nil) {
            var tlvs: [TLV] = []
            if let identity { tlvs.append(TLV(type: ProxyProtocolV2.identityTLV, value: Array(identity.utf8))) }
            if let service { tlvs.append(TLV(type: ProxyProtocolV2.serviceTLV, value: Array(service.utf8))) }
            self.init(source: source, destination: destination, tlvs: tlvs)
        }

        /// The source identity: the first ``ProxyProtocolV2/identityTLV`` TLV as UTF-8 (nil when
        /// absent or not UTF-8).
        public var identity: String? { text(of: ProxyProtocolV2.identityTLV) }

        /// The service hostname: the first ``ProxyProtocolV2/serviceTLV`` TLV as UTF-8.
        public var service: String? { text(of: ProxyProtocolV2.serviceTLV) }

        private func text(of type: UInt8) -> String? {
            tlvs.first { $0.type == type }.flatMap { String(validating: $0.value, as: UTF8.self) }
        }
    }

    /// A header that is not a PROXY v2 header this parser accepts.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// What was wrong.
        public var reason: String

        /// Creates an error.
        public init(_ reason: String) { self.reason = reason }

        public var description: String { "PROXY protocol v2: \(reason)" }
    }

    /// Encodes `header` with command `PROXY` and transport TCP.
    ///
    /// Two IPv4 addresses give family `0x11`. Two IPv6 addresses, or one of each (the IPv4 one
    /// then written IPv4-mapped, `::ffff:a.b.c.d`), give `0x21`. A non-IP address (a UNIX socket)
    /// gives the UNSPEC family with no address block, which tells the receiver to use the real
    /// connection endpoints. A TLV that does not fit the 16-bit length (value over 65535 bytes,
    /// or a header past 65535 bytes) is left out.
    public static func encode(_ header: Header) -> ByteBuffer {
        let addresses = AddressBlock(source: header.source, destination: header.destination)
        var tlvs: [TLV] = []
        var length = addresses.length
        for tlv in header.tlvs where tlv.value.count <= Int(UInt16.max) && length + 3 + tlv.value.count <= Int(UInt16.max) {
            tlvs.append(tlv)
            length += 3 + tlv.value.count
        }
        var out = ByteBuffer()
        out.reserveCapacity(fixedLength + length)
        out.writeBytes(signature)
        out.writeInteger(versionAndProxyCommand)
        out.writeInteger(addresses.family)
        out.writeInteger(UInt16(length))
        addresses.write(to: &out)
        for tlv in tlvs {
            out.writeInteger(tlv.type)
            out.writeInteger(UInt16(tlv.value.count))
            out.writeBytes(tlv.value)
        }
        return out
    }

    /// Parses a header at the start of `buffer`, incrementally.
    ///
    /// Returns nil while the whole header is not buffered yet (leaving `buffer` as it is); once
    /// it is, returns it and consumes exactly its bytes, so what follows (the application's data)
    /// stays in `buffer`. Throws as soon as the buffered bytes cannot start a supported header: a
    /// wrong signature, a version other than 2, the `LOCAL` command, a family other than TCP over
    /// IPv4 or IPv6, or a length too short for the addresses or cutting a TLV. On a throw
    /// `buffer` is left as it is.
    public static func parse(_ buffer: inout ByteBuffer) throws(ParseError) -> Header? {
        let bytes = buffer.readableBytesView
        let start = bytes.startIndex
        for index in 0..<min(bytes.count, signature.count) where bytes[start + index] != signature[index] {
            throw ParseError("not a PROXY protocol v2 header (signature mismatch at byte \(index))")
        }
        guard bytes.count >= fixedLength else { return nil }
        let versionAndCommand = bytes[start + 12]
        guard versionAndCommand >> 4 == 2 else {
            throw ParseError("version \(versionAndCommand >> 4), expected 2")
        }
        switch versionAndCommand & 0x0F {
        case 0x1: break
        case 0x0: throw ParseError("LOCAL command (no addresses) is not supported")
        case let command: throw ParseError("unknown command \(command)")
        }
        let family = bytes[start + 13]
        let addressLength: Int
        switch family {
        case tcp4: addressLength = 12
        case tcp6: addressLength = 36
        default:
            throw ParseError("address family and transport 0x\(String(family, radix: 16)) not supported (TCP over IPv4 0x11 or IPv6 0x21 only)")
        }
        let length = Int(bytes[start + 14]) << 8 | Int(bytes[start + 15])
        guard length >= addressLength else {
            throw ParseError("length \(length) is shorter than the \(addressLength)-byte address block")
        }
        guard bytes.count >= fixedLength + length else { return nil }

        let body = start + fixedLength
        let ipLength = family == tcp4 ? 4 : 16
        let ports = body + 2 * ipLength
        let source = try address(bytes[body..<(body + ipLength)], port: bytes[ports..<(ports + 2)])
        let destination = try address(bytes[(body + ipLength)..<ports], port: bytes[(ports + 2)..<(ports + 4)])
        var tlvs: [TLV] = []
        var offset = body + addressLength
        let end = body + length
        while offset < end {
            guard end - offset >= 3 else { throw ParseError("truncated TLV header at offset \(offset - start)") }
            let valueLength = Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            guard end - offset - 3 >= valueLength else {
                throw ParseError("TLV 0x\(String(bytes[offset], radix: 16)) of \(valueLength) bytes runs past the header")
            }
            tlvs.append(TLV(type: bytes[offset], value: Array(bytes[(offset + 3)..<(offset + 3 + valueLength)])))
            offset += 3 + valueLength
        }
        buffer.moveReaderIndex(forwardBy: fixedLength + length)
        return Header(source: source, destination: destination, tlvs: tlvs)
    }

    private static func address(_ ip: ByteBufferView, port: ByteBufferView) throws(ParseError) -> SocketAddress {
        let value = Int(port[port.startIndex]) << 8 | Int(port[port.startIndex + 1])
        do {
            return try SocketAddress(packedIPAddress: ByteBuffer(bytes: ip), port: value)
        } catch {
            throw ParseError("bad address: \(error)")
        }
    }
}

/// The address block of a header: family byte, length, and how to write it.
private struct AddressBlock {
    var family: UInt8
    var source: ([UInt8], UInt16)
    var destination: ([UInt8], UInt16)

    var length: Int {
        switch family {
        case ProxyProtocolV2.tcp4: 12
        case ProxyProtocolV2.tcp6: 36
        default: 0
        }
    }

    init(source: SocketAddress, destination: SocketAddress) {
        guard let s = Self.raw(source), let d = Self.raw(destination) else {
            family = ProxyProtocolV2.unspecified
            self.source = ([], 0)
            self.destination = ([], 0)
            return
        }
        if s.0.count == 4, d.0.count == 4 {
            family = ProxyProtocolV2.tcp4
            self.source = s
            self.destination = d
        } else {
            family = ProxyProtocolV2.tcp6
            self.source = (Self.mapped(s.0), s.1)
            self.destination = (Self.mapped(d.0), d.1)
        }
    }

    func write(to out: inout ByteBuffer) {
        guard length > 0 else { return }
        out.writeBytes(source.0)
        out.writeBytes(destination.0)
        out.writeInteger(source.1)
        out.writeInteger(destination.1)
    }

    /// Network-order address bytes and port.
    static func raw(_ address: SocketAddress) -> ([UInt8], UInt16)? {
        guard let ip = address.ipBytes, let port = address.port else { return nil }
        return (ip.bytes, UInt16(truncatingIfNeeded: port))
    }

    /// An IPv4 address as IPv4-mapped IPv6; IPv6 unchanged.
    static func mapped(_ ip: [UInt8]) -> [UInt8] {
        ip.count == 4 ? [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + ip : ip
    }
}
