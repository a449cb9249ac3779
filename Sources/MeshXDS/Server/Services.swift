import GRPCCore
import MeshProto

/// `envoy.service.discovery.v3.AggregatedDiscoveryService` backed by an ``XDSServer``.
struct AggregatedDiscoveryService: Envoy_Service_Discovery_V3_AggregatedDiscoveryService.SimpleServiceProtocol {
    let server: XDSServer

    func streamAggregatedResources(
        request: RPCAsyncSequence<Envoy_Service_Discovery_V3_DiscoveryRequest, any Error>,
        response: RPCWriter<Envoy_Service_Discovery_V3_DiscoveryResponse>,
        context: ServerContext
    ) async throws {
        try await server.run(requests: request) { pending in
            SotWSession(server: server, writer: response, pending: pending)
        }
    }

    func deltaAggregatedResources(
        request: RPCAsyncSequence<Envoy_Service_Discovery_V3_DeltaDiscoveryRequest, any Error>,
        response: RPCWriter<Envoy_Service_Discovery_V3_DeltaDiscoveryResponse>,
        context: ServerContext
    ) async throws {
        try await server.run(requests: request) { pending in
            DeltaSession(server: server, writer: response, pending: pending)
        }
    }
}

/// `envoy.service.secret.v3.SecretDiscoveryService`: the same engine with the type fixed to
/// ``TypeURL/secret``.
struct SecretDiscoveryService: Envoy_Service_Secret_V3_SecretDiscoveryService.SimpleServiceProtocol {
    let server: XDSServer

    func streamSecrets(
        request: RPCAsyncSequence<Envoy_Service_Discovery_V3_DiscoveryRequest, any Error>,
        response: RPCWriter<Envoy_Service_Discovery_V3_DiscoveryResponse>,
        context: ServerContext
    ) async throws {
        try await server.run(requests: request) { pending in
            SotWSession(server: server, writer: response, pending: pending, impliedTypeURL: TypeURL.secret)
        }
    }

    func deltaSecrets(
        request: RPCAsyncSequence<Envoy_Service_Discovery_V3_DeltaDiscoveryRequest, any Error>,
        response: RPCWriter<Envoy_Service_Discovery_V3_DeltaDiscoveryResponse>,
        context: ServerContext
    ) async throws {
        try await server.run(requests: request) { pending in
            DeltaSession(server: server, writer: response, pending: pending, impliedTypeURL: TypeURL.secret)
        }
    }

    func fetchSecrets(
        request: Envoy_Service_Discovery_V3_DiscoveryRequest, context: ServerContext
    ) async throws -> Envoy_Service_Discovery_V3_DiscoveryResponse {
        guard request.hasNode else {
            throw RPCError(code: .invalidArgument, message: "FetchSecrets needs node")
        }
        let key = server.cache.nodeKey(for: request.node)
        guard let view = server.cache.view(typeURL: TypeURL.secret, node: key) else {
            throw RPCError(code: .unavailable, message: "no secrets for node \(request.node.id) yet")
        }
        var response = Envoy_Service_Discovery_V3_DiscoveryResponse()
        response.typeURL = TypeURL.secret
        response.versionInfo = view.version
        let names = request.resourceNames.isEmpty ? view.resources.keys.sorted() : request.resourceNames
        response.resources = names.compactMap { view.resources[$0]?.any }
        response.controlPlane = server.controlPlane
        return response
    }
}
