import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MeshAPI
import Synchronization
import Testing

@testable import MeshDiscovery

/// Peers for the HTTPS tests: the OpenSSL CLI makes the certificates and Python's `ssl`
/// module (OpenSSL underneath) plays the API server. Skipped when missing, failing instead
/// with `MESH_REQUIRE_PEERS=1`.
private enum TLSPeers {
    static var required: Bool { ProcessInfo.processInfo.environment["MESH_REQUIRE_PEERS"] == "1" }

    static func which(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    static let openssl = which("openssl")
    static let python = which(ProcessInfo.processInfo.environment["MESH_PYTHON"] ?? "python3")
    static var availableOrRequired: Bool { (openssl != nil && python != nil) || required }

    @discardableResult
    static func run(_ executable: String, _ arguments: [String], in directory: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else { throw POSIXError(.EIO, "\(arguments): \(text)") }
        return text
    }
}

private extension POSIXError {
    init(_ code: POSIXErrorCode, _ message: String) {
        self.init(code)
        print("peer failed: \(message)")
    }
}

/// A CA, server certificates and a client certificate made with the OpenSSL CLI.
private struct TestPKI {
    let dir: String

    init(dir: String) throws {
        self.dir = dir
        let openssl = try #require(TLSPeers.openssl, "openssl is required (MESH_REQUIRE_PEERS=1)")
        func sh(_ args: String) throws { try TLSPeers.run(openssl, args.split(separator: " ").map(String.init), in: dir) }
        let ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
        for ca in ["ca", "other-ca"] {
            try sh("req -x509 \(ec) -keyout \(ca).key -out \(ca).crt -subj /CN=\(ca) -days 1")
        }
        let leaves: [(name: String, cn: String, ext: String)] = [
            ("server", "kube-apiserver", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth"),
            ("wrong-name", "kube-apiserver", "subjectAltName=DNS:kube.example\nextendedKeyUsage=serverAuth"),
            ("client", "swiftmesh-istiod", "extendedKeyUsage=clientAuth"),
        ]
        for leaf in leaves {
            try leaf.ext.write(toFile: "\(dir)/\(leaf.name).ext", atomically: true, encoding: .utf8)
            try sh("req \(ec) -keyout \(leaf.name).key -out \(leaf.name).csr -subj /CN=\(leaf.cn)")
            try sh("x509 -req -in \(leaf.name).csr -CA ca.crt -CAkey ca.key -CAcreateserial -out \(leaf.name).crt -days 1 -extfile \(leaf.name).ext")
        }
    }

    func data(_ file: String) -> Data { FileManager.default.contents(atPath: "\(dir)/\(file)")! }
}

/// An HTTPS API server in Python serving one namespace, logging each request's path, bearer
/// token and client certificate CN as JSON lines.
private final class PythonAPIServer: Sendable {
    let port: Int
    let logPath: String
    private let process: Process

