import GRPCCore
import GRPCNIOTransportHTTP2
import MeshProto
import MeshXDS
import SwiftProtobuf

/// A load-test delta ADS client, the way Istio's pilot-load drives istiod: it keeps the protocol
/// (wildcard subscriptions, an ACK echoing each response's nonce, a NACK for a resource of the
/// wrong type, the name → version of everything held and `initial_resource_versions` on
/// reconnect) but does not unpack resources. A response is read field by field from its bytes;
/// each resource's payload is only checked for its type URL.
///
/// ``XDSClient`` is what proxies use: it decodes every resource into the state it hands to
/// handlers. The benchmark can run either (`--client full`).
public enum LeanDeltaClient {
    /// What the client holds of one type.
    struct TypeState {
        var versions: [String: String] = [:]
        var systemVersion = ""
        var acked = 0
        var nacked = 0
    }

    /// Runs one client until the task is cancelled, reconnecting 100 ms after a stream ends.
    public static func run(host: String, port: Int, node: Envoy_Config_Core_V3_Node, types: [String]) async throws {
        var held: [String: TypeState] = [:]
        while !Task.isCancelled {
            do {
                held = try await stream(host: host, port: port, node: node, types: types, held: held)
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// One ADS stream; returns what is held when it ends.
    static func stream(
        host: String, port: Int, node: Envoy_Config_Core_V3_Node, types: [String], held: [String: TypeState]
    ) async throws -> [String: TypeState] {
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(host: host, port: port), transportSecurity: .plaintext)
        return try await withGRPCClient(transport: transport) { grpc in
            let (out, sink) = AsyncStream<Envoy_Service_Discovery_V3_DeltaDiscoveryRequest>.makeStream()
            defer { sink.finish() }
            for (index, typeURL) in types.enumerated() {
                var request = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
                if index == 0 { request.node = node }
                request.typeURL = typeURL
                request.resourceNamesSubscribe = ["*"]
                request.initialResourceVersions = held[typeURL]?.versions ?? [:]
                sink.yield(request)
            }
            var options = CallOptions.defaults
            options.waitForReady = false
            return try await grpc.bidirectionalStreaming(
                request: StreamingClientRequest(of: Envoy_Service_Discovery_V3_DeltaDiscoveryRequest.self) { writer in
                    for await request in out { try await writer.write(request) }
                },
                descriptor: Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Method.DeltaAggregatedResources
                    .descriptor,
                serializer: RequestSerializer(),
                deserializer: LeanDeltaResponseDeserializer(),
                options: options
            ) { response in
                var state = held
                for try await message in response.messages {
                    sink.yield(apply(message, to: &state))
                }
                return state
            }
        }
    }

    /// Applies a response (unless it is rejected) and returns the ACK or NACK.
    static func apply(
        _ response: LeanDeltaResponse, to held: inout [String: TypeState]
    ) -> Envoy_Service_Discovery_V3_DeltaDiscoveryRequest {
        var reply = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
        reply.typeURL = response.typeURL
        reply.responseNonce = response.nonce
        if let wrongType = response.resources.first(where: { !$0.typeMatches }) {
            held[response.typeURL, default: TypeState()].nacked += 1
            var status = Google_Rpc_Status()
            status.code = 3  // INVALID_ARGUMENT
            status.message = "resource \(wrongType.name) is not of type \(response.typeURL)"
            reply.errorDetail = status
            return reply
        }
        var state = held.removeValue(forKey: response.typeURL) ?? TypeState()
        for resource in response.resources { state.versions[resource.name] = resource.version }
        for name in response.removed { state.versions[name] = nil }
        state.systemVersion = response.systemVersion
        state.acked += 1
        held[response.typeURL] = state
        return reply
    }
}

/// A `DeltaDiscoveryResponse` as ``LeanDeltaClient`` reads it.
public struct LeanDeltaResponse: Sendable {
    /// One entry of `resources`: its name and version, and whether its payload has the response's type.
    public struct Resource: Sendable {
        public var name: String
        public var version: String
        public var typeMatches: Bool
    }

    public var systemVersion = ""
    public var typeURL = ""
    public var nonce = ""
    public var resources: [Resource] = []
    public var removed: [String] = []
}

/// Reads a `DeltaDiscoveryResponse` from its wire bytes without decoding the resources' payloads.
struct LeanDeltaResponseDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> LeanDeltaResponse {
        try serializedMessageBytes.withUnsafeBytes { bytes in
            var reader = WireReader(bytes)
            var response = LeanDeltaResponse()
            // Payload type URLs are compared once the response's type URL is known (it may come last).
            var payloadTypes: [UnsafeRawBufferPointer?] = []
            while let (field, wireType) = try reader.nextField() {
                switch (field, wireType) {
                case (1, 2): response.systemVersion = try reader.string()
                case (2, 2):
                    var entry = WireReader(try reader.lengthDelimited())
                    var resource = LeanDeltaResponse.Resource(name: "", version: "", typeMatches: true)
                    var payloadType: UnsafeRawBufferPointer?
                    while let (field, wireType) = try entry.nextField() {
                        switch (field, wireType) {
                        case (1, 2): resource.version = try entry.string()
                        case (3, 2): resource.name = try entry.string()
                        case (2, 2):
                            var any = WireReader(try entry.lengthDelimited())
                            while let (field, wireType) = try any.nextField() {
                                if field == 1 && wireType == 2 { payloadType = try any.lengthDelimited() } else {
                                    try any.skip(wireType)
                                }
                            }
                        default: try entry.skip(wireType)
                        }
                    }
                    response.resources.append(resource)
                    payloadTypes.append(payloadType)
                case (4, 2): response.typeURL = try reader.string()
                case (5, 2): response.nonce = try reader.string()
                case (6, 2): response.removed.append(try reader.string())
                default: try reader.skip(wireType)
                }
            }
            let expected = Array(response.typeURL.utf8)
            for (index, payloadType) in payloadTypes.enumerated() {
                if let payloadType, !payloadType.elementsEqual(expected) { response.resources[index].typeMatches = false }
            }
            return response
        }
    }
}

/// Encodes the (small) requests with swift-protobuf.
struct RequestSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: Envoy_Service_Discovery_V3_DeltaDiscoveryRequest) throws -> Bytes {
        Bytes(try message.serializedBytes() as [UInt8])
    }
}

/// Protobuf wire format, read in place.
struct WireReader {
    struct Malformed: Error {}

    let bytes: UnsafeRawBufferPointer
    var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func varint() throws -> UInt64 {
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
    mutating func nextField() throws -> (Int, Int)? {
        guard offset < bytes.count else { return nil }
        let key = try varint()
        return (Int(key >> 3), Int(key & 7))
    }

    mutating func lengthDelimited() throws -> UnsafeRawBufferPointer {
        let length = Int(try varint())
        guard length >= 0, length <= bytes.count - offset else { throw Malformed() }
        defer { offset += length }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length])
    }

    mutating func string() throws -> String { String(decoding: try lengthDelimited(), as: UTF8.self) }

    mutating func skip(_ wireType: Int) throws {
        switch wireType {
        case 0: _ = try varint()
        case 1: offset += 8
        case 2: _ = try lengthDelimited()
        case 5: offset += 4
        default: throw Malformed()
        }
        guard offset <= bytes.count else { throw Malformed() }
    }
}
