/// Well-known xDS type URLs and the order in which an ADS server pushes them.
///
/// The server is not limited to these: any type URL (for example Istio's
/// `type.googleapis.com/istio.workload.Address`) can be served from a cache.
public enum TypeURL {
    /// The prefix every type URL carries.
    public static let prefix = "type.googleapis.com/"
    /// LDS.
    public static let listener = "type.googleapis.com/envoy.config.listener.v3.Listener"
    /// RDS.
    public static let route = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
    /// SRDS.
    public static let scopedRoute = "type.googleapis.com/envoy.config.route.v3.ScopedRouteConfiguration"
    /// VHDS.
    public static let virtualHost = "type.googleapis.com/envoy.config.route.v3.VirtualHost"
    /// CDS.
    public static let cluster = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
    /// EDS.
    public static let endpoint = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
    /// LEDS.
    public static let lbEndpoint = "type.googleapis.com/envoy.config.endpoint.v3.LbEndpoint"
    /// SDS.
    public static let secret = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"
    /// RTDS.
    public static let runtime = "type.googleapis.com/envoy.service.runtime.v3.Runtime"
    /// ECDS.
    public static let extensionConfig = "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig"
    /// Istio WDS addresses (workloads and services), as ztunnel subscribes to them.
    public static let workloadAddress = "type.googleapis.com/istio.workload.Address"
    /// Istio L4 authorization policies, as ztunnel subscribes to them.
    public static let authorization = "type.googleapis.com/istio.security.Authorization"

    /// Make-before-break push order (CDS, EDS, LDS, RDS, …); unknown types come last.
    public static let pushOrder: [String] = [
        cluster, endpoint, lbEndpoint, listener, route, scopedRoute, virtualHost, secret, runtime, extensionConfig,
    ]

    /// Rank of `typeURL` in ``pushOrder`` (unknown types rank after every known one).
    public static func rank(_ typeURL: String) -> Int {
        pushOrder.firstIndex(of: typeURL) ?? pushOrder.count
    }

    /// Whether SotW responses of this type must carry the full state (LDS and CDS), so that a
    /// resource missing from a response means it was removed.
    public static func requiresFullStateInSotW(_ typeURL: String) -> Bool {
        typeURL == listener || typeURL == cluster
    }
}
