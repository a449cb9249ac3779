import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import MeshProto
import MeshXDS
import NIOCore
import SwiftProtobuf
import Synchronization

/// A load-test delta ADS client, the way Istio's pilot-load drives istiod: it keeps the protocol
/// (wildcard subscriptions, an ACK echoing each response's nonce, a NACK for a resource of the
/// wrong type, the name → version of everything held and `initial_resource_versions` on
/// reconnect) but does not unpack resources. A response is read field by field from its bytes;
/// each resource's payload is only checked for its type URL.
///
/// This one runs on grpc-swift (`--client lean`); ``WireDeltaClient`` (the default) keeps the
/// same protocol and parsing on SwiftNIO's HTTP/2 at about half the CPU per message. ``XDSClient``
/// is what proxies use: it decodes every resource into the state it hands to handlers
/// (`--client full`).
public enum LeanDeltaClient {
    /// What the client holds of one type.
    struct TypeState {
        var versions: [String: String] = [:]
        var systemVersion = ""
        /// When the first response carrying `systemVersion` arrived (``MonotonicClock``).
        var receivedAt: UInt64 = 0
        var acked = 0
        var nacked = 0
    }

    /// What one client holds, by type, across its streams.
    final class Held: Sendable {
        let types = Mutex<[String: TypeState]>([:])
    }

    /// Runs one client until the task is cancelled, reconnecting 100 ms after a stream ends.
    public static func run(host: String, port: Int, node: Envoy_Config_Core_V3_Node, types: [String]) async throws {
        try await reconnecting { held in
            try await stream(host: host, port: port, node: node, types: types, held: held)
        }
    }

    /// Runs `stream` (one connection's stream) until the task is cancelled, again 100 ms after each
    /// end, with one ``Held`` for all of them (registered in ``Receipts``): what is held survives a
    /// failed stream, and the next one announces it.
    static func reconnecting(_ stream: (Held) async throws -> Void) async throws {
        let held = Held()
        Receipts.shared.register(held)
        while !Task.isCancelled {
            do {
                try await stream(held)
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// A stream's first requests: a wildcard subscription to each of `types` (the node on the
    /// first), each announcing the versions `held` already has.
    static func subscriptions(
        node: Envoy_Config_Core_V3_Node, types: [String], held: Held
    ) -> [Envoy_Service_Discovery_V3_DeltaDiscoveryRequest] {
        let initial = held.types.withLock { $0.mapValues(\.versions) }
        return types.enumerated().map { index, typeURL in
            var request = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
            if index == 0 { request.node = node }
            request.typeURL = typeURL
            request.resourceNamesSubscribe = ["*"]
            request.initialResourceVersions = initial[typeURL] ?? [:]
            return request
        }
    }

    /// One ADS stream, keeping `held` up to date.
    static func stream(
        host: String, port: Int, node: Envoy_Config_Core_V3_Node, types: [String], held: Held
    ) async throws {
        // Reads of at most 8 KB. NIOHTTP2's frame decoder keeps the rest of a read (empty, but
        // sharing the read buffer with gRPC's deframer), so appending the next read copies the
        // whole previous buffer: with the 64 KB buffers a full push grows, each small incremental
        // response cost every client a 64 KB copy (seen with a uprobe on memmove: 3,826 copies
        // of exactly 65,536 bytes in 2 s).
        var config = XDSClient.transportConfig
        config.channelDebuggingCallbacks.onCreateTCPConnection = { channel in
            channel.setOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 8192))
        }
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: host, port: port), transportSecurity: .plaintext, config: config)
        try await withGRPCClient(transport: transport) { grpc in
            typealias Request = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest
            // The request side writes the subscriptions, then hands its writer to the response
            // loop, which writes each ACK itself (no hop through another task), and stays open
            // until the response loop ends.
            let (handoff, handoffSink) = AsyncStream<RPCWriter<Request>>.makeStream()
            let (end, endSink) = AsyncStream<Never>.makeStream()
            defer { endSink.finish() }
            var options = CallOptions.defaults
            options.waitForReady = false
            let requests = subscriptions(node: node, types: types, held: held)
            try await grpc.bidirectionalStreaming(
                request: StreamingClientRequest(of: Request.self) { writer in
                    for request in requests { try await writer.write(request) }
                    handoffSink.yield(writer)
                    handoffSink.finish()
                    for await _ in end {}
                },
                descriptor: Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Method.DeltaAggregatedResources
                    .descriptor,
                serializer: RequestSerializer(),
                deserializer: LeanDeltaResponseDeserializer(),
                options: options
            ) { response in
                defer { endSink.finish() }
                var writers = handoff.makeAsyncIterator()
                guard let writer = await writers.next() else { return }
                for try await message in response.messages {
                    try await writer.write(held.types.withLock { apply(message, to: &$0) })
                }
            }
        }
    }

    /// Applies a response (unless it is rejected) and returns the ACK or NACK.
    static func apply(
        _ response: LeanDeltaResponse, to held: inout [String: TypeState]
    ) -> Envoy_Service_Discovery_V3_DeltaDiscoveryRequest {
        response.bytes.withUnsafeBytes { apply(response, bytes: $0, to: &held) }
    }

    /// ``apply(_:to:)`` with the response's bytes at hand (`response.bytes` is not read).
    static func apply(
        _ response: LeanDeltaResponse, bytes: UnsafeRawBufferPointer, to held: inout [String: TypeState]
    ) -> Envoy_Service_Discovery_V3_DeltaDiscoveryRequest {
        var reply = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
        reply.typeURL = response.typeURL
        reply.responseNonce = response.nonce
        if let wrongType = response.wrongType {
            held[response.typeURL, default: TypeState()].nacked += 1
            var status = Google_Rpc_Status()
            status.code = 3  // INVALID_ARGUMENT
            status.message = "resource \(wrongType) is not of type \(response.typeURL)"
            reply.errorDetail = status
            return reply
        }
        var state = held.removeValue(forKey: response.typeURL) ?? TypeState()
        if state.systemVersion != response.systemVersion { state.receivedAt = MonotonicClock.nanoseconds() }
        // Second pass over the bytes: each resource's name and version straight into the map.
        var reader = ProtobufWireReader(bytes)
        while let (field, wireType) = try? reader.nextField() {
            guard field == 2, wireType == 2, let entry = try? reader.lengthDelimited() else {
                try? reader.skip(wireType)
                continue
            }
            var fields = ProtobufWireReader(entry)
            var name: String?
            var version: UnsafeRawBufferPointer?
            while let (field, wireType) = try? fields.nextField() {
                switch (field, wireType) {
                case (1, 2): version = try? fields.lengthDelimited()
                case (3, 2): name = try? fields.string()
                default: try? fields.skip(wireType)
                }
            }
            guard let name else { continue }
            let newVersion = version ?? UnsafeRawBufferPointer(start: nil, count: 0)
            if let index = state.versions.index(forKey: name) {
                let same = state.versions.values[index].utf8.withContiguousStorageIfAvailable {
                    ProtobufWireReader.equal(UnsafeRawBufferPointer($0), newVersion)
                }
                if same != true {
                    state.versions.values[index] = String(decoding: newVersion, as: UTF8.self)
                }
            } else {
                state.versions[name] = String(decoding: newVersion, as: UTF8.self)
            }
        }
        for name in response.removed { state.versions[name] = nil }
        state.systemVersion = response.systemVersion
        state.acked += 1
        held[response.typeURL] = state
        return reply
    }
}

