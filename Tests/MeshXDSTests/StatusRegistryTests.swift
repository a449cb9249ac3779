import Foundation
import Testing
@testable import MeshXDS

/// Each stream's status has its own entry, which its session updates; the registry's readers
/// see those updates, and a closed stream is gone even if its entry is updated afterwards.
@Suite struct StatusRegistryTests {
    func status(_ id: UInt64, node: String) -> ClientStatus {
        ClientStatus(streamID: id, nodeID: node, cluster: "c", mode: .delta, connectedSince: Date(), types: [:])
    }

    @Test func updatesThroughAnEntryAreWhatTheRegistryReports() {
        let registry = StatusRegistry()
        let first = registry.open(status(2, node: "b"))
        let second = registry.open(status(1, node: "a"))
        first.updateType(TypeURL.cluster) {
            $0.lastSentVersion = "v1"
            $0.lastSentNonce = "n1"
            $0.responses += 1
        }
        #expect(registry.all.map(\.streamID) == [1, 2])
        #expect(registry.typeStatus(streamID: 2, typeURL: TypeURL.cluster)?.lastSentVersion == "v1")
        #expect(registry.client(streamID: 2)?.isSynced == false)
        first.updateType(TypeURL.cluster) { $0.lastAckedNonce = "n1" }
        #expect(registry.clients(nodeID: "b").first?.isSynced == true)
        #expect(registry.typeStatus(streamID: 1, typeURL: TypeURL.cluster) == nil)

        registry.close(2)
        first.updateType(TypeURL.cluster) { $0.responses += 1 }  // a session finishing after its close
        #expect(registry.client(streamID: 2) == nil)
        #expect(registry.all.map(\.streamID) == [1])
        second.status.withLock { $0.cluster = "d" }
        #expect(registry.client(streamID: 1)?.cluster == "d")
    }
}