    static let script = #"""
        import http.server, json, os, ssl, sys, time
        cert, key, ca, log, mode = sys.argv[1:6]
        NAMESPACES = {"kind": "NamespaceList", "apiVersion": "v1", "metadata": {"resourceVersion": "10"},
            "items": [{"metadata": {"name": "shop", "resourceVersion": "5", "labels": {"istio.io/dataplane-mode": "ambient"}},
                       "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}]}
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *args): pass
            def do_GET(self):
                peer = self.connection.getpeercert() or {}
                cn = "".join(v for rdn in peer.get("subject", ()) for k, v in rdn if k == "commonName")
                with open(log, "a") as f:
                    f.write(json.dumps({"path": self.path, "auth": self.headers.get("Authorization", ""), "cn": cn}) + "\n")
                if "watch=1" in self.path:
                    time.sleep(0.5)
                    body = b""
                else:
                    body = json.dumps(NAMESPACES).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        ctx.load_verify_locations(ca)
        ctx.verify_mode = ssl.CERT_REQUIRED if mode == "require-client-cert" else ssl.CERT_NONE
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """#

    init(pki: TestPKI, certificate: String = "server", requireClientCertificate: Bool) throws {
        let python = try #require(TLSPeers.python, "python3 is required (MESH_REQUIRE_PEERS=1)")
        let scriptPath = "\(pki.dir)/apiserver.py"
        try Self.script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        logPath = "\(pki.dir)/\(certificate)-\(UUID().uuidString).log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            scriptPath, "\(pki.dir)/\(certificate).crt", "\(pki.dir)/\(certificate).key", "\(pki.dir)/ca.crt", logPath,
            requireClientCertificate ? "require-client-cert" : "no-client-cert",
        ]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), let b = byte.first, b != UInt8(ascii: "\n") {
            line.append(b)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            kill(process.processIdentifier, SIGKILL)
            throw POSIXError(.EIO, "API server did not start")
        }
        self.port = port
    }

    struct Entry: Decodable { var path: String; var auth: String; var cn: String }

    var requests: [Entry] {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Entry.self, from: Data($0.utf8)) }
    }

    func stop() {
        // SIGKILL: a child spawned from the test process can inherit a mask that blocks SIGTERM.
        // Sent even when Foundation reports the process gone (peers outlived a stop() that
        // checked `isRunning` first in full-suite runs).
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}

private func withPKI(_ body: (TestPKI) async throws -> Void) async throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try await body(try TestPKI(dir: dir))
}

@Suite("Kubernetes API over TLS", .serialized, .enabled(if: TLSPeers.availableOrRequired, "needs openssl and python3"))
struct KubernetesTLSTests {
    @Test func kubeconfigClientCertificateAgainstAnHTTPSServer() async throws {
        try await withPKI { pki in
            let server = try PythonAPIServer(pki: pki, requireClientCertificate: true)
            defer { server.stop() }
            // Relative paths are read from the kubeconfig's directory; inline data is base64.
            let kubeconfig = """
                apiVersion: v1
                kind: Config
                current-context: local
                clusters:
                - name: local
                  cluster: {server: "https://127.0.0.1:\(server.port)", certificate-authority: ca.crt}
                contexts:
                - name: local
                  context: {cluster: local, user: istiod}
                users:
                - name: istiod
                  user:
                    client-certificate-data: \(pki.data("client.crt").base64EncodedString())
                    client-key: client.key
                """
            try kubeconfig.write(toFile: "\(pki.dir)/kubeconfig", atomically: true, encoding: .utf8)
            let connection = try KubernetesConnection.kubeconfig(path: "\(pki.dir)/kubeconfig")
            #expect(connection.clientKeyPEM == pki.data("client.key"))

            let mesh = MeshModel()
            let registry = KubernetesRegistry(connection: connection, options: .init(kinds: [.namespaces]))
            let task = Task { try await registry.run(into: mesh) }
            defer { task.cancel() }
            try await mesh.waitUntilReady()
            #expect(mesh.snapshot().namespaces["shop"] != nil)
            let first = try #require(server.requests.first)
            #expect(first.path.hasPrefix("/api/v1/namespaces"))
            #expect(first.cn == "swiftmesh-istiod")
        }
    }

    @Test func untrustedOrMisnamedServersAreRefused() async throws {
        try await withPKI { pki in
            let server = try PythonAPIServer(pki: pki, requireClientCertificate: false)
            defer { server.stop() }
            // Trusting another root: the handshake fails, no request is made.
            var otherRoot = KubernetesConnection(host: "127.0.0.1", port: server.port, token: "secret")
            otherRoot.certificateAuthorityPEM = pki.data("other-ca.crt")
            await #expect(throws: (any Error).self) { _ = try await KubernetesHTTPClient(connection: otherRoot).get("/api/v1/namespaces") }

            // A certificate from the right CA that does not name 127.0.0.1.
            let misnamed = try PythonAPIServer(pki: pki, certificate: "wrong-name", requireClientCertificate: false)
            defer { misnamed.stop() }
            var wrongName = KubernetesConnection(host: "127.0.0.1", port: misnamed.port, token: "secret")
            wrongName.certificateAuthorityPEM = pki.data("ca.crt")
            await #expect(throws: (any Error).self) { _ = try await KubernetesHTTPClient(connection: wrongName).get("/api/v1/namespaces") }
            #expect(server.requests.isEmpty)
            #expect(misnamed.requests.isEmpty)

            // Bad PEM material is a TLS error that says what was wrong.
            var badCA = otherRoot
            badCA.certificateAuthorityPEM = Data("not a certificate".utf8)
            do {
                _ = try await KubernetesHTTPClient(connection: badCA).get("/api/v1/namespaces")
                Issue.record("expected a TLS error")
            } catch let error as KubernetesClientError {
                #expect(error.description.contains("certificate authority"))
            }

            // The control: the right CA and name work, and the token is sent.
            var good = wrongName
            good.port = server.port
            let response = try await KubernetesHTTPClient(connection: good).get("/api/v1/namespaces")
            #expect(response.status == 200)
            #expect(server.requests.map(\.auth) == ["Bearer secret"])
        }
    }

    @Test func execPluginTokenIsCachedUntilItExpires() async throws {
        try await withPKI { pki in
            let server = try PythonAPIServer(pki: pki, requireClientCertificate: false)
            defer { server.stop() }
            let expiry = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))
            let plugin = """
                #!/bin/sh
                echo run >> "$(dirname "$0")/plugin-runs"
                case "$KUBERNETES_EXEC_INFO" in *ExecCredential*) ;; *) echo "no exec info" >&2; exit 3;; esac
                printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}' "$PLUGIN_TOKEN" "\(expiry)"
                """
            try plugin.write(toFile: "\(pki.dir)/plugin.sh", atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(pki.dir)/plugin.sh")
            let kubeconfig = """
                apiVersion: v1
                kind: Config
                current-context: local
                clusters:
                - name: local
                  cluster: {server: "https://127.0.0.1:\(server.port)", certificate-authority-data: \(pki.data("ca.crt").base64EncodedString())}
                contexts:
                - name: local
                  context: {cluster: local, user: cloud}
                users:
                - name: cloud
                  user:
                    exec:
                      apiVersion: client.authentication.k8s.io/v1
                      command: ./plugin.sh
                      env: [{name: PLUGIN_TOKEN, value: from-plugin}]
                """
            let connection = try KubernetesConnection.kubeconfig(text: kubeconfig, baseDirectory: pki.dir)
            let client = KubernetesHTTPClient(connection: connection)
            _ = try await client.get("/api/v1/namespaces")
            _ = try await client.get("/api/v1/namespaces")
            #expect(server.requests.map(\.auth) == ["Bearer from-plugin", "Bearer from-plugin"])
            let runs = try String(contentsOfFile: "\(pki.dir)/plugin-runs", encoding: .utf8)
            #expect(runs.split(separator: "\n").count == 1)

            // A failing plugin: its status and stderr are in the error, nothing is sent.
            var broken = connection
            broken.exec?.environment = [:]
            broken.exec?.command = "/bin/sh"
            broken.exec?.arguments = ["-c", "echo denied by provider >&2; exit 4"]
            do {
                _ = try await KubernetesHTTPClient(connection: broken).get("/api/v1/namespaces")
                Issue.record("expected the plugin to fail")
            } catch let error as KubernetesExecError {
                #expect(error.description.contains("status 4"))
                #expect(error.description.contains("denied by provider"))
            }
            #expect(server.requests.count == 2)
        }
    }

    @Test func inClusterCredentialsOverHTTPS() async throws {
        try await withPKI { pki in
            let server = try PythonAPIServer(pki: pki, requireClientCertificate: false)
            defer { server.stop() }
            let mount = "\(pki.dir)/serviceaccount"
            try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
            try "sa-token\n".write(toFile: "\(mount)/token", atomically: true, encoding: .utf8)
            try pki.data("ca.crt").write(to: URL(fileURLWithPath: "\(mount)/ca.crt"))
            let connection = try KubernetesConnection.inCluster(
                environment: ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "\(server.port)"],
                mountPath: mount)
            let response = try await KubernetesHTTPClient(connection: connection).get("/api/v1/namespaces")
            #expect(response.status == 200)
            #expect(server.requests.map(\.auth) == ["Bearer sa-token"])
        }
    }
}

@Suite struct KubeconfigErrorTests {
    private func error(_ users: String) -> String? {
        let text = """
            apiVersion: v1
            kind: Config
            current-context: c
            clusters: [{name: k, cluster: {server: "https://10.0.0.1:6443"}}]
            contexts: [{name: c, context: {cluster: k, user: u}}]
            users:
            \(users)
            """
        do {
            _ = try KubernetesConnection.kubeconfig(text: text, file: "kc.yaml", baseDirectory: "/nonexistent")
            return nil
        } catch {
            return error.description
        }
    }

    @Test func userErrorsNameTheField() {
        #expect(error("- {name: u, user: {client-certificate-data: \(Data("x".utf8).base64EncodedString())}}")
            == "kc.yaml: users[u].user: client-certificate and client-key must be given together")
        #expect(error("- {name: u, user: {client-key-data: '%%%'}}") == "kc.yaml: users[u].user.client-key-data: not valid base64")
        #expect(error("- {name: u, user: {client-certificate: c.crt, client-key: c.key}}")
            == "kc.yaml: users[u].user.client-certificate: cannot read /nonexistent/c.crt")
        #expect(error("- {name: u, user: {exec: {args: [x]}}}") == "kc.yaml: users[u].user.exec.command: required")
        #expect(error("- {name: other, user: {token: t}}") == "kc.yaml: users: no user named \"u\"")
        #expect(error("- {name: u, user: {token: t}}") == nil)
    }

    @Test func execCredentialParsing() throws {
        let plugin = KubernetesExecPlugin(command: "p")
        let ok = try KubernetesExecCredentialCache.parse(
            Data(#"{"kind":"ExecCredential","status":{"clientCertificateData":"C","clientKeyData":"K","expirationTimestamp":"2030-01-01T00:00:00Z"}}"#.utf8),
            plugin: plugin)
        #expect(ok.clientCertificatePEM == Data("C".utf8))
        #expect(ok.expiration == ISO8601DateFormatter().date(from: "2030-01-01T00:00:00Z"))
        #expect(throws: KubernetesExecError.self) {
            try KubernetesExecCredentialCache.parse(Data(#"{"kind":"ExecCredential","status":{}}"#.utf8), plugin: plugin)
        }
        #expect(throws: KubernetesExecError.self) {
            try KubernetesExecCredentialCache.parse(Data(#"{"kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"soon"}}"#.utf8), plugin: plugin)
        }
    }
}
