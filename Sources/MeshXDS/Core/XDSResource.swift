import Foundation
import MeshProto
import SwiftProtobuf

/// One named xDS resource, marshalled once.
///
/// The payload is serialised when the value is created and then shared, byte for byte, by every
/// response that carries it, whatever the number of clients. So is the delta `Resource` wrapper
/// around it (name, version, aliases and payload): a delta response to any number of clients
/// copies those bytes rather than encoding anything per client.
public struct XDSResource: Sendable, Equatable {
    /// The fields, behind one reference: copying a resource (into a view, a response, a
    /// client's map) costs one retain rather than one per field.
    final class Storage: Sendable {
        let name: String
        let version: String
        let any: Google_Protobuf_Any
        let aliases: [String]
        /// The delta response's field 2 (`resources`) holding this resource, serialised once;
        /// nil on resources a client received and after a field changed (encoded when sent).
        let encodedEntry: [UInt8]?

        init(name: String, version: String, any: Google_Protobuf_Any, aliases: [String], encode: Bool) {
            self.name = name
            self.version = version
            self.any = any
            self.aliases = aliases
            self.encodedEntry = encode ? Self.deltaEntry(Self.wrap(name, version, any, aliases)) : nil
        }

        static func wrap(
            _ name: String, _ version: String, _ any: Google_Protobuf_Any, _ aliases: [String]
        ) -> Envoy_Service_Discovery_V3_Resource {
            var resource = Envoy_Service_Discovery_V3_Resource()
            resource.name = name
            resource.version = version
            resource.resource = any
            resource.aliases = aliases
            return resource
        }

        /// Field 2, length-delimited, then the `Resource` bytes.
        static func deltaEntry(_ wrapper: Envoy_Service_Discovery_V3_Resource) -> [UInt8] {
            // Serialising a message of strings and bytes cannot fail.
            let body: [UInt8] = (try? wrapper.serializedBytes()) ?? []
            var entry: [UInt8] = []
            entry.reserveCapacity(body.count + 6)
            entry.append(0x12)  // field 2, wire type 2 (length-delimited)
            var length = UInt64(body.count)
            while length >= 0x80 {
                entry.append(UInt8(truncatingIfNeeded: length) | 0x80)
                length >>= 7
            }
            entry.append(UInt8(length))
            entry.append(contentsOf: body)
            return entry
        }
    }

    var storage: Storage

    /// The resource name clients subscribe to.
    public var name: String {
        get { storage.name }
        set { storage = Storage(name: newValue, version: version, any: any, aliases: aliases, encode: false) }
    }
    /// The resource's version (a hash of its bytes unless the cache assigns one).
    public var version: String {
        get { storage.version }
        set { storage = Storage(name: name, version: newValue, any: any, aliases: aliases, encode: false) }
    }
    /// The packed resource; its `value` already holds the serialised bytes.
    public var any: Google_Protobuf_Any {
        get { storage.any }
        set { storage = Storage(name: name, version: version, any: newValue, aliases: aliases, encode: false) }
    }
    /// Alternative names (delta `Resource.aliases`), e.g. Istio's `network/IP` for a workload.
    public var aliases: [String] {
        get { storage.aliases }
        set { storage = Storage(name: name, version: version, any: any, aliases: newValue, encode: false) }
    }

    /// The delta wrapper (`Resource`) around the shared, already serialised bytes.
    public var wrapped: Envoy_Service_Discovery_V3_Resource {
        Storage.wrap(name, version, any, aliases)
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
        storage = Storage(
            name: name, version: version ?? ContentHash.hex(bytes), any: any, aliases: aliases, encode: true)
    }

    /// Wraps an already packed resource.
    public init(name: String, any: Google_Protobuf_Any, version: String? = nil, aliases: [String] = []) {
        storage = Storage(
            name: name, version: version ?? ContentHash.hex(Array(any.value)), any: any, aliases: aliases,
            encode: true)
    }

    /// A resource as a client received it: nothing is encoded, it is never sent again.
    init(received name: String, any: Google_Protobuf_Any, version: String?, aliases: [String] = []) {
        storage = Storage(
            name: name, version: version ?? ContentHash.hex(Array(any.value)), any: any, aliases: aliases,
            encode: false)
    }

    /// The type URL of the packed payload.
    public var typeURL: String { any.typeURL }

    /// The delta response's field 2 (`resources`) holding this resource: tag, length, wrapper.
    var deltaEntry: [UInt8] { storage.encodedEntry ?? Storage.deltaEntry(wrapped) }

    public static func == (lhs: XDSResource, rhs: XDSResource) -> Bool {
        lhs.storage === rhs.storage
            || (lhs.name == rhs.name && lhs.version == rhs.version && lhs.any == rhs.any && lhs.aliases == rhs.aliases)
    }
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
