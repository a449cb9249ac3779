import Foundation
import Testing

/// A tiny Python HTTP backend that answers every GET with its name.
final class HTTPBackend {
    let child: ChildProcess
    let port: Int

    static let script = """
        import http.server, sys
        name = sys.argv[1].encode()
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", str(len(name)))
                self.end_headers()
                self.wfile.write(name)
            def log_message(self, *a):
                pass
        s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        with open(sys.argv[2] + ".tmp", "w") as f:
            f.write(str(s.server_address[1]))
        import os
        os.rename(sys.argv[2] + ".tmp", sys.argv[2])
        s.serve_forever()
        """

    init(name: String, dir: TempDir) async throws {
        let scriptURL = dir.path("backend.py")
        try Self.script.write(to: scriptURL, atomically: true, encoding: .utf8)
        let portFile = dir.path("backend-\(name).port")
        child = try ChildProcess(
            Peers.python, [scriptURL.path, name, portFile.path], log: dir.path("backend-\(name).log"))
        var found: Int?
        _ = await eventually(timeout: .seconds(10)) {
            found = (try? String(contentsOf: portFile, encoding: .utf8)).flatMap { Int($0) }
            return found != nil
        }
        guard let found else {
            child.stop()
            throw TestFailure("backend \(name) did not start: \(child.output)")
        }
        port = found
    }

    func stop() { child.stop() }
}

/// A real Envoy started with a bootstrap; stopped (killed) by `stop()`.
final class EnvoyProcess {
    let child: ChildProcess
    let adminPort: Int

    init(binary: String, bootstrap: String, dir: TempDir, name: String = "envoy") async throws {
        let config = dir.path("\(name).yaml")
        try bootstrap.write(to: config, atomically: true, encoding: .utf8)
        let adminFile = dir.path("\(name).admin")
        let child = try ChildProcess(
            binary,
            [
                "-c", config.path, "-l", "warning", "--disable-hot-restart",
                "--base-id", String(Int.random(in: 1000...1_000_000)),
                "--admin-address-path", adminFile.path,
            ],
            log: dir.path("\(name).log"))
        self.child = child
        var port: Int?
        _ = await eventually(timeout: .seconds(15)) {
            let text = (try? String(contentsOf: adminFile, encoding: .utf8)) ?? ""
            port = text.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            return port != nil || !child.process.isRunning
        }
        guard let port else {
            child.stop()
            throw TestFailure("envoy did not start: \(child.output)")
        }
        adminPort = port
    }

    func admin(_ path: String) -> String? { httpGet("http://127.0.0.1:\(adminPort)\(path)") }

    /// Waits until `/ready` answers LIVE.
    func waitReady(timeout: Duration = .seconds(20)) async -> Bool {
        await eventually(timeout: timeout) {
            admin("/ready")?.contains("LIVE") == true
        }
    }

    /// The bound port of listener `name` (from `/listeners?format=json`).
    func listenerPort(_ name: String) -> Int? {
        guard let text = admin("/listeners?format=json"),
            let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let statuses = json["listener_statuses"] as? [[String: Any]]
        else { return nil }
        for status in statuses where status["name"] as? String == name {
            if let local = status["local_address"] as? [String: Any],
                let socket = local["socket_address"] as? [String: Any]
            {
                return socket["port_value"] as? Int
            }
        }
        return nil
    }

    /// Names and versions of the dynamic resources in `/config_dump` whose dump type ends in
    /// `dumpType` (e.g. `ClustersConfigDump`), from the key `key` (e.g. `dynamic_active_clusters`).
    func dumped(_ dumpType: String, _ key: String, inner: String) -> [String: String] {
        guard let text = admin("/config_dump"),
            let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let configs = json["configs"] as? [[String: Any]]
        else { return [:] }
        var out: [String: String] = [:]
        for config in configs where (config["@type"] as? String)?.hasSuffix(dumpType) == true {
            for entry in config[key] as? [[String: Any]] ?? [] {
                var body = entry
                if let active = entry["active_state"] as? [String: Any] { body = active }
                let version = body["version_info"] as? String ?? entry["version_info"] as? String ?? ""
                if let resource = body[inner] as? [String: Any], let name = resource["name"] as? String {
                    out[name] = version
                } else if let name = entry["name"] as? String {
                    out[name] = version
                }
            }
        }
        return out
    }

    func stop() { child.stop() }
}

enum Bootstrap {
    /// An Envoy bootstrap whose LDS and CDS come over ADS from 127.0.0.1:`port`.
    static func ads(nodeID: String, xdsPort: Int, delta: Bool) -> String {
        """
        node:
          id: \(nodeID)
          cluster: test
        admin:
          address: {socket_address: {address: 127.0.0.1, port_value: 0}}
        dynamic_resources:
          ads_config:
            api_type: \(delta ? "DELTA_GRPC" : "GRPC")
            transport_api_version: V3
            set_node_on_first_message_only: true
            grpc_services:
            - envoy_grpc: {cluster_name: xds}
          cds_config: {resource_api_version: V3, ads: {}}
          lds_config: {resource_api_version: V3, ads: {}}
        static_resources:
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
}
