import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
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
            typealias Request = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest
            let (out, sink) = AsyncStream<Request>.makeStream()
            deltaOut = sink
            defer {
                sink.finish()
                deltaOut = nil
            }
            for subscription in ordered() { sink.yield(initialDelta(subscription)) }
            opened()
            // The generated client would decode each response into `Resource` and `Any` messages;
            // DeltaResponseDeserializer reads the wire straight into XDSResources.
            try await grpc.bidirectionalStreaming(
                request: StreamingClientRequest(of: Request.self) { writer in
                    for await request in out { try await writer.write(request) }
                },
                descriptor: Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Method.DeltaAggregatedResources
                    .descriptor,
                serializer: ProtobufSerializer<Request>(),
                deserializer: DeltaResponseDeserializer(),
                options: callOptions
            ) { response in
                for try await message in response.messages {
                    let reply = await self.handleDelta(message)
                    sink.yield(reply)
                }
            }
        }
    }

    func handleDelta(_ response: ReceivedDeltaResponse) async -> Envoy_Service_Discovery_V3_DeltaDiscoveryRequest {
        var reply = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
        reply.typeURL = response.typeURL
        reply.responseNonce = response.nonce
        let typeURL = response.typeURL
        // Taken out while the response is applied (put back before the handler runs), so that
        // each resource costs one lookup in the held map rather than one in `subscriptions` too.
        guard var subscription = subscriptions.removeValue(forKey: typeURL) else { return reply }
        let handler = subscription.handler
        // The update is applied to the held resources in place, with an undo log: copying the
        // whole map for every response made a one-resource change cost O(resources held).
        var undo: [(name: String, previous: XDSResource?)] = []
        var updated: [XDSResource] = []
        undo.reserveCapacity(response.resources.count)
        updated.reserveCapacity(response.resources.count)
        var seen = Set<String>(minimumCapacity: response.resources.count)
        var problem: String?
        for entry in response.resources {
            let resource = entry.resource
            let name = resource.name
            if !seen.insert(name).inserted { problem = "duplicate resource name \(name)" }
            if let payloadType = entry.payloadType, payloadType != typeURL {
                problem = "resource \(name) has type \(payloadType), not \(typeURL)"
            }
            updated.append(resource)
            undo.append((name, subscription.resources.updateValue(resource, forKey: name)))
        }
        for name in response.removedResources {
            if let previous = subscription.resources.removeValue(forKey: name) {
                undo.append((name, previous))
            }
        }
        subscription.pendingUndo = undo
        subscriptions[typeURL] = subscription
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
