import Foundation

/// One call of the demo and how it went.
struct DemoCall {
    enum Decision: String {
        case allow = "ALLOW"
        case deny = "DENY"
        case failed = "FAILED"
    }

    var client: DemoTopology.PodInfo
    var target: DemoTopology.Target
    var outcome: MeshHTTPClient.Outcome
    var latency: Duration
    /// The caller identity the server side reported (what the mesh told the app).
    var callerIdentity: String?
    /// The identity of the pod that answered.
    var serverIdentity: String?
    var serverPod: String?
    var mutualTLS: Bool

    init(client: DemoTopology.PodInfo, target: DemoTopology.Target, outcome: MeshHTTPClient.Outcome, latency: Duration, topology: DemoTopology) {
        self.client = client
        self.target = target
        self.outcome = outcome
        self.latency = latency
        callerIdentity = nil
        serverIdentity = nil
        serverPod = nil
        mutualTLS = false
        if case .response(200, let body) = outcome,
            let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        {
            callerIdentity = object["peerIdentity"] as? String
            serverPod = object["app"] as? String
            serverIdentity = serverPod.flatMap(topology.app(named:))?.spiffeID
            mutualTLS = callerIdentity != nil
        }
    }

    var decision: Decision {
        switch outcome {
        case .response(200, _): .allow
        case .refused(2): .deny
        default: .failed
        }
    }

    var detail: String {
        switch outcome {
        case .response(let status, _) where status != 200: "HTTP \(status)"
        case .refused(let reply): reply == 2 ? "refused by ztunnel: connection not allowed by policy" : "SOCKS5 reply \(reply)"
        case .failed(let reason): reason
        default: ""
        }
    }

    static func table(_ calls: [DemoCall]) -> String {
        let header = ["source", "destination", "caller identity (as the server saw it)", "server identity", "mTLS", "decision", "latency"]
        var rows = [header]
        for call in calls {
            let ms = Double(call.latency.components.attoseconds) / 1e15 + Double(call.latency.components.seconds) * 1000
            rows.append([
                "\(call.client.namespace)/\(call.client.name)",
                "\(call.target.label) (\(call.target.ip):\(call.target.port))" + (call.serverPod.map { " → \($0)" } ?? ""),
                call.callerIdentity ?? "-",
                call.serverIdentity ?? "-",
                call.decision == .allow ? (call.mutualTLS ? "yes" : "no") : "-",
                call.decision.rawValue,
                String(format: "%.1f ms", ms),
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines = rows.map { row in
            "   " + row.enumerated().map { index, cell in cell.padding(toLength: widths[index], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        lines.insert("   " + widths.map { String(repeating: "─", count: $0) }.joined(separator: "  "), at: 1)
        for call in calls where !call.detail.isEmpty && call.decision != .allow {
            lines.append("   \(call.client.name) → \(call.target.label): \(call.detail)")
        }
        return lines.joined(separator: "\n")
    }
}
