import Foundation
import GRPCCore
import MeshProto
import SwiftProtobuf

/// A `DeltaDiscoveryResponse` as ``XDSClient`` uses it, read from the wire straight into
/// ``XDSResource``s.
///
/// Decoding the generated message built a `Resource` and an `Any` per resource only for the client
/// to copy their fields into an ``XDSResource``; with thousands of resources per response that was
/// a third of a client's CPU. Fields the client does not use (`ttl`, `cache_control`, `metadata`,
/// `control_plane`, `resource_errors`, …) are skipped.
struct ReceivedDeltaResponse: Sendable {
    /// One entry of `resources`.
    struct Entry: Sendable {
        var resource: XDSResource
        /// The payload's type URL, or nil if the entry had no payload.
        var payloadType: String?
    }

    var systemVersionInfo = ""
    var typeURL = ""
    var nonce = ""
    var removedResources: [String] = []
    var resources: [Entry] = []

    /// Reads a serialised `DeltaDiscoveryResponse`.
    init(wire bytes: UnsafeRawBufferPointer) throws {
        var reader = ProtobufWireReader(bytes)
        // Every payload of a response usually has the same type URL: one string for all of them.
        var lastType: (bytes: UnsafeRawBufferPointer, string: String)?
        while let (field, wireType) = try reader.nextField() {
            switch (field, wireType) {
            case (1, 2): systemVersionInfo = try reader.string()
            case (2, 2):
                var entry = ProtobufWireReader(try reader.lengthDelimited())
                var name = ""
                var version = ""
                var aliases: [String] = []
                var any = Google_Protobuf_Any()
                var payloadType: String?
                while let (field, wireType) = try entry.nextField() {
                    switch (field, wireType) {
                    case (1, 2): version = try entry.string()
                    case (3, 2): name = try entry.string()
                    case (4, 2): aliases.append(try entry.string())
                    case (2, 2):
                        var payload = ProtobufWireReader(try entry.lengthDelimited())
                        var type = ""
                        while let (field, wireType) = try payload.nextField() {
                            switch (field, wireType) {
                            case (1, 2):
                                let bytes = try payload.lengthDelimited()
                                if let last = lastType, ProtobufWireReader.equal(last.bytes, bytes) {
                                    type = last.string
                                } else {
                                    type = try ProtobufWireReader.string(bytes)
                                    lastType = (bytes, type)
                                }
                            case (2, 2): any.value = Data(try payload.lengthDelimited())
                            default: try payload.skip(wireType)
                            }
                        }
                        any.typeURL = type
                        payloadType = type
                    default: try entry.skip(wireType)
                    }
                }
                resources.append(Entry(
                    resource: XDSResource(received: name, any: any, version: version, aliases: aliases),
                    payloadType: payloadType))
            case (4, 2): typeURL = try reader.string()
            case (5, 2): nonce = try reader.string()
            case (6, 2): removedResources.append(try reader.string())
            default: try reader.skip(wireType)
            }
        }
    }
}

/// Reads delta responses for ``XDSClient`` (see ``ReceivedDeltaResponse``).
struct DeltaResponseDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> ReceivedDeltaResponse {
        try serializedMessageBytes.withUnsafeBytes { try ReceivedDeltaResponse(wire: $0) }
    }
}

/// The protobuf wire format, read in place from borrowed bytes: field keys, varints and
/// length-delimited fields, without building messages.
///
/// ``XDSClient`` reads delta responses with it; load generators can use it to look into a
/// response (names, versions, type URLs) without decoding its resources. Its reads are
/// `@inlinable`: called per field of every resource, they are worth specialising into the caller.
public struct ProtobufWireReader {
    /// The bytes are not a well-formed message.
    public struct Malformed: Error, CustomStringConvertible {
        public var description: String { "malformed protobuf message" }
        @inlinable public init() {}
    }

    /// The message being read.
    public let bytes: UnsafeRawBufferPointer
    /// Where the next read starts.
    public var offset = 0

    /// Reads `bytes` from the start; they must outlive the reader.
    @inlinable public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// A varint.
    @inlinable public mutating func varint() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count, shift < 64 {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
        throw Malformed()
    }

    /// The next field's number and wire type, or nil at the end.
    @inlinable public mutating func nextField() throws -> (Int, Int)? {
        guard offset < bytes.count else { return nil }
        let key = try varint()
        guard key >> 3 > 0 else { throw Malformed() }
        return (Int(key >> 3), Int(key & 7))
    }

    /// A length-delimited field's bytes (a view into ``bytes``).
    @inlinable public mutating func lengthDelimited() throws -> UnsafeRawBufferPointer {
        let length = try varint()
        guard length <= UInt64(bytes.count - offset) else { throw Malformed() }
        let start = offset
        offset += Int(length)
        return UnsafeRawBufferPointer(rebasing: bytes[start..<offset])
    }

    /// A string field.
    @inlinable public mutating func string() throws -> String { try Self.string(try lengthDelimited()) }

    /// UTF-8 only, as protobuf requires of strings.
    ///
    /// ASCII (names, versions and type URLs nearly always are) is decoded directly:
    /// `String(validating:as:)` is generic and not specialised by the standard library, and its
    /// metadata look-ups were a tenth of a load client's CPU in a full push.
    @inlinable public static func string(_ bytes: UnsafeRawBufferPointer) throws -> String {
        if isASCII(bytes) { return String(decoding: bytes, as: UTF8.self) }
        guard let string = String(validating: bytes, as: UTF8.self) else { throw Malformed() }
        return string
    }

    /// Whether every byte is below 0x80, eight at a time.
    @inlinable static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        var high: UInt64 = 0
        while index + 8 <= bytes.count {
            high |= bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < bytes.count {
            high |= UInt64(bytes[index])
            index += 1
        }
        return high & 0x8080_8080_8080_8080 == 0
    }

    /// Skips a field of `wireType` whose key was just read.
    @inlinable public mutating func skip(_ wireType: Int) throws {
        switch wireType {
        case 0: _ = try varint()
        case 1: offset += 8
        case 2: _ = try lengthDelimited()
        case 5: offset += 4
        default: throw Malformed()  // groups are not used by xDS
        }
        guard offset <= bytes.count else { throw Malformed() }
    }

    /// Byte-wise equality (memcmp; the generic `elementsEqual` showed in profiles).
    @inlinable public static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        guard let x = a.baseAddress, let y = b.baseAddress else { return true }
        return memcmp(x, y, a.count) == 0
    }
}