/// A `DeltaDiscoveryResponse` as ``LeanDeltaClient`` reads it: its small fields, and its bytes,
/// from which ``LeanDeltaClient/apply(_:to:)`` reads the resources' names and versions.
struct LeanDeltaResponse: Sendable {
    var systemVersion = ""
    var typeURL = ""
    var nonce = ""
    var removed: [String] = []
    /// The name (or, if unnamed, the index) of a resource whose payload is not of `typeURL`.
    var wrongType: String?
    /// The response as received (the transport's buffer, not a copy).
    var bytes: any GRPCContiguousBytes & Sendable = [UInt8]()
}

/// Reads a `DeltaDiscoveryResponse`'s small fields and checks each resource's payload type,
/// without decoding payloads.
struct LeanDeltaResponseDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> LeanDeltaResponse {
        try serializedMessageBytes.withUnsafeBytes { bytes in
            var response = try Self.read(bytes)
            // Kept for the second pass: the transport's bytes are Sendable; others are copied.
            response.bytes = (serializedMessageBytes as? GRPCNIOTransportBytes) ?? Array(bytes)
            return response
        }
    }

    /// The small fields of the response in `bytes` (its `bytes` is left empty).
    static func read(_ bytes: UnsafeRawBufferPointer) throws -> LeanDeltaResponse {
        var reader = ProtobufWireReader(bytes)
        var response = LeanDeltaResponse()
        // Payload type URLs are compared once the response's type URL is known (it may come last).
        var payloadTypes: [(index: Int, name: UnsafeRawBufferPointer?, type: UnsafeRawBufferPointer)] = []
        var index = 0
        while let (field, wireType) = try reader.nextField() {
            switch (field, wireType) {
            case (1, 2): response.systemVersion = try reader.string()
            case (2, 2):
                var entry = ProtobufWireReader(try reader.lengthDelimited())
                var name: UnsafeRawBufferPointer?
                var payloadType: UnsafeRawBufferPointer?
                while let (field, wireType) = try entry.nextField() {
                    switch (field, wireType) {
                    case (3, 2): name = try entry.lengthDelimited()
                    case (2, 2):
                        var any = ProtobufWireReader(try entry.lengthDelimited())
                        while let (field, wireType) = try any.nextField() {
                            if field == 1 && wireType == 2 {
                                payloadType = try any.lengthDelimited()
                            } else {
                                try any.skip(wireType)
                            }
                        }
                    default: try entry.skip(wireType)
                    }
                }
                if let payloadType { payloadTypes.append((index, name, payloadType)) }
                index += 1
            case (4, 2): response.typeURL = try reader.string()
            case (5, 2): response.nonce = try reader.string()
            case (6, 2): response.removed.append(try reader.string())
            default: try reader.skip(wireType)
            }
        }
        let expected = Array(response.typeURL.utf8)
        let wrong = expected.withUnsafeBytes { expected in
            payloadTypes.first(where: { !ProtobufWireReader.equal($0.type, expected) })
        }
        if let wrong {
            response.wrongType = wrong.name.map { String(decoding: $0, as: UTF8.self) } ?? "#\(wrong.index)"
        }
        return response
    }
}

/// Encodes the (small) requests with swift-protobuf.
struct RequestSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: Envoy_Service_Discovery_V3_DeltaDiscoveryRequest) throws -> Bytes {
        Bytes(try message.serializedBytes() as [UInt8])
    }
}
