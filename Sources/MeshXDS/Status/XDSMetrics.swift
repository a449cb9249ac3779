import Metrics
import Synchronization

/// swift-metrics instruments named after istiod's (`pilot_xds`, `pilot_xds_pushes`, …).
///
/// Instruments are made once per type URL and reused: making one asks the metrics factory,
/// which a push to many clients would otherwise do for every response.
final class XDSMetrics: Sendable {
    struct PerType {
        /// Responses pushed (Istio: `pilot_xds_pushes`).
        let pushes: Counter
        /// NACKs received (Istio: `pilot_total_xds_rejects`).
        let rejects: Counter
        /// Time from a change (or request) to the response being written (Istio: `pilot_xds_push_time`).
        let pushTime: Metrics.Timer
    }

    /// Connected xDS clients (Istio: `pilot_xds`).
    let connected = Gauge(label: "pilot_xds")
    private let byType = Mutex<[String: PerType]>([:])

    /// The instruments of `typeURL`, made on first use (sessions keep them: see
    /// `StreamSession.instruments(of:)`).
    func instruments(_ typeURL: String) -> PerType {
        byType.withLock { byType in
            if let made = byType[typeURL] { return made }
            let dimensions = [("type", Self.short(typeURL))]
            let made = PerType(
                pushes: Counter(label: "pilot_xds_pushes", dimensions: dimensions),
                rejects: Counter(label: "pilot_total_xds_rejects", dimensions: dimensions),
                pushTime: Metrics.Timer(label: "pilot_xds_push_time", dimensions: dimensions))
            byType[typeURL] = made
            return made
        }
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
