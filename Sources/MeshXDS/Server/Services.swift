import GRPCCore
import GRPCProtobuf
import MeshProto

/// `envoy.service.discovery.v3.AggregatedDiscoveryService` backed by an ``XDSServer``.
///
/// Registered by hand rather than through the generated protocol so that delta responses are
/// written with ``DeltaResponseSerializer`` (pre-serialised resources) instead of being
/// encoded again for every client.
struct AggregatedDiscoveryService: RegistrableRPCService {
    typealias Service = Envoy_Service_Discovery_V3_AggregatedDiscoveryService
    let server: XDSServer

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        let server = self.server
        router.registerHandler(
            forMethod: Service.Method.StreamAggregatedResources.descriptor,
            deserializer: ProtobufDeserializer<Envoy_Service_Discovery_V3_DiscoveryRequest>(),
            serializer: ProtobufSerializer<Envoy_Service_Discovery_V3_DiscoveryResponse>()
        ) { request, context in
            StreamingServerResponse { writer in
                try await server.run(requests: request.messages, peer: context.remotePeer) { pending in
                    SotWSession(server: server, writer: writer, pending: pending)
                }
                return [:]
            }
        }
        router.registerHandler(
            forMethod: Service.Method.DeltaAggregatedResources.descriptor,
            deserializer: ProtobufDeserializer<Envoy_Service_Discovery_V3_DeltaDiscoveryRequest>(),
            serializer: DeltaResponseSerializer()
        ) { request, context in
            StreamingServerResponse { writer in
                try await server.run(requests: request.messages, peer: context.remotePeer) { pending in
                    DeltaSession(server: server, writer: writer, pending: pending)
                }
                return [:]
            }
        }
    }
}

/// `envoy.service.secret.v3.SecretDiscoveryService`: the same engine with the type fixed to
/// ``TypeURL/secret``.
struct SecretDiscoveryService: RegistrableRPCService {
    typealias Service = Envoy_Service_Secret_V3_SecretDiscoveryService
    let server: XDSServer

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        let server = self.server
        router.registerHandler(
            forMethod: Service.Method.StreamSecrets.descriptor,
            deserializer: ProtobufDeserializer<Envoy_Service_Discovery_V3_DiscoveryRequest>(),
            serializer: ProtobufSerializer<Envoy_Service_Discovery_V3_DiscoveryResponse>()
        ) { request, context in
            StreamingServerResponse { writer in
                try await server.run(requests: request.messages, peer: context.remotePeer) { pending in
                    SotWSession(server: server, writer: writer, pending: pending, impliedTypeURL: TypeURL.secret)
                }
                return [:]
            }
        }
        router.registerHandler(
            forMethod: Service.Method.DeltaSecrets.descriptor,
            deserializer: ProtobufDeserializer<Envoy_Service_Discovery_V3_DeltaDiscoveryRequest>(),
            serializer: DeltaResponseSerializer()
        ) { request, context in
            StreamingServerResponse { writer in
                try await server.run(requests: request.messages, peer: context.remotePeer) { pending in
                    DeltaSession(server: server, writer: writer, pending: pending, impliedTypeURL: TypeURL.secret)
                }
                return [:]
            }
        }
        router.registerHandler(
            forMethod: Service.Method.FetchSecrets.descriptor,
            deserializer: ProtobufDeserializer<Envoy_Service_Discovery_V3_DiscoveryRequest>(),
            serializer: ProtobufSerializer<Envoy_Service_Discovery_V3_DiscoveryResponse>()
        ) { request, _ in
            let single = try await ServerRequest(stream: request)
            return StreamingServerResponse(single: ServerResponse(message: try fetchSecrets(single.message)))
        }
    }

    func fetchSecrets(
        _ request: Envoy_Service_Discovery_V3_DiscoveryRequest
    ) throws -> Envoy_Service_Discovery_V3_DiscoveryResponse {
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
