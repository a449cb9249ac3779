import MeshProto
import MeshXDS
import SwiftProtobuf

/// The Envoy resources the xDS benchmark pushes: EDS clusters, their endpoints and HTTP
/// listeners using RDS, all over ADS.
public enum XDSFixtures {
    static var ads: Envoy_Config_Core_V3_ConfigSource {
        var source = Envoy_Config_Core_V3_ConfigSource()
        source.ads = Envoy_Config_Core_V3_AggregatedConfigSource()
        source.resourceApiVersion = .v3
        return source
    }

    static func address(_ host: String, _ port: Int) -> Envoy_Config_Core_V3_Address {
        var socket = Envoy_Config_Core_V3_SocketAddress()
        socket.address = host
        socket.portValue = UInt32(port)
        var address = Envoy_Config_Core_V3_Address()
        address.socketAddress = socket
        return address
    }

    /// An EDS cluster named `name`; `generation` changes its bytes (connect timeout in ms).
    public static func cluster(_ name: String, generation: Int = 0) throws -> XDSResource {
        var cluster = Envoy_Config_Cluster_V3_Cluster()
        cluster.name = name
        cluster.type = .eds
        var eds = Envoy_Config_Cluster_V3_Cluster.EdsClusterConfig()
        eds.edsConfig = ads
        cluster.edsClusterConfig = eds
        var timeout = Google_Protobuf_Duration()
        timeout.seconds = 1
        timeout.nanos = Int32(generation % 1000) * 1_000_000
        cluster.connectTimeout = timeout
        return try XDSResource(name: name, message: cluster)
    }

    /// The endpoints of cluster `name`: one locality with an endpoint per port.
    public static func endpoints(_ name: String, ports: [Int], host: String = "10.1.0.1") throws -> XDSResource {
        var locality = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
        locality.lbEndpoints = ports.map { port in
            var endpoint = Envoy_Config_Endpoint_V3_Endpoint()
            endpoint.address = address(host, port)
            var lb = Envoy_Config_Endpoint_V3_LbEndpoint()
            lb.endpoint = endpoint
            return lb
        }
        var assignment = Envoy_Config_Endpoint_V3_ClusterLoadAssignment()
        assignment.clusterName = name
        assignment.endpoints = [locality]
        return try XDSResource(name: name, message: assignment)
    }

    /// An HTTP listener on `port` whose routes come from RDS `route`.
    public static func listener(_ name: String, port: Int, route: String) throws -> XDSResource {
        var rds = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_Rds()
        rds.configSource = ads
        rds.routeConfigName = route
        var router = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
        router.name = "envoy.filters.http.router"
        router.typedConfig = try Google_Protobuf_Any(message: Envoy_Extensions_Filters_Http_Router_V3_Router())
        var hcm = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager()
        hcm.statPrefix = name
        hcm.rds = rds
        hcm.httpFilters = [router]
        var filter = Envoy_Config_Listener_V3_Filter()
        filter.name = "envoy.filters.network.http_connection_manager"
        filter.typedConfig = try Google_Protobuf_Any(message: hcm)
        var chain = Envoy_Config_Listener_V3_FilterChain()
        chain.filters = [filter]
        var listener = Envoy_Config_Listener_V3_Listener()
        listener.name = name
        listener.address = address("0.0.0.0", port)
        listener.filterChains = [chain]
        return try XDSResource(name: name, message: listener)
    }
}
