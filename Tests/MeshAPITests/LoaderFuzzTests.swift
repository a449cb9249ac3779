import Foundation
import Testing
@testable import MeshAPI

/// Random, truncated and mutated input must give diagnostics, never a crash or a hang.
@Suite struct LoaderFuzzTests {
    /// A small deterministic generator so a failure can be replayed from its seed.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let seed = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: reviews
          namespace: bookinfo
        spec:
          hosts: [reviews]
          http:
          - match:
            - headers:
                end-user: {exact: jason}
            route:
            - destination: {host: reviews, subset: v2}
              weight: 90
            - destination: {host: reviews, subset: v3}
              weight: 10
            timeout: 0.5s
            fault:
              abort: {percentage: {value: 10}, httpStatus: 503}
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: deny-all, namespace: bookinfo}
        spec:
          action: DENY
          rules:
          - from:
            - source: {principals: ["cluster.local/ns/default/sa/sleep"], ipBlocks: ["10.0.0.0/8"]}
            to:
            - operation: {methods: [GET], paths: ["/api/*"], ports: ["8080"]}
            when:
            - key: request.auth.claims[iss]
              values: ["https://accounts.example.com"]
        ---
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ratings"}, "spec": {"ports": [{"port": 9080, "name": "http"}], "selector": {"app": "ratings"}}}
        """

    @Test func everyTruncationOfARealManifest() {
        let loader = ManifestLoader(options: .init(strict: true))
        let scalars = Array(Self.seed.unicodeScalars)
        var loaded = 0
        for cut in stride(from: 0, through: scalars.count, by: 3) {
            var text = String.UnicodeScalarView()
            text.append(contentsOf: scalars[0..<cut])
            let result = loader.load(text: String(text), file: "cut.yaml")
            loaded += result.resources.count
            for d in result.diagnostics { #expect(d.document >= 1 && d.line >= 0) }
        }
        #expect(loaded > 0)
    }

    @Test func randomBytesAndMutations() {
        var rng = SplitMix64(state: 0x5EED)
        let loader = ManifestLoader(options: .init(strict: true))
        let alphabet = Array("abc:-[]{}&*!|>'\"#%@` \n\n\t  0123456789.,?/\\\u{0}\u{FEFF}é".unicodeScalars)
        let seedScalars = Array(Self.seed.unicodeScalars)
        for round in 0..<1_500 {
            var scalars: [Unicode.Scalar]
            if round % 2 == 0 {
                let length = Int.random(in: 0..<400, using: &rng)
                scalars = (0..<length).map { _ in alphabet.randomElement(using: &rng)! }
            } else {
                scalars = seedScalars
                for _ in 0..<Int.random(in: 1...8, using: &rng) {
                    let at = Int.random(in: 0..<scalars.count, using: &rng)
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: scalars[at] = alphabet.randomElement(using: &rng)!
                    case 1: scalars.remove(at: at)
                    default: scalars.insert(alphabet.randomElement(using: &rng)!, at: at)
                    }
                }
            }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            _ = loader.load(text: String(view), file: "fuzz-\(round).yaml")
        }
    }

    @Test func randomBinaryFilesFromDisk() throws {
        var rng = SplitMix64(state: 42)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("meshfuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for i in 0..<50 {
            let bytes = (0..<Int.random(in: 0..<2048, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            try Data(bytes).write(to: dir.appendingPathComponent("f\(i).yaml"))
        }
        let result = try ManifestLoader().load(path: dir.path)
        #expect(result.hasErrors)
        #expect(result.diagnostics.allSatisfy { $0.file.hasPrefix(dir.path) })
    }
}
