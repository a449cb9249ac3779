import Crypto
import Foundation
import MeshCA
import Testing

/// Manifests for a two-node mesh on loopback addresses 127.<net>.x.y (a random <net> per run,
/// so runs never share addresses): client on node-a, echo on node-b behind a service.
private func meshManifests(net: Int) -> String {
    """
    apiVersion: v1
    kind: Namespace
    metadata: {name: demo, labels: {istio.io/dataplane-mode: ambient}}
    ---
    apiVersion: security.istio.io/v1
    kind: PeerAuthentication
    metadata: {name: default, namespace: demo}
    spec: {mtls: {mode: STRICT}}
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: echo, namespace: demo}
    spec:
      clusterIP: 127.\(net).10.1
      selector: {app: echo}
      ports: [{name: http, port: 80, targetPort: 8080}]
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: client-0, namespace: demo, labels: {app: client}}
    spec: {serviceAccountName: client, nodeName: node-a, containers: [{name: c, image: client}]}
    status:
      phase: Running
      hostIP: 127.\(net).0.2
      podIP: 127.\(net).1.10
      conditions: [{type: Ready, status: "True"}]
    ---
    apiVersion: v1
    kind: Pod
    metadata:
      name: echo-0
      namespace: demo
      labels: {app: echo, version: v1}
      annotations: {ambient.swiftmesh.dev/application-tunnel: PROXY}
    spec:
      serviceAccountName: echo
      nodeName: node-b
      containers: [{name: echo, image: echo, ports: [{containerPort: 8080, name: http}]}]
    status:
      phase: Running
      hostIP: 127.\(net).0.3
      podIP: 127.\(net).2.10
      conditions: [{type: Ready, status: "True"}]
    """
}

private let denyClient = """
    apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: deny-client, namespace: demo}
    spec:
      selector: {matchLabels: {app: echo}}
      action: DENY
      rules: [{from: [{source: {principals: ["cluster.local/ns/demo/sa/client"]}}]}]
    """

/// istiod, two ztunnels and an echo app as separate processes; curl as the client application.
@Suite(.serialized) struct MeshEndToEndTests {
    let net = Int.random(in: 20...250)
    var nodeA: String { "127.\(net).0.2" }
    var nodeB: String { "127.\(net).0.3" }
    var clientIP: String { "127.\(net).1.10" }
    var echoIP: String { "127.\(net).2.10" }
    var vip: String { "127.\(net).10.1" }

    final class Mesh {
        var istiod: MeshProcess
        let ztunnels: [String: MeshProcess]
        let echo: MeshProcess
        let scratch: URL
        let config: URL
        var all: [MeshProcess] { [istiod, echo] + Array(ztunnels.values) }

        init(istiod: MeshProcess, ztunnels: [String: MeshProcess], echo: MeshProcess, scratch: URL, config: URL) {
            self.istiod = istiod
            self.ztunnels = ztunnels
            self.echo = echo
            self.scratch = scratch
            self.config = config
        }

        func stop() { for p in all { p.stop() } }

        func logs() -> String {
            all.map { "---- \($0.name)\n\($0.log.split(separator: "\n").suffix(30).joined(separator: "\n"))" }.joined(separator: "\n")
        }
    }

    func startIstiod(scratch: URL, config: URL, ports: [String: Int]? = nil) throws -> MeshProcess {
        let jwks = scratch.appendingPathComponent("jwks.json")
        let portsFile = scratch.appendingPathComponent("istiod-ports-\(UUID().uuidString).json")
        return try MeshProcess(
            "istiod",
            arguments: [
                "--config-dir", config.path, "--ca-dir", scratch.appendingPathComponent("ca").path, "--token-keys", jwks.path,
                "--grpc-port", "\(ports?["grpc"] ?? 0)", "--grpc-tls-port", "\(ports?["grpc-tls"] ?? 0)",
                "--http-port", "\(ports?["http"] ?? 0)",
            ], scratch: scratch, portsFile: portsFile, expectPorts: 3)
    }

