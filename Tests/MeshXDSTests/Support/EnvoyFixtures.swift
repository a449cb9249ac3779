import Foundation
import MeshProto
import SwiftProtobuf
@testable import MeshXDS

/// Envoy resources for the tests, built with the generated types.
enum Fixtures {
    static func adsSource() -> Envoy_Config_Core_V3_ConfigSource {
        var source = Envoy_Config_Core_V3_ConfigSource()
        source.ads = Envoy_Config_Core_V3_AggregatedConfigSource()
        source.resourceApiVersion = .v3
        return source
    }

    static func socketAddress(_ host: String, _ port: Int) -> Envoy_Config_Core_V3_Address {
        var address = Envoy_Config_Core_V3_Address()
        var socket = Envoy_Config_Core_V3_SocketAddress()
        socket.address = host
        socket.portValue = UInt32(port)
        address.socketAddress = socket
        return address
    }

    static func any(_ message: some SwiftProtobuf.Message) -> Google_Protobuf_Any {
        try! Google_Protobuf_Any(message: message)
    }

    /// An HTTP listener whose routes come from RDS `routeName`.
    static func httpListener(name: String, host: String = "127.0.0.1", port: Int = 0, routeName: String, tls: Envoy_Config_Core_V3_TransportSocket? = nil) -> Envoy_Config_Listener_V3_Listener {
        var hcm = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager()
        hcm.statPrefix = name
        var rds = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_Rds()
        rds.configSource = adsSource()
        rds.routeConfigName = routeName
        hcm.rds = rds
        var router = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
        router.name = "envoy.filters.http.router"
        router.typedConfig = any(Envoy_Extensions_Filters_Http_Router_V3_Router())
        hcm.httpFilters = [router]
        var filter = Envoy_Config_Listener_V3_Filter()
        filter.name = "envoy.filters.network.http_connection_manager"
        filter.typedConfig = any(hcm)
        var chain = Envoy_Config_Listener_V3_FilterChain()
        chain.filters = [filter]
        if let tls { chain.transportSocket = tls }
        var listener = Envoy_Config_Listener_V3_Listener()
        listener.name = name
        listener.address = socketAddress(host, port)
        listener.filterChains = [chain]
        return listener
    }

    static func route(name: String, cluster: String) -> Envoy_Config_Route_V3_RouteConfiguration {
        var action = Envoy_Config_Route_V3_RouteAction()
        action.cluster = cluster
        var match = Envoy_Config_Route_V3_RouteMatch()
        match.prefix = "/"
        var route = Envoy_Config_Route_V3_Route()
        route.match = match
        route.route = action
        var host = Envoy_Config_Route_V3_VirtualHost()
        host.name = "all"
        host.domains = ["*"]
        host.routes = [route]
        var config = Envoy_Config_Route_V3_RouteConfiguration()
        config.name = name
        config.virtualHosts = [host]
        return config
    }

    static func edsCluster(name: String) -> Envoy_Config_Cluster_V3_Cluster {
        var cluster = Envoy_Config_Cluster_V3_Cluster()
        cluster.name = name
        cluster.type = .eds
        var eds = Envoy_Config_Cluster_V3_Cluster.EdsClusterConfig()
        eds.edsConfig = adsSource()
        cluster.edsClusterConfig = eds
        var timeout = Google_Protobuf_Duration()
        timeout.seconds = 1
        cluster.connectTimeout = timeout
        return cluster
    }

    static func endpoints(cluster: String, ports: [Int], host: String = "127.0.0.1") -> Envoy_Config_Endpoint_V3_ClusterLoadAssignment {
        var locality = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
        locality.lbEndpoints = ports.map { port in
            var endpoint = Envoy_Config_Endpoint_V3_Endpoint()
            endpoint.address = socketAddress(host, port)
            var lb = Envoy_Config_Endpoint_V3_LbEndpoint()
            lb.endpoint = endpoint
            return lb
        }
        var assignment = Envoy_Config_Endpoint_V3_ClusterLoadAssignment()
        assignment.clusterName = cluster
        assignment.endpoints = [locality]
        return assignment
    }

    static func resource(_ name: String, _ message: some SwiftProtobuf.Message) -> XDSResource {
        try! XDSResource(name: name, message: message)
    }
}
