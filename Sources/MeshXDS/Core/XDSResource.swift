import Foundation
import MeshProto
import SwiftProtobuf

/// One named xDS resource, marshalled once.
///
/// The payload is serialised when the value is created and then shared, byte for byte, by every
/// response that carries it, whatever the number of clients.
public struct XDSResource: Sendable, Equatable {
    /// The resource name clients subscribe to.
    public var name: String
    /// The resource's version (a hash of its bytes unless the cache assigns one).
    public var version: String
    /// The packed resource; its `value` already holds the serialised bytes.
    public var any: Google_Protobuf_Any
    /// Alternative names (delta `Resource.aliases`), e.g. Istio's `network/IP` for a workload.
    public var aliases: [String]
    /// The delta wrapper (`Resource`) around the shared, already serialised bytes.
    public var wrapped: Envoy_Service_Discovery_V3_Resource {
        var resource = Envoy_Service_Discovery_V3_Resource()
        resource.name = name
        resource.version = version
        resource.resource = any
        resource.aliases = aliases
        return resource
    }

    /// Packs `message` under `name`, serialising it once.
    ///
    /// - Parameters:
    ///   - name: the resource name.
    ///   - message: the resource.
    ///   - version: a version; by default a hash of the serialised bytes, so identical content
    ///     keeps its version across snapshots and is not resent to delta clients.
    ///   - aliases: alternative names.
    public init(name: String, message: some SwiftProtobuf.Message, version: String? = nil, aliases: [String] = []) throws {
        let bytes: [UInt8] = try message.serializedBytes()
        var any = Google_Protobuf_Any()
        any.typeURL = TypeURL.prefix + type(of: message).protoMessageName
        any.value = Data(bytes)
        self.name = name
        self.any = any
        self.aliases = aliases
        self.version = version ?? ContentHash.hex(bytes)
    }

    /// Wraps an already packed resource.
    public init(name: String, any: Google_Protobuf_Any, version: String? = nil, aliases: [String] = []) {
        self.name = name
        self.any = any
        self.aliases = aliases
        self.version = version ?? ContentHash.hex(Array(any.value))
    }

    /// The type URL of the packed payload.
    public var typeURL: String { any.typeURL }
}

/// A fast, stable 64-bit content hash (FNV-1a) used for resource versions.
enum ContentHash {
    static func hex(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let s = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
