import GRPCCore
import GRPCNIOTransportHTTP2
import MeshProto
import SwiftProtobuf

extension XDSClient {
    func sotwRequest(_ subscription: Subscription) -> Envoy_Service_Discovery_V3_DiscoveryRequest {
        var request = Envoy_Service_Discovery_V3_DiscoveryRequest()
        request.node = configuration.node
        request.typeURL = subscription.typeURL
        request.versionInfo = subscription.status.acceptedVersion
        request.responseNonce = subscription.lastNonce
        request.resourceNames =
            subscription.wildcard
            ? (subscription.names.isEmpty ? [] : ["*"] + subscription.names.sorted())
            : subscription.names.sorted()
        return request
    }

    func runSotW() async throws {
        try await withGRPCClient(transport: try transport()) { grpc in
            let ads = Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Client(wrapping: grpc)
            let (out, sink) = AsyncStream<Envoy_Service_Discovery_V3_DiscoveryRequest>.makeStream()
            sotwOut = sink
            defer {
                sink.finish()
                sotwOut = nil
            }
            for subscription in ordered() {
                var request = sotwRequest(subscription)
                request.responseNonce = ""  // nonces do not survive a reconnect
                sink.yield(request)
            }
            opened()
            try await ads.streamAggregatedResources(
                metadata: [:], options: callOptions,
                requestProducer: { writer in
                    for await request in out { try await writer.write(request) }
                },
                onResponse: { response in
                    for try await message in response.messages {
                        let reply = await self.handleSotW(message)
                        sink.yield(reply)
                    }
                }
            )
        }
    }

    func handleSotW(
        _ response: Envoy_Service_Discovery_V3_DiscoveryResponse
    ) async -> Envoy_Service_Discovery_V3_DiscoveryRequest {
        guard let subscription = subscriptions[response.typeURL] else {
            var reply = Envoy_Service_Discovery_V3_DiscoveryRequest()
            reply.typeURL = response.typeURL
            reply.responseNonce = response.nonce
            reply.versionInfo = response.versionInfo
            return reply
        }
        let fullState = TypeURL.requiresFullStateInSotW(response.typeURL) || subscription.wildcard
        var all = fullState ? [:] : subscription.resources
        var updated: [XDSResource] = []
        var problem: String?
        var seen = Set<String>()
        for any in response.resources {
            guard any.typeURL == response.typeURL else {
                problem = "resource of type \(any.typeURL) in a \(response.typeURL) response"
                continue
            }
            guard let name = Self.resourceName(of: any) else {
                problem = "cannot read the name of a \(any.typeURL) resource"
                continue
            }
            if !seen.insert(name).inserted { problem = "duplicate resource name \(name)" }
            let resource = XDSResource(received: name, any: any, version: nil)
            if subscription.resources[name]?.version != resource.version { updated.append(resource) }
            all[name] = resource
        }
        let removed = fullState ? subscription.resources.keys.filter { all[$0] == nil }.sorted() : []
        let update = XDSClientUpdate(
            typeURL: response.typeURL, version: response.versionInfo, updated: updated, removed: removed, all: all)
        do {
            if let problem { throw XDSRejection(problem) }
            try await subscription.handler(update)
            commit(response.typeURL, all: all, version: response.versionInfo, nonce: response.nonce)
            return sotwRequest(subscriptions[response.typeURL] ?? subscription)
        } catch {
            let message = (error as? XDSRejection)?.message ?? "\(error)"
            reject(response.typeURL, message: message, nonce: response.nonce)
            var reply = sotwRequest(subscriptions[response.typeURL] ?? subscription)
            var status = Google_Rpc_Status()
            status.code = 3  // INVALID_ARGUMENT
            status.message = message
            reply.errorDetail = status
            return reply
        }
    }

    /// SotW carries bare `Any`s: the name is field 1 (`name`) of every xDS resource type
    /// (Listener, Cluster, RouteConfiguration, Secret; `cluster_name` for ClusterLoadAssignment),
    /// so it is read from the wire without knowing the type.
    static func resourceName(of any: Google_Protobuf_Any) -> String? {
        var bytes = [UInt8](any.value)[...]
        while !bytes.isEmpty {
            guard let key = readVarint(&bytes) else { return nil }
            let field = key >> 3
            let wire = key & 7
            switch wire {
            case 0: guard readVarint(&bytes) != nil else { return nil }
            case 1: guard bytes.count >= 8 else { return nil }; bytes = bytes.dropFirst(8)
            case 5: guard bytes.count >= 4 else { return nil }; bytes = bytes.dropFirst(4)
            case 2:
                guard let length = readVarint(&bytes), bytes.count >= Int(length) else { return nil }
                if field == 1 { return String(decoding: bytes.prefix(Int(length)), as: UTF8.self) }
                bytes = bytes.dropFirst(Int(length))
            default: return nil
            }
        }
        return nil
    }

    static func readVarint(_ bytes: inout ArraySlice<UInt8>) -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = bytes.first {
            bytes = bytes.dropFirst()
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { return nil }
        }
        return nil
    }
}
