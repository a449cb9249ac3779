import Foundation
import GRPCCore
import MeshProto

/// A discovery request (SotW or delta): both carry the node on the first message of a stream.
protocol NodeCarryingRequest: Sendable {
    var node: Envoy_Config_Core_V3_Node { get set }
    var hasNode: Bool { get }
}

extension Envoy_Service_Discovery_V3_DiscoveryRequest: NodeCarryingRequest {}
extension Envoy_Service_Discovery_V3_DeltaDiscoveryRequest: NodeCarryingRequest {}

/// Per-type session state that may hold a cache watch.
protocol WatchHolding {
    var watch: (any CacheWatch)? { get }
}

extension StreamSession {
    /// The stream's node key. The first request must carry the node (it opens the stream's
    /// status); later requests may omit it and get the remembered one filled in.
    func identify(_ request: inout Request) throws -> NodeKey {
        if let nodeKey, let node {
            if !request.hasNode { request.node = node }
            return nodeKey
        }
        guard request.hasNode else {
            throw RPCError(code: .invalidArgument, message: "the first request on a stream must carry node")
        }
        node = request.node
        let key = server.cache.nodeKey(for: request.node)
        nodeKey = key
        statusEntry = server.status.open(ClientStatus(
            streamID: id, nodeID: request.node.id, cluster: request.node.cluster, mode: mode,
            connectedSince: Date(), types: [:]))
        return key
    }

    /// Records a response about to be written: status first, so a debug endpoint never shows
    /// an ACK for a version it does not know was sent.
    func recordSending(_ typeURL: String, version: String, nonce: String) {
        statusEntry?.updateType(typeURL) {
            $0.lastSentVersion = version
            $0.lastSentNonce = nonce
            $0.responses += 1
        }
    }

    /// Counts a written response and, for pushes caused by a cache change, its latency.
    func recordSent(_ typeURL: String, since: ContinuousClock.Instant?) {
        let instruments = instruments(of: typeURL)
        instruments.pushes.increment()
        if let since { instruments.pushTime.recordNanoseconds(since.duration(to: .now).nanoseconds) }
    }

    /// `typeURL`'s metrics instruments, kept by the stream: the server's table of them is shared
    /// behind a lock.
    func instruments(of typeURL: String) -> XDSMetrics.PerType {
        if let kept = instruments[typeURL] { return kept }
        let made = server.metrics.instruments(typeURL)
        instruments[typeURL] = made
        return made
    }

    /// Logs, counts and records a NACK; `kept` is the version the client still runs.
    func recordNack(_ typeURL: String, message: String, nonce: String, rejected: String, kept: String) {
        server.logger.warning("xDS NACK", metadata: [
            "node": "\(node?.id ?? "")", "type": "\(typeURL)", "rejected": "\(rejected)", "error": "\(message)",
        ])
        instruments(of: typeURL).rejects.increment()
        statusEntry?.updateType(typeURL) {
            $0.lastNack = ClientStatus.Nack(
                keptVersion: kept, nonce: nonce, rejectedVersion: rejected, message: message, at: Date())
        }
        server.callbacks.onNack?(id, typeURL, message)
    }

    /// Cancels every watch and reports the stream closed.
    func close() {
        for state in types.values { state.watch?.cancel() }
        server.status.close(id)
        server.callbacks.onStreamClosed?(id, node)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
