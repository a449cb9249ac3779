import Foundation
import MeshAPI
import MeshProto
import SwiftProtobuf
import Testing

@testable import MeshXDS

/// Golden tests of the AuthorizationPolicy / PeerAuthentication → `istio.security.Authorization`
/// translation. Each `Golden/ambient-authorization/NN-*.yaml` holds the input policies; the
/// `.golden` file beside it the expected output (protobuf text format, warnings, and for
/// PeerAuthentications the keys a workload `shop` / `app=web` lists). Run with
/// `MESH_UPDATE_GOLDEN=1` to rewrite them, then review the diff.
@Suite("Ambient authorization golden files")
struct AmbientAuthorizationGoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Golden/ambient-authorization")
    static let rootNamespace = "istio-system"

    static var cases: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    @Test func thereAreAtLeast25Cases() {
        #expect(Self.cases.count >= 25)
    }

    @Test(arguments: cases)
    func golden(_ name: String) throws {
        let input = Self.directory.appendingPathComponent("\(name).yaml")
        let result = try ManifestLoader().load(path: input.path)
        #expect(result.errors.isEmpty, "\(result.errors)")
        let rendered = Self.render(result.resources.map(\.resource))
        let goldenURL = Self.directory.appendingPathComponent("\(name).golden")
        if ProcessInfo.processInfo.environment["MESH_UPDATE_GOLDEN"] == "1" {
            try rendered.write(to: goldenURL, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: goldenURL, encoding: .utf8)
        #expect(rendered == expected, "\(name): output differs from \(goldenURL.lastPathComponent)")
    }

    static func render(_ resources: [AnyResource]) -> String {
        var out = ""
        var peerAuthentications: [PeerAuthentication] = []
        for resource in resources {
            switch resource {
            case .authorizationPolicy(let policy):
                let conversion = AmbientAuthorization.convert(policy, rootNamespace: rootNamespace)
                out += "# AuthorizationPolicy \(policy.metadata.namespace ?? "")/\(policy.metadata.name ?? "")\n"
                if let warning = conversion.warning { out += "warning: \(warning)\n" }
                if let authorization = conversion.authorization {
                    out += "authorization {\n\(indent(authorization.textFormatString()))}\n"
                } else {
                    out += "not sent to ztunnel\n"
                }
            case .peerAuthentication(let policy):
                peerAuthentications.append(policy)
            default:
                continue
            }
        }
        if !peerAuthentications.isEmpty {
            // The PeerAuthentications that apply to workload shop/web (labels app=web).
            let applicable = peerAuthentications.filter { p in
                let labels = p.spec?.selector?.matchLabels ?? [:]
                let namespaceMatches = p.metadata.namespace == "shop" || (p.metadata.namespace == rootNamespace)
                return namespaceMatches && labels.allSatisfy { ["app": "web"][$0.key] == $0.value }
            }
            let keys = AmbientAuthorization.effectivePeerAuthenticationKeys(rootNamespace: rootNamespace, applicable: applicable)
            out += "# workload shop/web authorization_policies: \(keys)\n"
            for authorization in AmbientAuthorization.convertedPeerAuthentications(
                rootNamespace: rootNamespace, policies: peerAuthentications)
            {
                out += "authorization {\n\(indent(authorization.textFormatString()))}\n"
            }
        }
        return out
    }

    private static func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  \($0)" }
            .joined(separator: "\n")
    }
}
