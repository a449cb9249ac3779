import MeshL4
import MeshProto

/// Istio's workload and service labels of `istio_tcp_*`, filled from what xDS says about the
/// two ends of a connection.
enum MetricLabeling {
    static func source(_ w: Istio_Workload_Workload, into labels: inout TCPMetricLabels) {
        labels.sourceWorkload = name(w)
        labels.sourceWorkloadNamespace = w.namespace
        labels.sourceCanonicalService = canonical(w)
        labels.sourceCanonicalRevision = revision(w)
        labels.sourceApp = canonical(w)
        labels.sourceVersion = revision(w)
        if !w.clusterID.isEmpty { labels.sourceCluster = w.clusterID }
    }

    static func destination(_ w: Istio_Workload_Workload, into labels: inout TCPMetricLabels) {
        labels.destinationWorkload = name(w)
        labels.destinationWorkloadNamespace = w.namespace
        labels.destinationCanonicalService = canonical(w)
        labels.destinationCanonicalRevision = revision(w)
        labels.destinationApp = canonical(w)
        labels.destinationVersion = revision(w)
        if !w.clusterID.isEmpty { labels.destinationCluster = w.clusterID }
    }

    static func service(_ s: Istio_Workload_Service, into labels: inout TCPMetricLabels) {
        labels.destinationService = s.hostname
        labels.destinationServiceName = s.name
        labels.destinationServiceNamespace = s.namespace
    }

    private static func name(_ w: Istio_Workload_Workload) -> String { w.workloadName.isEmpty ? w.name : w.workloadName }
    private static func canonical(_ w: Istio_Workload_Workload) -> String {
        w.canonicalName.isEmpty ? L4Constants.unknownLabel : w.canonicalName
    }
    private static func revision(_ w: Istio_Workload_Workload) -> String {
        w.canonicalRevision.isEmpty ? L4Constants.unknownLabel : w.canonicalRevision
    }
}
