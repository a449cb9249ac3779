/// # MeshXDS
///
/// xDS for SwiftMesh: an ADS server (state-of-the-world and delta) with SDS, the caches it serves
/// from, per-client status, and a client for proxies.
///
/// - Server: ``XDSServer`` (register ``XDSServer/services`` with a `GRPCServer`, or call
///   ``XDSServer/serve(host:port:onListening:)``), ``XDSCallbacks`` for embedding,
///   ``XDSServerOptions``.
/// - Caches: the ``ResourceCache`` protocol; ``SnapshotCache`` (a consistent ``Snapshot`` per
///   node key), ``LinearCache`` (one type shared by all nodes, O(changed) wake-ups) and
///   ``MuxCache`` (a cache per type URL). Resources are ``XDSResource`` values, marshalled once.
/// - Status: ``StatusRegistry`` of ``ClientStatus`` (JSON for a debug endpoint) and swift-metrics
///   instruments named after istiod's (`pilot_xds`, `pilot_xds_pushes`,
///   `pilot_total_xds_rejects`, `pilot_xds_push_time`).
/// - Client: ``XDSClient`` with ``XDSClientConfiguration``, ``Backoff`` and ``IstioNode``.
public enum MeshXDSModule {
    /// The module's name, for logs.
    public static let name = "MeshXDS"
}