    func startMesh() throws -> Mesh {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("mesh-e2e-\(UUID().uuidString)")
        let config = scratch.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try meshManifests(net: net).write(to: config.appendingPathComponent("mesh.yaml"), atomically: true, encoding: .utf8)
        let key = P256.Signing.PrivateKey()
        try JSONWebKeySet(keys: [.es256(key.publicKey)]).json().write(to: scratch.appendingPathComponent("jwks.json"))
        let istiod = try startIstiod(scratch: scratch, config: config)
        var ztunnels: [String: MeshProcess] = [:]
        do {
            for (node, ip) in [("node-a", nodeA), ("node-b", nodeB)] {
                let token = scratch.appendingPathComponent("\(node).jwt")
                try JWTSigner.es256(key).sign(.serviceAccountToken(
                    issuer: "https://kubernetes.default.svc.cluster.local", namespace: "istio-system",
                    serviceAccount: "ztunnel", nodeName: node)
                ).write(to: token, atomically: true, encoding: .utf8)
                ztunnels[node] = try MeshProcess(
                    "ztunnel", name: "ztunnel-\(node)",
                    arguments: [
                        "--node-name", node, "--node-ip", ip, "--pod-name", "ztunnel-\(node)",
                        "--xds-address", "127.0.0.1:\(istiod.ports["grpc"]!)",
                        "--ca-address", "127.0.0.1:\(istiod.ports["grpc-tls"]!)",
                        "--ca-root", scratch.appendingPathComponent("ca/root-cert.pem").path, "--token", token.path,
                        "--socks5-port", "0", "--outbound-port=-1", "--inbound-port=-1", "--admin-port", "0",
                        "--stats-port", "0", "--readiness-port", "0", "--drain-seconds", "3",
                    ], scratch: scratch, portsFile: scratch.appendingPathComponent("\(node)-ports.json"), expectPorts: 4)
            }
            let echo = try MeshProcess("echo", arguments: ["--listen", "\(echoIP):8080", "--name", "echo-0"], scratch: scratch)
            return Mesh(istiod: istiod, ztunnels: ztunnels, echo: echo, scratch: scratch, config: config)
        } catch {
            istiod.stop()
            for z in ztunnels.values { z.stop() }
            throw error
        }
    }

    func ready(_ mesh: Mesh) async -> Bool {
        await eventuallyTrue(timeout: .seconds(60)) {
            // The app listens (asked directly, not through the mesh) …
            var all = (try? Curl.get("http://\(echoIP):8080/ready", timeout: 2))?.exitCode == 0
            // … and both ztunnels are ready.
            for (node, z) in mesh.ztunnels {
                let ip = node == "node-a" ? nodeA : nodeB
                let r = try? Curl.get("http://\(ip):\(z.ports["readiness"]!)/healthz/ready", timeout: 2)
                all = all && r?.body == "ready\n"
            }
            return all
        }
    }

    func callEcho(_ mesh: Mesh, timeout: TimeInterval = 5) throws -> Curl.Result {
        try Curl.get(
            "http://\(vip)/hello", interface: clientIP, socks5: "\(nodeA):\(mesh.ztunnels["node-a"]!.ports["socks5"]!)",
            timeout: timeout)
    }

