import GRPCCore
import GRPCNIOTransportHTTP2
import MeshProto
import SwiftProtobuf
import X509

/// `istio.v1.auth.IstioCertificateService` on grpc-swift-2: register it on the same `GRPCServer`
/// as the xDS services (istiod serves both on 15012).
///
/// The caller's credentials are the request metadata (`authorization: Bearer …`, `clusterid`)
/// and, when the transport verified one, the client certificate of the mTLS connection (read
/// from `HTTP2ServerTransport.Posix.Context`).
public struct IstioCertificateGRPCService: Istio_V1_Auth_IstioCertificateService.ServiceProtocol {
    /// The transport-neutral logic.
    public let handler: CertificateRequestHandler

    /// Creates the service.
    public init(handler: CertificateRequestHandler) {
        self.handler = handler
    }

    public func createCertificate(
        request: ServerRequest<Istio_V1_Auth_IstioCertificateRequest>, context: ServerContext
    ) async throws -> ServerResponse<Istio_V1_Auth_IstioCertificateResponse> {
        let credentials = CallerCredentials(
            metadata: Self.metadata(request.metadata), peerCertificateChain: Self.peerCertificateChain(context),
            remotePeer: context.remotePeer)
        let message = request.message
        let neutral = CertificateRequest(
            csrPEM: message.csr, validitySeconds: message.validityDuration, metadata: Self.strings(message.metadata))
        do {
            let chain = try await handler.createCertificate(neutral, credentials: credentials)
            var response = Istio_V1_Auth_IstioCertificateResponse()
            response.certChain = chain
            return ServerResponse(message: response)
        } catch {
            return ServerResponse(error: RPCError(code: Self.code(error.code), message: error.message))
        }
    }

    static func code(_ code: CertificateServiceError.Code) -> RPCError.Code {
        switch code {
        case .unauthenticated: return .unauthenticated
        case .permissionDenied: return .permissionDenied
        case .invalidArgument: return .invalidArgument
        case .internal: return .internalError
        }
    }

    static func metadata(_ metadata: Metadata) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for (key, value) in metadata {
            if case .string(let text) = value { result[key.lowercased(), default: []].append(text) }
        }
        return result
    }

    /// The string-valued fields of a `google.protobuf.Struct`.
    static func strings(_ value: Google_Protobuf_Struct) -> [String: String] {
        var result: [String: String] = [:]
        for (key, field) in value.fields {
            if case .stringValue(let text)? = field.kind { result[key] = text }
        }
        return result
    }

    /// The verified client certificate chain the Posix transport recorded, if any.
    static func peerCertificateChain(_ context: ServerContext) -> [Certificate] {
        guard let posix = context.transportSpecific as? HTTP2ServerTransport.Posix.Context else { return [] }
        if let chain = posix.peerCertificateChain { return Array(chain) }
        if let leaf = posix.peerCertificate { return [leaf] }
        return []
    }
}
