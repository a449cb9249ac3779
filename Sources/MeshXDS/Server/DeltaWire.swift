import GRPCCore
import MeshProto
import SwiftProtobuf

/// A delta response as the server writes it: every field but `resources` in ``header``, and the
/// resources themselves, whose `Resource` wrappers were serialised once per version
/// (``XDSResource`` keeps them) and are copied into each client's response byte for byte.
struct DeltaResponseWire: Sendable {
    /// The response without its resources.
    var header: Envoy_Service_Discovery_V3_DeltaDiscoveryResponse
    /// The resources, in the order they are written.
    var resources: [XDSResource]
    /// The response already serialised for every client of a ``DeltaPlan`` (`header.nonce` is
    /// written into a copy), or nil to serialise `header` and copy each resource's entry.
    var shared: SharedDeltaResponse? = nil

    /// The equivalent message (for callbacks; building it costs a wrapper per resource).
    var message: Envoy_Service_Discovery_V3_DeltaDiscoveryResponse {
        var message = header
        message.resources = resources.map(\.wrapped)
        return message
    }
}

/// A whole `DeltaDiscoveryResponse`, serialised once for many clients, whose nonce bytes (at
/// `nonceOffset`, ``DeltaSession/nonceWidth`` of them) are a placeholder.
struct SharedDeltaResponse: Sendable {
    var bytes: [UInt8]
    var nonceOffset: Int
}

/// Writes a ``DeltaResponseWire`` as a `DeltaDiscoveryResponse`: the header's fields, then each
/// resource's pre-serialised field 2 (`resources`). Protobuf parsers accept fields in any order,
/// and a repeated message field may be written entry by entry, so the bytes are a valid response.
struct DeltaResponseSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ response: DeltaResponseWire) throws -> Bytes {
        if let shared = response.shared, response.header.nonce.utf8.count == DeltaSession.nonceWidth {
            // One copy of the shared bytes, then this client's nonce over the placeholder.
            var bytes = Bytes(shared.bytes)
            bytes.withUnsafeMutableBytes { buffer in
                var offset = shared.nonceOffset
                for byte in response.header.nonce.utf8 {
                    buffer[offset] = byte
                    offset += 1
                }
            }
            return bytes
        }
        let head: [UInt8] = try response.header.serializedBytes()
        var total = head.count
        for resource in response.resources { total += resource.deltaEntry.count }
        var bytes = Bytes(repeating: 0, count: total)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            func copy(_ chunk: [UInt8]) {
                chunk.withUnsafeBytes { source in
                    UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<offset + source.count]).copyMemory(from: source)
                }
                offset += chunk.count
            }
            copy(head)
            for resource in response.resources { copy(resource.deltaEntry) }
        }
        return bytes
    }
}
