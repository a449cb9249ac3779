import Crypto
import Foundation
import MeshCA
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A network namespace made (and always deleted) by a test.
final class NetworkNamespace {
    static let ipTool = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/ip"
    static var iptables: String? {
        ["/usr/sbin/iptables", "/sbin/iptables", "/usr/bin/iptables"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    let name: String

    init(_ name: String) throws {
        self.name = name
        try Self.run(Self.ipTool, ["netns", "add", name])
        try exec([Self.ipTool, "link", "set", "lo", "up"])
    }

    deinit { _ = try? Self.run(Self.ipTool, ["netns", "del", name]) }

    /// Runs a command inside the namespace; throws with its output when it fails.
    @discardableResult
    func exec(_ command: [String]) throws -> String {
        try Self.run(Self.ipTool, ["netns", "exec", name] + command)
    }

    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandFailed(command: ([tool] + arguments).joined(separator: " "), output: output)
        }
        return output
    }

    struct CommandFailed: Error, CustomStringConvertible {
        var command: String
        var output: String
        var description: String { "\(command) failed: \(output)" }
    }
}

private let isRoot = getuid() == 0

/// Transparent capture as in a cluster: two network namespaces joined by a veth pair, one per
/// node; iptables REDIRECT sends the client's connection to the service VIP into ztunnel's
/// 15001 and plaintext connections to the server pod into 15006. An unmodified curl reaches the
/// server through both ztunnels with mTLS; a plaintext call past ztunnel is refused (STRICT).
@Suite(.serialized) struct TransparentModeTests {
    @Test(.enabled(if: isRoot, "needs root for network namespaces and iptables"))
    func curlReachesTheServerThroughTwoZtunnelsAndPlaintextIsRefused() async throws {
        let iptables = try #require(NetworkNamespace.iptables, "iptables is not installed (scripts/test installs it)")
        let net = Int.random(in: 20...250)
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let (ipA, ipB, vip) = ("10.\(net).0.1", "10.\(net).0.2", "10.\(net).10.1")
        let nsA = try NetworkNamespace("swm-a-\(tag)")
        let nsB = try NetworkNamespace("swm-b-\(tag)")
        try NetworkNamespace.run(NetworkNamespace.ipTool, ["link", "add", "swa\(tag)", "netns", nsA.name, "type", "veth", "peer", "name", "swb\(tag)", "netns", nsB.name])
        try nsA.exec([NetworkNamespace.ipTool, "addr", "add", "\(ipA)/24", "dev", "swa\(tag)"])
        try nsB.exec([NetworkNamespace.ipTool, "addr", "add", "\(ipB)/24", "dev", "swb\(tag)"])
        try nsA.exec([NetworkNamespace.ipTool, "link", "set", "swa\(tag)", "up"])
        try nsB.exec([NetworkNamespace.ipTool, "link", "set", "swb\(tag)", "up"])
        try nsA.exec([NetworkNamespace.ipTool, "route", "add", "10.\(net).10.0/24", "dev", "swa\(tag)"])
        // Node A: the client's connections to the service VIP go to ztunnel's outbound capture.
        try nsA.exec([iptables, "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", vip, "-j", "REDIRECT", "--to-ports", "15001"])
        // Node B: plaintext arriving for the server pod goes to ztunnel's plaintext inbound.
        try nsB.exec([iptables, "-t", "nat", "-A", "PREROUTING", "-p", "tcp", "-d", ipB, "--dport", "8080", "-j", "REDIRECT", "--to-ports", "15006"])

        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("transparent-\(UUID().uuidString)")
        let config = scratch.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        try """
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
            spec: {clusterIP: \(vip), selector: {app: echo}, ports: [{name: http, port: 80, targetPort: 8080}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: client-0, namespace: demo, labels: {app: client}}
            spec: {serviceAccountName: client, nodeName: node-a, containers: [{name: c, image: curl}]}
            status: {phase: Running, hostIP: \(ipA), podIP: \(ipA), conditions: [{type: Ready, status: "True"}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: echo-0
              namespace: demo
              labels: {app: echo}
              annotations: {ambient.swiftmesh.dev/application-tunnel: PROXY}
            spec: {serviceAccountName: echo, nodeName: node-b, containers: [{name: e, image: echo, ports: [{containerPort: 8080}]}]}
            status: {phase: Running, hostIP: \(ipB), podIP: \(ipB), conditions: [{type: Ready, status: "True"}]}
            """.write(to: config.appendingPathComponent("mesh.yaml"), atomically: true, encoding: .utf8)
        let key = P256.Signing.PrivateKey()
        let jwks = scratch.appendingPathComponent("jwks.json")
        try JSONWebKeySet(keys: [.es256(key.publicKey)]).json().write(to: jwks)

        var processes: [MeshProcess] = []
        defer { for p in processes { p.stop() } }
        let istiod = try MeshProcess(
            "istiod",
            arguments: [
                "--host", ipA, "--config-dir", config.path, "--ca-dir", scratch.appendingPathComponent("ca").path,
                "--token-keys", jwks.path, "--grpc-port", "0", "--grpc-tls-port", "0", "--http-port", "0",
            ], scratch: scratch, portsFile: scratch.appendingPathComponent("istiod.json"), expectPorts: 3, netns: nsA.name)
        processes.append(istiod)
        var readiness: [(NetworkNamespace, String, Int)] = []
        for (node, ns, ip) in [("node-a", nsA, ipA), ("node-b", nsB, ipB)] {
            let token = scratch.appendingPathComponent("\(node).jwt")
            try JWTSigner.es256(key).sign(.serviceAccountToken(
                issuer: "https://kubernetes.default.svc.cluster.local", namespace: "istio-system", serviceAccount: "ztunnel",
                nodeName: node)
            ).write(to: token, atomically: true, encoding: .utf8)
            let z = try MeshProcess(
                "ztunnel", name: "ztunnel-\(node)",
                arguments: [
                    "--node-name", node, "--node-ip", ip, "--capture-host", "0.0.0.0",
                    "--xds-address", "\(ipA):\(istiod.ports["grpc"]!)", "--ca-address", "\(ipA):\(istiod.ports["grpc-tls"]!)",
                    "--ca-root", scratch.appendingPathComponent("ca/root-cert.pem").path, "--token", token.path,
                    "--socks5-port", "0", "--admin-port", "0", "--stats-port", "0", "--readiness-port", "0",
                ], scratch: scratch, portsFile: scratch.appendingPathComponent("\(node).json"), expectPorts: 6, netns: ns.name)
            processes.append(z)
            readiness.append((ns, ip, z.ports["readiness"]!))
        }
        processes.append(try MeshProcess("echo", arguments: ["--listen", "\(ipB):8080", "--name", "echo-0"], scratch: scratch, netns: nsB.name))
        func logs() -> String { processes.map { "---- \($0.name)\n\($0.log.split(separator: "\n").suffix(25).joined(separator: "\n"))" }.joined(separator: "\n") }

        let ready = await eventuallyTrue(timeout: .seconds(60)) {
            readiness.allSatisfy { ns, ip, port in
                (try? ns.exec(["curl", "-sS", "--max-time", "2", "http://\(ip):\(port)/healthz/ready"])) == "ready\n"
            }
        }
        try #require(ready, "ztunnels not ready\n\(logs())")

        // curl, unmodified, to the service VIP: captured by iptables, tunnelled with mTLS.
        let body = try nsA.exec(["curl", "-sS", "--max-time", "10", "http://\(vip)/hello"])
        let reply = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        #expect(reply?["app"] as? String == "echo-0", "\(body)\n\(logs())")
        #expect(reply?["peerIdentity"] as? String == "spiffe://cluster.local/ns/demo/sa/client")

        // Plaintext straight to the pod (past ztunnel on node A) is refused by STRICT mTLS on node B.
        #expect(throws: NetworkNamespace.CommandFailed.self) {
            try nsA.exec(["curl", "-sS", "--max-time", "5", "http://\(ipB):8080/hello"])
        }
        #expect(processes.last!.process.isRunning)
    }
}
