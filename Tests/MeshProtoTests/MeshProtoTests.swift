import Foundation
import GRPCCore
import MeshProto
import SwiftProtobuf
import Testing

/// Checks that the generated code is usable and that the hand-written Istio protos put every
/// field on the wire under the number Istio uses (shared/facts/ambient.md, sections 4 and 5).
@Suite("MeshProto")
struct MeshProtoTests {
    // MARK: Envoy

    @Test("A Cluster packed in Any round-trips through the binary format")
    func clusterInAnyRoundTrip() throws {
        var http2 = Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions()
        http2.explicitHTTPConfig.http2ProtocolOptions = Envoy_Config_Core_V3_Http2ProtocolOptions()

        var cluster = Envoy_Config_Cluster_V3_Cluster()
        cluster.name = "outbound|8080||reviews.default.svc.cluster.local"
        cluster.type = .eds
        cluster.connectTimeout = Google_Protobuf_Duration(seconds: 10)
        cluster.edsClusterConfig.edsConfig.ads = Envoy_Config_Core_V3_AggregatedConfigSource()
        cluster.typedExtensionProtocolOptions["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"] =
            try Google_Protobuf_Any(message: http2)

        let any = try Google_Protobuf_Any(message: cluster)
        #expect(any.typeURL == "type.googleapis.com/envoy.config.cluster.v3.Cluster")

        let bytes: [UInt8] = try any.serializedBytes()
        let decodedAny = try Google_Protobuf_Any(serializedBytes: bytes)
        #expect(decodedAny.typeURL == "type.googleapis.com/envoy.config.cluster.v3.Cluster")
        #expect(decodedAny.isA(Envoy_Config_Cluster_V3_Cluster.self))

        let decoded = try Envoy_Config_Cluster_V3_Cluster(unpackingAny: decodedAny)
        #expect(decoded.name == cluster.name)
        #expect(decoded.type == .eds)
        #expect(decoded.connectTimeout == Google_Protobuf_Duration(seconds: 10))
        #expect(decoded.edsClusterConfig.edsConfig.ads == Envoy_Config_Core_V3_AggregatedConfigSource())
        // The nested Any holds bytes after decoding but a message before, so compare encodings.
        #expect(try decoded.serializedBytes() as [UInt8] == cluster.serializedBytes() as [UInt8])
        let options = try #require(
            decoded.typedExtensionProtocolOptions["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"])
        let decodedHTTP = try Envoy_Extensions_Upstreams_Http_V3_HttpProtocolOptions(unpackingAny: options)
        guard case .http2ProtocolOptions? = decodedHTTP.explicitHTTPConfig.protocolConfig else {
            Issue.record("expected explicit HTTP/2 upstream protocol options")
            return
        }
    }

    @Test("A DiscoveryRequest round-trips through JSON")
    func discoveryRequestJSONRoundTrip() throws {
        var request = Envoy_Service_Discovery_V3_DiscoveryRequest()
        request.versionInfo = "v1"
        request.node.id = "sidecar~127.0.0.2~app.default~default.svc.cluster.local"
        request.node.cluster = "app.default"
        request.resourceNames = ["outbound|80||app.default.svc.cluster.local"]
        request.typeURL = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
        request.responseNonce = "nonce-1"
        request.errorDetail.code = 3
        request.errorDetail.message = "rejected"

        let json = try request.jsonString()
        #expect(json.contains("\"typeUrl\":\"type.googleapis.com/envoy.config.cluster.v3.Cluster\""))
        #expect(json.contains("\"responseNonce\":\"nonce-1\""))

        let decoded = try Envoy_Service_Discovery_V3_DiscoveryRequest(jsonString: json)
        #expect(decoded == request)
    }

    @Test("A DeltaDiscoveryRequest for Istio's workload types round-trips through the binary format")
    func deltaDiscoveryRequestRoundTrip() throws {
        var request = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
        request.typeURL = "type.googleapis.com/istio.workload.Address"
        request.resourceNamesSubscribe = ["*"]
        request.initialResourceVersions = ["cluster//v1/Pod/default/app": "7"]

        let bytes: [UInt8] = try request.serializedBytes()
        #expect(try Envoy_Service_Discovery_V3_DeltaDiscoveryRequest(serializedBytes: bytes) == request)
    }

    @Test("gRPC method paths match Envoy's and Istio's")
    func methodPaths() {
        #expect(
            Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Method.StreamAggregatedResources.descriptor
                .fullyQualifiedMethod
                == "envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources")
        #expect(
            Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Method.DeltaAggregatedResources.descriptor
                .fullyQualifiedMethod
                == "envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources")
        #expect(
            Envoy_Service_Secret_V3_SecretDiscoveryService.Method.StreamSecrets.descriptor.fullyQualifiedMethod
                == "envoy.service.secret.v3.SecretDiscoveryService/StreamSecrets")
        #expect(
            Istio_V1_Auth_IstioCertificateService.Method.CreateCertificate.descriptor.fullyQualifiedMethod
                == "istio.v1.auth.IstioCertificateService/CreateCertificate")
    }

    // MARK: Istio, checked byte by byte

    @Test("Workload.uid is field 20")
    func workloadUID() throws {
        var workload = Istio_Workload_Workload()
        workload.uid = "x"
        // Tag (20 << 3 | 2) = 162 = varint A2 01; length 1; "x".
        let bytes: [UInt8] = try workload.serializedBytes()
        #expect(bytes == [0xA2, 0x01, 0x01, 0x78])
        #expect(try Istio_Workload_Workload(serializedBytes: bytes).uid == "x")
    }

    @Test("Workload fields 3, 5, 22 and 27")
    func workloadFields() throws {
        var workload = Istio_Workload_Workload()
        workload.addresses = [Data([127, 0, 0, 2])]
        workload.tunnelProtocol = .hbone
        workload.capacity = Google_Protobuf_UInt32Value(3)
        let bytes: [UInt8] = try workload.serializedBytes()
        #expect(
            bytes == [
                0x1A, 0x04, 127, 0, 0, 2,  // field 3, length-delimited, 4 raw IP bytes
                0x28, 0x01,  // field 5 (tunnel_protocol), varint HBONE = 1
                0xDA, 0x01, 0x02, 0x08, 0x03,  // field 27 (capacity): UInt32Value{value(1) = 3}
            ])

        var withService = Istio_Workload_Workload()
        var port = Istio_Workload_Port()
        port.servicePort = 80
        port.targetPort = 8080
        var ports = Istio_Workload_PortList()
        ports.ports = [port]
        withService.services["d/s"] = ports
        let serviceBytes: [UInt8] = try withService.serializedBytes()
        #expect(
            serviceBytes == [
                0xB2, 0x01, 0x0E,  // field 22 (services map entry), length 14
                0x0A, 0x03, 0x64, 0x2F, 0x73,  // key = "d/s"
                0x12, 0x07,  // value: PortList, length 7
                0x0A, 0x05,  // PortList.ports (1), length 5
                0x08, 0x50,  // service_port (1) = 80
                0x10, 0x90, 0x3F,  // target_port (2) = 8080
            ])
    }

    @Test("Address is a oneof of workload (1) and service (2)")
    func address() throws {
        var address = Istio_Workload_Address()
        var workload = Istio_Workload_Workload()
        workload.name = "a"
        address.workload = workload
        #expect(try address.serializedBytes() as [UInt8] == [0x0A, 0x03, 0x0A, 0x01, 0x61])

        var service = Istio_Workload_Service()
        service.hostname = "h"
        service.visibility = .namespace
        address.service = service
        // Service: hostname (3) "h", visibility (14) varint 1.
        #expect(try address.serializedBytes() as [UInt8] == [0x12, 0x05, 0x1A, 0x01, 0x68, 0x70, 0x01])
    }

    @Test("Authorization: name 1, action 4, rules 5, dry_run 6; Clause.matches is field 2")
    func authorization() throws {
        var match = Istio_Security_Match()
        match.destinationPorts = [80]
        var clause = Istio_Security_Clause()
        clause.matches = [match]
        var rule = Istio_Security_Rule()
        rule.clauses = [clause]

        var policy = Istio_Security_Authorization()
        policy.name = "n"
        policy.action = .deny
        policy.rules = [rule]
        policy.dryRun = true

        let bytes: [UInt8] = try policy.serializedBytes()
        #expect(
            bytes == [
                0x0A, 0x01, 0x6E,  // name (1) = "n"
                0x20, 0x01,  // action (4) = DENY
                0x2A, 0x07,  // rules (5), length 7
                0x0A, 0x05,  // Rule.clauses (1), length 5
                0x12, 0x03,  // Clause.matches (2), length 3
                0x4A, 0x01, 0x50,  // Match.destination_ports (9), packed [80]
                0x30, 0x01,  // dry_run (6) = true
            ])
        #expect(try Istio_Security_Authorization(serializedBytes: bytes) == policy)
    }

    @Test("StringMatch.presence is field 4 and service accounts are fields 11/12")
    func stringMatchAndServiceAccounts() throws {
        var presence = Istio_Security_StringMatch()
        presence.presence = Google_Protobuf_Empty()
        var match = Istio_Security_Match()
        match.notPrincipals = [presence]
        #expect(try match.serializedBytes() as [UInt8] == [0x22, 0x02, 0x22, 0x00])

        var account = Istio_Security_ServiceAccountMatch()
        account.namespace = "n"
        account.serviceAccount = "s"
        var byAccount = Istio_Security_Match()
        byAccount.notServiceAccounts = [account]
        #expect(
            try byAccount.serializedBytes() as [UInt8]
                == [0x62, 0x06, 0x0A, 0x01, 0x6E, 0x12, 0x01, 0x73])
    }

    @Test("IstioCertificateRequest: csr 1, validity_duration 3, metadata 4")
    func certificateRequest() throws {
        var request = Istio_V1_Auth_IstioCertificateRequest()
        request.csr = "c"
        request.validityDuration = 3600
        let bytes: [UInt8] = try request.serializedBytes()
        // 3600 = 0x0E10 -> varint 90 1C.
        #expect(bytes == [0x0A, 0x01, 0x63, 0x18, 0x90, 0x1C])

        request.metadata.fields["ImpersonatedIdentity"] = Google_Protobuf_Value(
            stringValue: "spiffe://cluster.local/ns/default/sa/app")
        let decoded = try Istio_V1_Auth_IstioCertificateRequest(serializedBytes: try request.serializedBytes() as [UInt8])
        #expect(decoded.metadata.fields["ImpersonatedIdentity"]?.stringValue == "spiffe://cluster.local/ns/default/sa/app")
    }
}
