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
        request.initialResourceVersions = subscription.accepted.mapValues(\.version)
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
        let typeURL = response.typeURL
        guard let handler = subscriptions[typeURL]?.handler else { return reply }
        // The update is applied to the held resources in place, with an undo log: copying the
        // whole map for every response made a one-resource change cost O(resources held).
        var undo: [(name: String, previous: XDSResource?)] = []
        var updated: [XDSResource] = []
        var seen = Set<String>()
        var problem: String?
        for wrapped in response.resources {
            if !seen.insert(wrapped.name).inserted { problem = "duplicate resource name \(wrapped.name)" }
            if wrapped.hasResource && wrapped.resource.typeURL != typeURL {
                problem = "resource \(wrapped.name) has type \(wrapped.resource.typeURL), not \(typeURL)"
            }
            let resource = XDSResource(
                received: wrapped.name, any: wrapped.resource, version: wrapped.version, aliases: wrapped.aliases)
            updated.append(resource)
            let previous = subscriptions[typeURL]?.resources.updateValue(resource, forKey: wrapped.name)
            undo.append((wrapped.name, previous ?? nil))
        }
        for name in response.removedResources {
            if let previous = subscriptions[typeURL]?.resources.removeValue(forKey: name) {
                undo.append((name, previous))
            }
        }
        subscriptions[typeURL]?.pendingUndo = undo
        do {
            if let problem { throw XDSRejection(problem) }
            let update = XDSClientUpdate(
                typeURL: typeURL, version: response.systemVersionInfo, updated: updated,
                removed: response.removedResources, all: subscriptions[typeURL]?.resources ?? [:])
            try await handler(update)
            subscriptions[typeURL]?.pendingUndo = nil
            commit(typeURL, version: response.systemVersionInfo, nonce: response.nonce)
        } catch {
            if let undo = subscriptions[typeURL]?.pendingUndo {
                subscriptions[typeURL]?.pendingUndo = nil
                for (name, previous) in undo.reversed() { subscriptions[typeURL]?.resources[name] = previous }
            }
            let message = (error as? XDSRejection)?.message ?? "\(error)"
            reject(typeURL, message: message, nonce: response.nonce)
            var status = Google_Rpc_Status()
            status.code = 3  // INVALID_ARGUMENT
            status.message = message
            reply.errorDetail = status
        }
        return reply
    }

    /// Records an accepted response; `all`, when given, replaces the held resources (SotW).
    func commit(_ typeURL: String, all: [String: XDSResource]? = nil, version: String, nonce: String) {
        guard subscriptions[typeURL] != nil else { return }
        if let all { subscriptions[typeURL]?.resources = all }
        subscriptions[typeURL]?.lastNonce = nonce
        subscriptions[typeURL]?.status.acceptedVersion = version
        subscriptions[typeURL]?.status.accepted += 1
        let count = subscriptions[typeURL]?.resources.count ?? 0
        subscriptions[typeURL]?.status.resourceCount = count
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
