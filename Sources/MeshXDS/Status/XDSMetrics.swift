import Metrics

/// swift-metrics instruments named after istiod's (`pilot_xds`, `pilot_xds_pushes`, …).
struct XDSMetrics: Sendable {
    /// Connected xDS clients (Istio: `pilot_xds`).
    let connected = Gauge(label: "pilot_xds")

    /// Responses pushed, by type (Istio: `pilot_xds_pushes`).
    func pushes(_ typeURL: String) -> Counter {
        Counter(label: "pilot_xds_pushes", dimensions: [("type", Self.short(typeURL))])
    }

    /// NACKs received, by type (Istio: `pilot_total_xds_rejects`).
    func rejects(_ typeURL: String) -> Counter {
        Counter(label: "pilot_total_xds_rejects", dimensions: [("type", Self.short(typeURL))])
    }

    /// Time from a change (or request) to the response being written (Istio: `pilot_xds_push_time`).
    func pushTime(_ typeURL: String) -> Metrics.Timer {
        Metrics.Timer(label: "pilot_xds_push_time", dimensions: [("type", Self.short(typeURL))])
    }

    /// Istio's short type names: cds, eds, lds, rds, sds, wds, …
    static func short(_ typeURL: String) -> String {
        switch typeURL {
        case TypeURL.cluster: return "cds"
        case TypeURL.endpoint: return "eds"
        case TypeURL.listener: return "lds"
        case TypeURL.route: return "rds"
        case TypeURL.secret: return "sds"
        case TypeURL.workloadAddress: return "wds"
        case TypeURL.authorization: return "wdsauthz"
        default: return typeURL.split(separator: "/").last.map(String.init) ?? typeURL
        }
    }
}
