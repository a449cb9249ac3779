import Foundation
import Testing
@testable import MeshAPI

/// The loader itself: documents, Lists, JSON, positions, unknown fields, raw kinds.
@Suite struct LoaderTests {
    let loader = ManifestLoader()

    @Test func multiDocumentYAMLKeepsFileLines() {
        let text = """
            # a comment before the first document
            apiVersion: v1
            kind: Namespace
            metadata:
              name: bookinfo
            ---
            apiVersion: v1
            kind: ServiceAccount
            metadata:
              name: reviews
              namespace: bookinfo
            ---
            ---
            apiVersion: example.com/v1
            kind: Widget
            metadata:
              name: w
            spec:
              size: 3
            """
        let result = loader.load(text: text, file: "bookinfo.yaml")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(result.resources.map(\.document) == [1, 2, 3])
        #expect(result.resources.map(\.resource.kind) == ["Namespace", "ServiceAccount", "Widget"])
        #expect(result.resources.map(\.line) == [2, 7, 14])
        guard case .raw(let raw) = result.resources[2].resource else {
            Issue.record("Widget should stay raw")
            return
        }
        #expect(raw.apiVersion == "example.com/v1")
        #expect(raw.metadata.name == "w")
        #expect(raw.body["spec"]?["size"] == .number(3))
    }

    @Test func syntaxErrorInOneDocumentKeepsTheOthers() {
        let text = """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: a
            ---
            apiVersion: v1
            kind: Namespace
            metadata:
              name: [b
            ---
            apiVersion: v1
            kind: Namespace
            metadata:
              name: c
            """
        let result = loader.load(text: text, file: "ns.yaml")
        #expect(result.resources.map { $0.resource.metadata.name } == ["a", "c"])
        #expect(result.errors.count == 1)
        let error = result.errors[0]
        #expect(error.document == 2)
        #expect(error.file == "ns.yaml")
        #expect(error.line == 10, "\(error)")
        #expect(error.column > 0)
        #expect(error.message.hasPrefix("invalid YAML"))
    }

    @Test func listKindLoadsItemsWithPaths() {
        let text = """
            apiVersion: v1
            kind: List
            items:
            - apiVersion: v1
              kind: ServiceAccount
              metadata:
                name: good
            - apiVersion: v1
              kind: ServiceAccount
              metadata:
                name: Bad_Name
            """
        let result = loader.load(text: text)
        #expect(result.resources.count == 1)
        #expect(result.errors.count == 1)
        #expect(result.errors.first?.path == "items[1].metadata.name")
        #expect(result.errors.first?.line == 11)
    }

    @Test func jsonDocument() {
        let text = """
            {
            \t"apiVersion": "v1",
            \t"kind": "ServiceAccount",
            \t"metadata": {"name": "ratings", "namespace": "bookinfo", "labels": {"app": "ratings"}}
            }
            """
        let result = loader.load(text: text, file: "sa.json")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let sa = result.resources.first?.resource.metadata
        #expect(sa?.name == "ratings")
        #expect(sa?.labels == ["app": "ratings"])
    }

    @Test func wrongTypeNamesPathAndLine() {
        let text = """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: a
              labels:
                app: [x]
            """
        let result = loader.load(text: text)
        #expect(result.resources.isEmpty)
        #expect(result.errors.map(\.path) == ["metadata.labels.app"])
        #expect(result.errors.first?.line == 6)
        #expect(result.errors.first?.message == "expected a string, found a list")
    }

    @Test func unknownFieldIsWarningOrStrictError() {
        let text = """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: a
              nmae: typo
            """
        let lenient = loader.load(text: text)
        #expect(lenient.resources.count == 1)
        #expect(lenient.warnings.map(\.path) == ["metadata.nmae"])
        #expect(lenient.warnings.first?.line == 5)
        let strict = ManifestLoader(options: .init(strict: true)).load(text: text)
        #expect(strict.resources.isEmpty)
        #expect(strict.errors.map(\.path) == ["metadata.nmae"])
        #expect(strict.errors.first?.message.contains("unknown field \"nmae\"") == true)
    }

    @Test func missingKindAndVersion() {
        let noKind = loader.load(text: "apiVersion: v1\nmetadata:\n  name: a\n")
        #expect(noKind.errors.map(\.path) == ["kind"])
        let noVersion = loader.load(text: "kind: Namespace\nmetadata:\n  name: a\n")
        #expect(noVersion.errors.map(\.path) == ["apiVersion"])
        let scalar = loader.load(text: "just a string\n")
        #expect(scalar.errors.first?.message.contains("must be a mapping") == true)
    }

    @Test func unservedVersionOfKnownKind() {
        let result = loader.load(text: """
            apiVersion: security.istio.io/v2
            kind: AuthorizationPolicy
            metadata:
              name: x
            """)
        #expect(result.errors.map(\.path) == ["apiVersion"])
        #expect(result.errors.first?.line == 1)
        #expect(result.errors.first?.message.contains("security.istio.io/v1") == true)
    }

    @Test func duplicateKeysAndAliasBombsAreErrors() {
        let duplicate = loader.load(text: "apiVersion: v1\nkind: Namespace\nkind: Namespace\nmetadata: {name: a}\n")
        #expect(duplicate.errors.first?.message.contains("duplicate key") == true, "\(duplicate.diagnostics)")
        #expect(duplicate.errors.first?.line == 3)
        var bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1..<9 { bomb += "a\(i): &a\(i) [*a\(i-1), *a\(i-1), *a\(i-1), *a\(i-1), *a\(i-1), *a\(i-1), *a\(i-1), *a\(i-1), *a\(i-1), *a\(i-1)]\n" }
        let result = loader.load(text: bomb)
        #expect(result.errors.first?.message.contains("aliases") == true)
    }

    @Test func deepNestingIsRefusedNotCrashed() {
        let deep = String(repeating: "[", count: 100_000)
        let result = loader.load(text: "a: " + deep)
        #expect(result.errors.first?.message.contains("nesting") == true)
        let dashes = String(repeating: "- ", count: 50_000) + "x"
        #expect(loader.load(text: dashes).hasErrors)
    }

    @Test func directoryIsReadRecursivelyInOrder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meshapi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n".write(
            to: dir.appendingPathComponent("sub/b.yml"), atomically: true, encoding: .utf8)
        try "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n".write(
            to: dir.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        try "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"c\"}}".write(
            to: dir.appendingPathComponent("sub/c.json"), atomically: true, encoding: .utf8)
        try "not: a manifest".write(to: dir.appendingPathComponent("README.txt"), atomically: true, encoding: .utf8)
        let result = try loader.load(path: dir.path)
        #expect(result.resources.map { $0.resource.metadata.name } == ["a", "b", "c"])
        #expect(result.resources.last?.file.hasSuffix("sub/c.json") == true)
        #expect(throws: ManifestReadError.self) { try loader.load(path: dir.appendingPathComponent("missing").path) }
    }

    @Test func fieldPathsPrintAndParse() {
        let path = FieldPath.root("spec")("http")[0]("route")[1]("weight")
        #expect(path.description == "spec.http[0].route[1].weight")
        #expect(FieldPath(stringLiteral: "spec.http[0].route[1].weight") == path)
        #expect(FieldPath(stringLiteral: "items[2]").description == "items[2]")
    }

    @Test func diagnosticsPrintFileLineDocumentPath() {
        let d = Diagnostic(file: "a.yaml", document: 2, line: 7, path: "spec.x", message: "bad", severity: .error)
        #expect(d.description == "a.yaml:7: document 2: spec.x: error: bad")
    }
}
