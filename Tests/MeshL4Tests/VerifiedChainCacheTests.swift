import Foundation
import SwiftASN1
import MeshAPI
import NIOSSL
import Testing
import X509

@testable import MeshL4

@Suite("Verified peer chains are cached per trust bundle", .serialized, .timeLimit(.minutes(1)))
struct VerifiedChainCacheTests {
    @Test("a peer connecting again is verified from the cache on both sides, its identity still checked")
    func reuseAcrossConnections() async throws {
        try await withPair(client: { $0.pooling = false }) { pair in
            let clientCache = try #require(pair.client.credentialsSnapshot?.verifiedChains)
            let serverCache = try #require(pair.server.credentialsSnapshot?.verifiedChains)
            for _ in 0..<3 {
                let stream = try await pair.open()
                _ = try await pump(stream.channel, payload: Array("ping".utf8))
            }
            #expect(pair.server.statistics.connectionsAccepted == 3)
            #expect(clientCache.count == 1)
            #expect(serverCache.count == 1)
            #expect(clientCache.hits == 2)  // the first connection verified in full
            #expect(serverCache.hits == 2)
            // The cached server chain does not make another expected identity acceptable.
            let wrong = spiffe("default", "somebody-else")
            await #expect(throws: HBONEError.serverIdentityMismatch(expected: [wrong], presented: serverID.description)) {
                _ = try await pair.open(expected: [wrong])
            }
            #expect(clientCache.hits == 3)
        }
    }

    @Test("an entry is used only inside the validity window of every certificate in the chain")
    func expiry() async throws {
        let certificate = try await TestCA.shared.certificate(for: clientID)
        let presented = try certificate.certificateChain.map { certificate in
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der)
        }
        let validated = certificate.certificateChain + certificate.roots
        let cache = VerifiedChainCache()
        let key = try #require(VerifiedChainCache.key(.client, presented))
        cache.insert(key, identity: clientID, validated: validated)
        let notAfter = validated.map(\.notValidAfter).min()!
        let notBefore = validated.map(\.notValidBefore).max()!
        #expect(cache.identity(for: key, now: notBefore.addingTimeInterval(1)) == clientID)
        #expect(cache.identity(for: VerifiedChainCache.Key(usage: .server, chain: key.chain)) == nil)
        #expect(cache.identity(for: key, now: notBefore.addingTimeInterval(-1)) == nil)
        #expect(cache.identity(for: key, now: notAfter) == nil)
        #expect(cache.count == 0)  // the expired entry left
    }
}
