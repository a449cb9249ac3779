import Foundation
import MeshProto
import SwiftProtobuf
import Testing
@testable import MeshXDS

/// The client's wire reader for delta responses agrees with the generated decoder.
@Suite struct DeltaResponseReaderTests {
    func read(_ message: Envoy_Service_Discovery_V3_DeltaDiscoveryResponse) throws -> ReceivedDeltaResponse {
        let bytes: [UInt8] = try message.serializedBytes()
        return try bytes.withUnsafeBytes { try ReceivedDeltaResponse(wire: $0) }
    }

    @Test func readsWhatTheGeneratedDecoderReads() throws {
        var message = Envoy_Service_Discovery_V3_DeltaDiscoveryResponse()
        message.systemVersionInfo = "v3"
        message.typeURL = TypeURL.endpoint
        message.nonce = "n-ü"
        message.removedResources = ["gone", "also-gone"]
        message.controlPlane.identifier = "skipped"
        let a = Fixtures.resource("a", Fixtures.endpoints(cluster: "a", ports: [1, 2]))
        var first = a.wrapped
        first.aliases = ["alias-1", "alias-2"]
        first.ttl.seconds = 5  // a field the client does not use
        var second = Envoy_Service_Discovery_V3_Resource()
        second.name = "no-payload"
        second.version = "1"
        var third = Envoy_Service_Discovery_V3_Resource()
        third.name = "other-type"
        third.resource = Fixtures.any(Fixtures.edsCluster(name: "c"))
        message.resources = [first, second, third]

        let read = try read(message)
        #expect(read.systemVersionInfo == "v3")
        #expect(read.typeURL == TypeURL.endpoint)
        #expect(read.nonce == "n-ü")
        #expect(read.removedResources == ["gone", "also-gone"])
        #expect(read.resources.count == 3)
        for (entry, wrapped) in zip(read.resources, message.resources) {
            #expect(entry.resource.name == wrapped.name)
            #expect(entry.resource.version == wrapped.version)
            #expect(entry.resource.aliases == wrapped.aliases)
            // (Compared by fields: an Any made from a message is not == to its decoded form.)
            #expect(entry.resource.any.typeURL == wrapped.resource.typeURL)
            #expect(entry.resource.any.value == wrapped.resource.value)
            #expect(entry.payloadType == (wrapped.hasResource ? wrapped.resource.typeURL : nil))
        }
        #expect(read.resources[0].resource.any.value == a.any.value)
        #expect(read.resources[2].payloadType == TypeURL.cluster)
    }

    @Test func rejectsMalformedBytes() {
        let truncated: [UInt8] = [0x12, 0x05, 0x1a, 0x01]  // field 2 claims 5 bytes, has 2
        #expect(throws: (any Error).self) { try truncated.withUnsafeBytes { try ReceivedDeltaResponse(wire: $0) } }
        let badUTF8: [UInt8] = [0x22, 0x02, 0xc3, 0x28]  // type_url with an invalid sequence
        #expect(throws: (any Error).self) { try badUTF8.withUnsafeBytes { try ReceivedDeltaResponse(wire: $0) } }
    }

    @Test("strings: ASCII of every length around the 8-byte steps, valid UTF-8, and invalid UTF-8 anywhere")
    func strings() throws {
        func read(_ bytes: [UInt8]) throws -> String {
            try bytes.withUnsafeBytes { try ProtobufWireReader.string($0) }
        }
        for length in 0...19 {
            let ascii = String((0..<length).map { Character(UnicodeScalar(UInt8(0x61 + $0 % 26))) })
            #expect(try read(Array(ascii.utf8)) == ascii)
        }
        let mixed = "spiffe://cluster.local/ns/é/sa/日本"
        #expect(try read(Array(mixed.utf8)) == mixed)
        // An invalid byte at each position of a 17-byte string (two 8-byte steps and a tail).
        for position in 0..<17 {
            var bytes = Array("abcdefghijklmnopq".utf8)
            bytes[position] = 0xff
            #expect(throws: ProtobufWireReader.Malformed.self) { try read(bytes) }
        }
    }
}
