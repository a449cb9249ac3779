import Crypto
import Foundation
import MeshCA
import Synchronization

/// The demo's processes: istiod, a ztunnel per node, an echo app per app pod. Every port is on
/// loopback; istiod picks ephemeral ports, each ztunnel binds Istio's ports on its node address.
final class DemoMesh: Sendable {
    static var binaryDirectory: URL {
        (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).resolvingSymlinksInPath()
            .deletingLastPathComponent()
    }

    let topology: DemoTopology
    let scratch: URL
    let configDirectory: URL
    let caDirectory: URL
    let logDirectory: URL
    private let children = Mutex<[ChildProcess]>([])
    private let ports = Mutex<(istiod: [String: Int], ztunnels: [String: [String: Int]])>(([:], [:]))

    init(topology: DemoTopology) throws {
        self.topology = topology
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("meshctl-demo-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        configDirectory = scratch.appendingPathComponent("config")
        caDirectory = scratch.appendingPathComponent("ca")
        logDirectory = scratch.appendingPathComponent("logs")
        for directory in [configDirectory, logDirectory] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        for file in topology.files {
            try FileManager.default.copyItem(at: file, to: configDirectory.appendingPathComponent(file.lastPathComponent))
        }
    }

    private func spawn(_ name: String, _ binary: String, _ arguments: [String]) throws -> ChildProcess {
        let executable = Self.binaryDirectory.appendingPathComponent(binary)
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw DemoError("\(executable.path) is missing: build every product first (`swift build`)")
        }
        let child = try ChildProcess(name: name, executable: executable, arguments: arguments, logDirectory: logDirectory)
        children.withLock { $0.append(child) }
        return child
    }

    /// Starts everything and waits until each part is ready.
    func start() async throws {
        // Service-account tokens: istiod trusts this key, each ztunnel gets a token naming its node.
        let tokenKey = P256.Signing.PrivateKey()
        let jwks = scratch.appendingPathComponent("jwks.json")
        try JSONWebKeySet(keys: [.es256(tokenKey.publicKey)]).json().write(to: jwks)
        let signer = JWTSigner.es256(tokenKey)

        let istiodPorts = scratch.appendingPathComponent("istiod-ports.json")
        let istiod = try spawn("istiod", "istiod", [
            "--config-dir", configDirectory.path, "--ca-dir", caDirectory.path, "--token-keys", jwks.path,
            "--grpc-port", "0", "--grpc-tls-port", "0", "--http-port", "0", "--ports-file", istiodPorts.path,
        ])
        let ip = try await waitForPorts(istiodPorts, process: istiod)
        ports.withLock { $0.istiod = ip }
        try await waitReady(istiod, host: "127.0.0.1", port: ip["http"]!, path: "/ready")
        say(row("istiod", "ready", "xDS 127.0.0.1:\(ip["grpc"]!) · CA+xDS/TLS 127.0.0.1:\(ip["grpc-tls"]!) · monitoring 127.0.0.1:\(ip["http"]!)"))

        var ztunnels: [(DemoTopology.Node, ChildProcess)] = []
        for node in topology.nodes {
            let token = scratch.appendingPathComponent("token-\(node.name).jwt")
            try signer.sign(.serviceAccountToken(
                issuer: "https://kubernetes.default.svc.cluster.local", namespace: "istio-system", serviceAccount: "ztunnel",
                podName: "ztunnel-\(node.name)", nodeName: node.name)
            ).write(to: token, atomically: true, encoding: .utf8)
            let portsFile = scratch.appendingPathComponent("ztunnel-\(node.name)-ports.json")
            let child = try spawn("ztunnel-\(node.name)", "ztunnel", [
                "--node-name", node.name, "--node-ip", node.ip, "--pod-name", "ztunnel-\(node.name)",
                "--xds-address", "127.0.0.1:\(ip["grpc"]!)", "--ca-address", "127.0.0.1:\(ip["grpc-tls"]!)",
                "--ca-root", caDirectory.appendingPathComponent("root-cert.pem").path, "--token", token.path,
                "--outbound-port=-1", "--inbound-port=-1", "--ports-file", portsFile.path, "--drain-seconds", "2",
            ])
            let bound = try await waitForPorts(portsFile, process: child)
            ports.withLock { $0.ztunnels[node.name] = bound }
            ztunnels.append((node, child))
        }
        var apps: [(ChildProcess, String, Int)] = []
        for app in topology.apps {
            for port in app.ports {
                let child = try spawn("app-\(app.name)-\(port)", "echo", ["--listen", "\(app.ip):\(port)", "--name", app.name])
                apps.append((child, app.ip, port))
            }
        }
        // The apps listen before any call is made (directly, not through the mesh).
        for (child, ip, port) in apps {
            try await waitReady(child, host: ip, port: port, path: "/ready")
        }
        for (node, child) in ztunnels {
            let bound = ports.withLock { $0.ztunnels[node.name]! }
            try await waitReady(child, host: node.ip, port: bound["readiness"]!, path: "/healthz/ready")
            say(row("ztunnel \(node.name)", "ready", "node \(node.ip) · SOCKS5 :\(bound["socks5"]!) · HBONE :15008 on each local pod · admin :\(bound["admin"]!)"))
        }
        for app in topology.apps {
            say(row("app \(app.namespace)/\(app.name)", "up", "\(app.ip):\(app.ports.map(String.init).joined(separator: ",")) on \(app.node) as \(app.spiffeID)"))
        }
        for client in topology.clients {
            say(row("client \(client.namespace)/\(client.name)", "-", "calls from \(client.ip) on \(client.node) as \(client.spiffeID)"))
        }
    }