    /// Runs one step; a failure names the step and carries the processes' logs.
    func step<T>(_ name: String, _ mesh: Mesh, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            Issue.record("\(name): \(error)\n\(mesh.logs())")
            throw error
        }
    }

    @Test func trafficThroughTwoZtunnelsCarriesIdentityAndPolicyAndSurvivesIstiodRestart() async throws {
        let mesh = try startMesh()
        defer {
            mesh.stop()
            try? FileManager.default.removeItem(at: mesh.scratch)
        }
        try #require(await ready(mesh), "ztunnels not ready:\n\(mesh.logs())")

        // Client → service VIP through ztunnel-a (SOCKS5) → HBONE → ztunnel-b → echo.
        let first = try callEcho(mesh)
        #expect(first.exitCode == 0, "\(first.stderr)\n\(mesh.logs())")
        let reply = try JSONSerialization.jsonObject(with: Data(first.body.utf8)) as? [String: Any]
        #expect(reply?["app"] as? String == "echo-0")
        #expect(reply?["peerIdentity"] as? String == "spiffe://cluster.local/ns/demo/sa/client")
        #expect((reply?["peerAddress"] as? String)?.hasPrefix("\(clientIP):") == true)

        // Both ztunnels count the connection with Istio's labels.
        let statsA = try Curl.get("http://\(nodeA):\(mesh.ztunnels["node-a"]!.ports["stats"]!)/stats/prometheus")
        let statsB = try Curl.get("http://\(nodeB):\(mesh.ztunnels["node-b"]!.ports["stats"]!)/stats/prometheus")
        let opened = "istio_tcp_connections_opened_total"
        // Istio's labels from what xDS says about both ends (and the service the client addressed).
        let sourceSide = [
            "reporter=\"source\"", "destination_principal=\"spiffe://cluster.local/ns/demo/sa/echo\"",
            "source_workload=\"client-0\"", "destination_workload=\"echo-0\"",
            "destination_service=\"echo.demo.svc.cluster.local\"", "connection_security_policy=\"mutual_tls\"",
        ]
        let destinationSide = [
            "reporter=\"destination\"", "source_principal=\"spiffe://cluster.local/ns/demo/sa/client\"",
            "source_workload=\"client-0\"", "destination_workload=\"echo-0\"", "destination_app=\"echo\"",
            "destination_service=\"echo.demo.svc.cluster.local\"",
        ]
        #expect(statsA.body.split(separator: "\n").contains { line in line.hasPrefix(opened) && sourceSide.allSatisfy { line.contains($0) } }, "\(statsA.body)")
        #expect(statsB.body.split(separator: "\n").contains { line in line.hasPrefix(opened) && destinationSide.allSatisfy { line.contains($0) } }, "\(statsB.body)")
        #expect(statsB.body.contains("istio_tcp_received_bytes_total"))

        // Each ztunnel holds the certificate of its own workload only.
        let dumpA = try Curl.get("http://\(nodeA):\(mesh.ztunnels["node-a"]!.ports["admin"]!)/config_dump").body
        #expect(dumpA.contains("spiffe://cluster.local/ns/demo/sa/client"))
        #expect(dumpA.contains("\"expiry\""))
        #expect(!dumpA.contains("\"identity\" : \"spiffe://cluster.local/ns/demo/sa/echo\""))

        // A connection held open across the policy change (keep-alive HTTP through the mesh).
        let held = try step("open a held connection", mesh) {
            try HeldConnection(
                source: clientIP, proxyIP: nodeA, proxyPort: mesh.ztunnels["node-a"]!.ports["socks5"]!, destination: vip, port: 80)
        }
        #expect(try step("request on the held connection", mesh) { try held.get("/held") }
            .contains("\"peerIdentity\":\"spiffe://cluster.local/ns/demo/sa/client\""))

        // A DENY policy blocks the next connection within 2 s; the app never sees it.
        try denyClient.write(to: mesh.config.appendingPathComponent("deny.yaml"), atomically: true, encoding: .utf8)
        let applied = ContinuousClock.now
        var denied = false
        while ContinuousClock.now - applied < .seconds(2) {
            let r = try callEcho(mesh, timeout: 2)
            if r.exitCode != 0 { denied = true; break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(denied, "still allowed 2 s after the DENY policy was written\n\(mesh.logs())")
        let refused = try callEcho(mesh)
        #expect(refused.exitCode != 0 && refused.body.isEmpty)
        // The connection opened before the policy is closed too (ztunnel re-checks open tunnels).
        #expect(held.isClosedByPeer(), "a connection opened before the DENY policy stayed open")

        // Removing it restores traffic.
        try FileManager.default.removeItem(at: mesh.config.appendingPathComponent("deny.yaml"))
        #expect(await eventuallyTrue(timeout: .seconds(5)) { (try? callEcho(mesh, timeout: 2))?.exitCode == 0 })

        // istiod dies: open connections and new ones keep working on what the ztunnels have.
        let open = try step("open a connection before istiod dies", mesh) {
            try HeldConnection(
                source: clientIP, proxyIP: nodeA, proxyPort: mesh.ztunnels["node-a"]!.ports["socks5"]!, destination: vip, port: 80)
        }
        #expect(try step("request before istiod dies", mesh) { try open.get("/before") }.contains("\"app\":\"echo-0\""))
        let ports = mesh.istiod.ports
        mesh.istiod.stop()
        for _ in 0..<3 { #expect(try callEcho(mesh).exitCode == 0, "call failed while istiod was down") }
        #expect(try step("request while istiod is down", mesh) { try open.get("/during") }.contains("\"path\":\"/during\""))

        // istiod comes back (same ports, same CA directory): the ztunnels resync and follow new policy.
        mesh.istiod = try startIstiod(scratch: mesh.scratch, config: mesh.config, ports: ports)
        #expect(await eventuallyTrue(timeout: .seconds(30)) {
            let syncz = (try? Curl.get("http://127.0.0.1:\(ports["http"]!)/debug/syncz", timeout: 2))?.body ?? ""
            return syncz.contains("ztunnel-node-a") && syncz.contains("ztunnel-node-b")
        }, "ztunnels did not reconnect\n\(mesh.logs())")
        #expect(try step("request after istiod is back", mesh) { try open.get("/after") }.contains("\"path\":\"/after\""))
        try denyClient.write(to: mesh.config.appendingPathComponent("deny.yaml"), atomically: true, encoding: .utf8)
        #expect(await eventuallyTrue(timeout: .seconds(10)) { (try? callEcho(mesh, timeout: 2))?.exitCode ?? 0 != 0 },
            "policy after istiod restart not enforced\n\(mesh.logs())")

        // Graceful shutdown on SIGTERM.
        for z in mesh.ztunnels.values { #expect(z.terminate(), "\(z.name) did not stop on SIGTERM") }
    }

    @Test func demoRunsAndEveryCallHasTheExpectedOutcome() throws {
        let output = try BinaryRunner.run(
            "meshctl", ["demo", "--manifests", BinaryRunner.packageRoot.appendingPathComponent("Examples/demo").path],
            timeout: 240)
        #expect(output.status == 0, "\(output.stdout)\n\(output.stderr)")
        #expect(output.stdout.contains("Demo OK"))
        let lines = output.stdout.split(separator: "\n")
        // Before the DENY: allowed with mTLS and the client's identity as the server saw it.
        #expect(lines.contains { $0.contains("demo/client-0") && $0.contains("spiffe://cluster.local/ns/demo/sa/client") && $0.contains("ALLOW") && $0.contains("yes") })
        // After: refused.
        #expect(lines.contains { $0.contains("demo/client-0") && $0.contains("DENY") })
        #expect(output.stdout.contains("stopped on SIGTERM"))
    }
}
