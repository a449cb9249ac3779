import GRPCCore
import GRPCNIOTransportHTTP2
import MeshProto
import SwiftProtobuf

extension XDSClient {
    func initialDelta(_ subscription: Subscription) -> Envoy_Service_Discovery_V3_DeltaDiscoveryRequest {
        var request = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
        request.node = configuration.node
        request.typeURL = subscription.typeURL
        request.resourceNamesSubscribe = (subscription.wildcard ? ["*"] : []) + subscription.names.sorted()
        // After a reconnect, tell the server what we hold so it can skip unchanged resources.
        request.initialResourceVersions = subscription.resources.mapValues(\.version)
        return request
    }

    func runDelta() async throws {
        try await withGRPCClient(transport: try transport()) { grpc in
            let ads = Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Client(wrapping: grpc)
            let (out, sink) = AsyncStream<Envoy_Service_Discovery_V3_DeltaDiscoveryRequest>.makeStream()
            deltaOut = sink
            defer {
                sink.finish()
                deltaOut = nil
            }
            for subscription in ordered() { sink.yield(initialDelta(subscription)) }
            opened()
            try await ads.deltaAggregatedResources(
                metadata: [:], options: callOptions,
                requestProducer: { writer in
                    for await request in out { try await writer.write(request) }
                },
                onResponse: { response in
                    for try await message in response.messages {
                        let reply = await self.handleDelta(message)
                        sink.yield(reply)
                    }
                }
            )
        }
    }

    func handleDelta(
        _ response: Envoy_Service_Discovery_V3_DeltaDiscoveryResponse
    ) async -> Envoy_Service_Discovery_V3_DeltaDiscoveryRequest {
        var reply = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
        reply.typeURL = response.typeURL
        reply.responseNonce = response.nonce
        guard let subscription = subscriptions[response.typeURL] else { return reply }
        var all = subscription.resources
        var updated: [XDSResource] = []
        var seen = Set<String>()
        var problem: String?
        for wrapped in response.resources {
            if !seen.insert(wrapped.name).inserted { problem = "duplicate resource name \(wrapped.name)" }
            if wrapped.hasResource && wrapped.resource.typeURL != response.typeURL {
                problem = "resource \(wrapped.name) has type \(wrapped.resource.typeURL), not \(response.typeURL)"
            }
            let resource = XDSResource(
                name: wrapped.name, any: wrapped.resource, version: wrapped.version, aliases: wrapped.aliases)
            updated.append(resource)
            all[wrapped.name] = resource
        }
        for name in response.removedResources { all[name] = nil }
        let update = XDSClientUpdate(
            typeURL: response.typeURL, version: response.systemVersionInfo, updated: updated,
            removed: response.removedResources, all: all)
        do {
            if let problem { throw XDSRejection(problem) }
            try await subscription.handler(update)
            commit(response.typeURL, all: all, version: response.systemVersionInfo, nonce: response.nonce)
        } catch {
            let message = (error as? XDSRejection)?.message ?? "\(error)"
            reject(response.typeURL, message: message, nonce: response.nonce)
            var status = Google_Rpc_Status()
            status.code = 3  // INVALID_ARGUMENT
            status.message = message
            reply.errorDetail = status
        }
        return reply
    }

    func commit(_ typeURL: String, all: [String: XDSResource], version: String, nonce: String) {
        guard var subscription = subscriptions[typeURL] else { return }
        subscription.resources = all
        subscription.lastNonce = nonce
        subscription.status.acceptedVersion = version
        subscription.status.accepted += 1
        subscription.status.resourceCount = all.count
        subscriptions[typeURL] = subscription
        failures = 0
        eventSink.yield(.accepted(typeURL: typeURL, version: version))
    }

    func reject(_ typeURL: String, message: String, nonce: String) {
        guard var subscription = subscriptions[typeURL] else { return }
        subscription.lastNonce = nonce
        subscription.status.rejected += 1
        subscription.status.lastError = message
        subscriptions[typeURL] = subscription
        eventSink.yield(.rejected(typeURL: typeURL, message: message))
    }
}
