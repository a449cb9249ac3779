import Foundation
import Testing

/// `meshctl validate` as a user runs it: output lines, JSON and exit codes.
@Suite struct MeshctlValidateTests {
    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("meshctl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func demoManifestsAreValidInStrictMode() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let demo = BinaryRunner.packageRoot.appendingPathComponent("Examples/demo").path
        let output = try BinaryRunner.run("meshctl", ["validate", "-f", demo, "--strict"])
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(output.stdout.isEmpty, "\(output.stdout)")
        #expect(output.stderr.contains("0 error(s)"))
    }

    @Test func errorsPrintOnePerLineAndExitOne() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try write("bad.yaml", """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: Bad_Name
              extra: 1
            ---
            apiVersion: v1
            kind: ServiceAccount
            metadata: {name: ok}
            """)
        let output = try BinaryRunner.run("meshctl", ["validate", "-f", path])
        #expect(output.status == 1)
        let lines = output.stdout.split(separator: "\n")
        #expect(lines.count == 2, "\(output.stdout)")
        #expect(lines.contains { $0.hasPrefix("\(path):4:") && $0.contains("document 1: metadata.name: error:") })
        #expect(lines.contains { $0.hasPrefix("\(path):5:") && $0.contains("metadata.extra: warning: unknown field") })
    }

    @Test func jsonOutput() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try write("bad.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  nmae: b\n")
        let output = try BinaryRunner.run("meshctl", ["validate", "-f", path, "--strict", "--output", "json"])
        #expect(output.status == 1)
        let items = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [[String: Any]]
        #expect(items?.count == 1)
        let item = items?.first ?? [:]
        #expect(item["file"] as? String == path)
        #expect(item["document"] as? Int == 1)
        #expect(item["line"] as? Int == 5)
        #expect(item["path"] as? String == "metadata.nmae")
        #expect(item["severity"] as? String == "error")
        #expect((item["message"] as? String)?.contains("unknown field") == true)
    }

    @Test func unreadablePathExitsTwo() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = try BinaryRunner.run("meshctl", ["validate", "-f", dir.appendingPathComponent("nope").path])
        #expect(output.status == 2)
        #expect(output.stderr.contains("no such file or directory"))
    }

    @Test func validFileExitsZero() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try write("ok.json", "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"ok\"}}")
        let output = try BinaryRunner.run("meshctl", ["validate", "-f", path, "--strict"])
        #expect(output.status == 0, "\(output.stdout)")
    }
}
