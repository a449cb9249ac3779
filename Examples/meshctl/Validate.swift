import ArgumentParser
import Foundation
import MeshAPI

/// `meshctl validate -f PATH…`: checks manifests as Istio's validation would.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate Istio, Gateway API and Kubernetes manifests.",
        discussion: """
            Prints every error and warning, one per line. Exits 0 when there are no errors, \
            1 when there are, 2 when a path cannot be read.
            """
    )

    enum Output: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(name: [.customShort("f"), .customLong("filename")], help: "A manifest file or directory (repeatable).")
    var paths: [String] = []

    @Flag(help: "Treat unknown fields as errors, as Istio's validation webhook does.")
    var strict = false

    @Option(name: [.customShort("o"), .long], help: "Output format: text or json.")
    var output: Output = .text

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give at least one -f PATH") }
    }

    func run() throws {
        let loader = ManifestLoader(options: .init(strict: strict))
        var diagnostics: [Diagnostic] = []
        var resources = 0
        var unreadable = false
        for path in paths {
            do {
                let result = try loader.load(path: path)
                diagnostics += result.diagnostics
                resources += result.resources.count
            } catch {
                unreadable = true
                FileHandle.standardError.write(Data("meshctl: \(error)\n".utf8))
            }
        }
        switch output {
        case .text:
            for diagnostic in diagnostics { print(diagnostic) }
            let errors = diagnostics.filter { $0.severity == .error }.count
            let warnings = diagnostics.count - errors
            FileHandle.standardError.write(Data(
                "\(resources) valid resource(s), \(errors) error(s), \(warnings) warning(s)\n".utf8))
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(diagnostics.map(JSONDiagnostic.init))
            print(String(decoding: data, as: UTF8.self))
        }
        if unreadable { throw ExitCode(2) }
        if diagnostics.contains(where: { $0.severity == .error }) { throw ExitCode(1) }
    }
}

/// The JSON shape of one finding: {file, document, line, path, message, severity}.
private struct JSONDiagnostic: Encodable {
    var file: String
    var document: Int
    var line: Int
    var path: String
    var message: String
    var severity: String

    init(_ d: Diagnostic) {
        file = d.file
        document = d.document
        line = d.line
        path = d.path
        message = d.message
        severity = d.severity.rawValue
    }
}
