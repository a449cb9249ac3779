import MeshProto
import SwiftProtobuf

/// Builds `Node` values the way Istio's proxies send them.
public enum IstioNode {
    /// A node as an Istio proxy identifies itself.
    ///
    /// `id` is `<type>~<ip>~<pod>.<namespace>~<namespace>.svc.<domain>` and the metadata carries
    /// `NAME`, `NAMESPACE`, `INSTANCE_IPS`, `NODE_NAME`, `CLUSTER_ID`, `ISTIO_VERSION` and any
    /// extra keys (e.g. parsed `ISTIO_METAJSON_*`).
    ///
    /// - Parameters:
    ///   - type: `sidecar`, `router`, `ztunnel` or `waypoint`.
    ///   - ip: the proxy's (first) IP.
    ///   - podName: the pod name.
    ///   - namespace: the pod namespace.
    ///   - domain: the cluster domain.
    ///   - nodeName: the Kubernetes node the pod runs on.
    ///   - clusterID: the Istio cluster id.
    ///   - extraMetadata: more string metadata.
    public static func make(
        type: String, ip: String, podName: String, namespace: String,
        domain: String = "cluster.local", nodeName: String = "", clusterID: String = "Kubernetes",
        extraMetadata: [String: String] = [:]
    ) -> Envoy_Config_Core_V3_Node {
        var node = Envoy_Config_Core_V3_Node()
        node.id = "\(type)~\(ip)~\(podName).\(namespace)~\(namespace).svc.\(domain)"
        node.cluster = "\(podName).\(namespace)"
        node.userAgentName = "swiftmesh"
        node.userAgentVersion = "0.1"
        var fields: [String: String] = [
            "NAME": podName, "NAMESPACE": namespace, "INSTANCE_IPS": ip, "NODE_NAME": nodeName,
            "CLUSTER_ID": clusterID, "ISTIO_VERSION": "1.28.0",
        ]
        for (key, value) in extraMetadata { fields[key] = value }
        var metadata = Google_Protobuf_Struct()
        for (key, value) in fields {
            var v = Google_Protobuf_Value()
            v.stringValue = value
            metadata.fields[key] = v
        }
        node.metadata = metadata
        node.clientFeatures = ["envoy.lb.does_not_support_overprovisioning"]
        return node
    }

    /// Splits an Istio node id into its four parts, or nil if it does not have them.
    public static func parse(id: String) -> (type: String, ip: String, podDotNamespace: String, domain: String)? {
        let parts = id.split(separator: "~", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4 else { return nil }
        return (parts[0], parts[1], parts[2], parts[3])
    }
}