    private func row(_ a: String, _ b: String, _ c: String) -> String {
        "  " + a.padding(toLength: 22, withPad: " ", startingAt: 0) + b.padding(toLength: 7, withPad: " ", startingAt: 0) + c
    }

    private func waitForPorts(_ file: URL, process: ChildProcess, timeout: TimeInterval = 60) async throws -> [String: Int] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let data = try? Data(contentsOf: file),
                let ports = try? JSONSerialization.jsonObject(with: data) as? [String: Int]
            {
                return ports
            }
            guard process.isRunning else { throw DemoError("\(process.name) exited:\n\(process.logTail())") }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw DemoError("\(process.name) did not bind its ports within \(Int(timeout)) s:\n\(process.logTail())")
    }

    private func waitReady(_ process: ChildProcess, host: String, port: Int, path: String, timeout: TimeInterval = 60) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if case .response(200, _) = await MeshHTTPClient(timeout: .seconds(2)).get(host: host, port: port, path: path) { return }
            guard process.isRunning else { throw DemoError("\(process.name) exited:\n\(process.logTail())") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw DemoError("\(process.name) was not ready within \(Int(timeout)) s:\n\(process.logTail())")
    }

    /// Every client calls every target through its node's ztunnel.
    func callAll() async -> [DemoCall] {
        var calls: [DemoCall] = []
        for client in topology.clients {
            for target in topology.targets { calls.append(await call(from: client, to: target)) }
        }
        return calls
    }

    func call(from client: DemoTopology.PodInfo, to target: DemoTopology.Target) async -> DemoCall {
        let node = topology.node(of: client)!
        let socks = ports.withLock { $0.ztunnels[node.name]?["socks5"] } ?? 15080
        let started = ContinuousClock.now
        let outcome = await MeshHTTPClient(source: client.ip, proxy: (node.ip, socks))
            .get(host: target.ip, port: target.port, path: "/hello")
        let latency = ContinuousClock.now - started
        return DemoCall(client: client, target: target, outcome: outcome, latency: latency, topology: topology)
    }

    /// Polls the first call until it has `decision`; returns the seconds it took.
    func waitFor(_ decision: DemoCall.Decision, timeout: TimeInterval) async -> Double? {
        let started = Date()
        while Date().timeIntervalSince(started) < timeout {
            if await call(from: topology.clients[0], to: topology.targets[0]).decision == decision {
                return Date().timeIntervalSince(started)
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    /// Copies `steps/<name>` into istiod's config directory; returns what it holds.
    func applyStep(_ name: String) throws -> String {
        let source = topology.directory.appendingPathComponent("steps").appendingPathComponent(name)
        let text = try String(contentsOf: source, encoding: .utf8)
        try text.write(to: configDirectory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        let kind = text.split(separator: "\n").first { $0.hasPrefix("kind:") }.map { $0.dropFirst(5).trimmingCharacters(in: .whitespaces) } ?? "resource"
        let policyName = text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("name:") }
            .map { $0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces) } ?? name
        return "\(kind) \(policyName)"
    }

    func removeStep(_ name: String) throws {
        try FileManager.default.removeItem(at: configDirectory.appendingPathComponent(name))
    }

    /// Stops ztunnels first (they drain), then apps, then istiod; returns a summary.
    func stopAll() -> String {
        let all = children.withLock { list in
            defer { list.removeAll() }
            return list
        }
        guard !all.isEmpty else { return "nothing running" }
        let order = all.filter { $0.name.hasPrefix("ztunnel") } + all.filter { $0.name.hasPrefix("app") }
            + all.filter { $0.name == "istiod" }
        var graceful: [String] = []
        var killed: [String] = []
        for child in order {
            if child.stop(grace: 10) { graceful.append(child.name) } else { killed.append(child.name) }
        }
        try? FileManager.default.removeItem(at: scratch)
        return "\(graceful.count) processes stopped on SIGTERM" + (killed.isEmpty ? "" : ", killed: \(killed.joined(separator: ", "))")
    }

    func keepRunningHelp() -> String {
        let client = topology.clients[0]
        let node = topology.node(of: client)!
        let target = topology.targets[0]
        let socks = ports.withLock { $0.ztunnels[node.name]?["socks5"] } ?? 15080
        let admin = ports.withLock { $0.ztunnels[node.name]?["admin"] } ?? 15000
        let stats = ports.withLock { $0.ztunnels[node.name]?["stats"] } ?? 15020
        let http = ports.withLock { $0.istiod["http"] } ?? 0
        return """
            The mesh keeps running (Ctrl-C stops it). Send traffic as \(client.namespace)/\(client.name):
              curl --interface \(client.ip) --socks5 \(node.ip):\(socks) http://\(target.ip):\(target.port)/
            Inspect:
              curl http://\(node.ip):\(admin)/config_dump
              curl http://\(node.ip):\(stats)/stats/prometheus
              curl http://127.0.0.1:\(http)/debug/syncz
            Change policy by editing files in \(configDirectory.path) (logs in \(logDirectory.path)).
            """
    }
}
