import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MeshAPI
import MeshCA
import MeshProto
import MeshXDS
import Synchronization
import Testing
import X509

#if canImport(Glibc)
import Glibc
#endif

/// A running `istiod` binary on ephemeral ports, killed when the test ends.
final class IstiodProcess: Sendable {
    let process: Process
    let ports: [String: Int]
    let logURL: URL

    init(arguments: [String], scratch: URL) throws {
        let portsFile = scratch.appendingPathComponent("ports-\(UUID().uuidString).json")
        logURL = scratch.appendingPathComponent("istiod-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let process = Process()
        process.executableURL = BinaryRunner.productsDirectory.appendingPathComponent("istiod")
        process.arguments =
            arguments + ["--grpc-port", "0", "--grpc-tls-port", "0", "--http-port", "0", "--ports-file", portsFile.path]
        process.standardOutput = try FileHandle(forWritingTo: logURL)
        process.standardError = process.standardOutput
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(30)
        var ports: [String: Int]?
        while Date() < deadline, process.isRunning {
            if let data = FileManager.default.contents(atPath: portsFile.path),
                let parsed = try? JSONSerialization.jsonObject(with: data) as? [String: Int]
            {
                ports = parsed
                break
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        guard let ports else {
            kill(process.processIdentifier, SIGKILL)
            throw IstiodError(log: (try? String(contentsOf: logURL, encoding: .utf8)) ?? "")
        }
        self.ports = ports
    }

    struct IstiodError: Error, CustomStringConvertible {
        var log: String
        var description: String { "istiod did not start:\n\(log)" }
    }

    func stop() {
        // SIGKILL: a child of the test process can inherit a signal mask that blocks SIGTERM.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// GET on the monitoring port.
    func get(_ path: String) async throws -> (status: Int, body: String) {
        let url = URL(string: "http://127.0.0.1:\(ports["http"]!)\(path)")!
        let (data, response) = try await URLSession.shared.data(from: url)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}

private func eventually(timeout: Duration = .seconds(15), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

private let mesh = """
    apiVersion: v1
    kind: Namespace
    metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: shop}
    spec:
      clusterIP: 10.96.0.10
      selector: {app: web}
      ports: [{name: http, port: 80, targetPort: 8080}]
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: web-1, namespace: shop, labels: {app: web}}
    spec:
      serviceAccountName: web-sa
      nodeName: node-a
      containers: [{name: app, image: web}]
    status:
      podIP: 127.0.10.5
      hostIP: 127.0.0.2
      conditions: [{type: Ready, status: "True"}]
    """

private func pod(_ name: String, ip: String) -> String {
    """
    apiVersion: v1
    kind: Pod
    metadata: {name: \(name), namespace: shop, labels: {app: web}}
    spec:
      serviceAccountName: web-sa
      nodeName: node-a
      containers: [{name: app, image: web}]
    status:
      podIP: \(ip)
      hostIP: 127.0.0.2
      conditions: [{type: Ready, status: "True"}]
    """
}

@Suite(.serialized) struct IstiodTests {
    @Test func servesAmbientXDSTheCAAndDebugEndpoints() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("istiod-\(UUID().uuidString)")
        let config = scratch.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        try mesh.write(to: config.appendingPathComponent("mesh.yaml"), atomically: true, encoding: .utf8)

        // Service-account tokens are signed with a key whose public half istiod trusts.
        let tokenKey = P256.Signing.PrivateKey()
        let point = Array(tokenKey.publicKey.x963Representation)
        func b64url(_ bytes: ArraySlice<UInt8>) -> String {
            Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        let jwks = #"{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","x":"\#(b64url(point[1...32]))","y":"\#(b64url(point[33...64]))"}]}"#
        let jwksURL = scratch.appendingPathComponent("jwks.json")
        try jwks.write(to: jwksURL, atomically: true, encoding: .utf8)
        let caDir = scratch.appendingPathComponent("ca")

        let istiod = try IstiodProcess(
            arguments: ["--config-dir", config.path, "--ca-dir", caDir.path, "--token-keys", jwksURL.path], scratch: scratch)
        defer { istiod.stop() }

        #expect(await eventually { (try? await istiod.get("/ready"))?.status == 200 })

        // A ztunnel-like delta client gets the workload and the service.
        let node = IstioNode.make(type: "ztunnel", ip: "127.0.0.2", podName: "ztunnel-a", namespace: "istio-system")
        let client = XDSClient(configuration: XDSClientConfiguration(
            host: "127.0.0.1", port: istiod.ports["grpc"]!, node: node, mode: .delta))
        await client.subscribe(Istio_Workload_Address.self) { _, _ in }
        await client.subscribe(Istio_Security_Authorization.self) { _, _ in }
        let clientTask = Task { try await client.run() }
        defer { clientTask.cancel() }
        func names() async -> [String] { await client.resources(typeURL: TypeURL.workloadAddress).keys.sorted() }
        #expect(await eventually { await names() == ["Kubernetes//v1/Pod/shop/web-1", "shop/web.shop.svc.cluster.local"] })

        // Debug endpoints.
        #expect(await eventually { (try? await istiod.get("/debug/syncz"))?.body.contains(node.id) == true })
        let dump = try await istiod.get("/debug/config_dump?proxyID=\(node.id)")
        #expect(dump.status == 200)
        #expect(dump.body.contains("web.shop.svc.cluster.local"))
        #expect(try await istiod.get("/debug/config_dump?proxyID=nobody").status == 404)
        #expect(try await istiod.get("/debug/registryz").body.contains("\"serviceAccount\":\"web-sa\""))
        let metrics = try await istiod.get("/metrics")
        #expect(metrics.body.contains("pilot_xds"))
        #expect(metrics.body.contains("mesh_discovery_workloads"))

        // The CA on the TLS port: ztunnel's token, impersonating a workload on its node.
        let root = try Certificate(pemEncoded: try String(contentsOf: caDir.appendingPathComponent("root-cert.pem"), encoding: .utf8))
        let token = try JWTSigner.es256(tokenKey).sign(.serviceAccountToken(
            issuer: "https://kubernetes.default.svc.cluster.local", namespace: "istio-system", serviceAccount: "ztunnel",
            nodeName: "node-a"))
        let ca = IstioCAClient(configuration: .init(
            host: "127.0.0.1", port: istiod.ports["grpc-tls"]!, trustRoots: [root], credential: .bearerToken { token }))
        let web = try SpiffeID(parsing: "spiffe://cluster.local/ns/shop/sa/web-sa")
        let chain = try await ca.requestCertificate(
            csrPEM: try CSRBuilder.make(for: web).csrPEM, validity: .seconds(3600), impersonating: web)
        let leaf = try Certificate(pemEncoded: try #require(chain.first))
        #expect(try leaf.extensions.subjectAlternativeNames?.contains(.uniformResourceIdentifier(web.description)) == true)
        // Nobody with that service account runs on node-b.
        let otherNode = IstioCAClient(configuration: .init(
            host: "127.0.0.1", port: istiod.ports["grpc-tls"]!, trustRoots: [root],
            credential: .bearerToken {
                try JWTSigner.es256(tokenKey).sign(.serviceAccountToken(
                    issuer: "https://kubernetes.default.svc.cluster.local", namespace: "istio-system",
                    serviceAccount: "ztunnel", nodeName: "node-b"))
            }))
        await #expect(throws: (any Error).self) {
            _ = try await otherNode.requestCertificate(
                csrPEM: try CSRBuilder.make(for: web).csrPEM, validity: .seconds(3600), impersonating: web)
        }

        // A broken file keeps what proxies have; a new file is pushed.
        try "kind: Pod\nmetadata: [unclosed".write(to: config.appendingPathComponent("mesh.yaml"), atomically: true, encoding: .utf8)
        try pod("web-2", ip: "127.0.10.6").write(to: config.appendingPathComponent("more.yaml"), atomically: true, encoding: .utf8)
        #expect(await eventually { await names().contains("Kubernetes//v1/Pod/shop/web-2") })
        #expect(await names().contains("Kubernetes//v1/Pod/shop/web-1"))
        #expect(await names().contains("shop/web.shop.svc.cluster.local"))

        // A restart keeps the CA's root.
        clientTask.cancel()
        istiod.stop()
        let again = try IstiodProcess(arguments: ["--config-dir", config.path, "--ca-dir", caDir.path], scratch: scratch)
        defer { again.stop() }
        #expect(await eventually { (try? await again.get("/ready"))?.status == 200 })
        let rootAfter = try String(contentsOf: caDir.appendingPathComponent("root-cert.pem"), encoding: .utf8)
        #expect(try Certificate(pemEncoded: rootAfter) == root)
    }
}
