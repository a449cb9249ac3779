import Foundation
import MeshAPI
import NIOSSL
import Synchronization
import X509

/// Peer certificate chains already verified against one trust bundle, so that a peer that
/// connects again with byte-identical certificates is not parsed and verified again (and its
/// handshake completes on the event loop instead of waiting for an async verification).
///
/// An entry holds the identity the full verification produced and the time window in which
/// every certificate of the validated chain (leaf to root) is valid; a lookup outside that
/// window misses, so expiry is still enforced. The cache lives in one credentials snapshot:
/// new roots come with a new snapshot and an empty cache. The policy that verified an entry
/// (client or server usage) is part of its key; identity expectations are checked per use.
final class VerifiedChainCache: Sendable {
    enum Usage: UInt8, Hashable, Sendable {
        case client
        case server
    }

    struct Key: Hashable, Sendable {
        var usage: Usage
        var chain: [[UInt8]]
    }

    private struct Entry: Sendable {
        var identity: SpiffeID
        var notBefore: Date
        var notAfter: Date
    }

    /// Entries kept at most; a full cache is emptied (peers re-verify once).
    static let capacity = 4096

    private let entries = Mutex<[Key: Entry]>([:])
    private let hitCount = Atomic<Int>(0)

    /// The key for what a peer presented, or nil when a certificate cannot be serialised.
    static func key(_ usage: Usage, _ presented: [NIOSSLCertificate]) -> Key? {
        var chain: [[UInt8]] = []
        chain.reserveCapacity(presented.count)
        for certificate in presented {
            guard let der = try? certificate.toDERBytes() else { return nil }
            chain.append(der)
        }
        return chain.isEmpty ? nil : Key(usage: usage, chain: chain)
    }

    /// The identity verified for `key`, when it is cached and valid at `now`.
    func identity(for key: Key, now: Date = Date()) -> SpiffeID? {
        entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            guard entry.notBefore <= now, now < entry.notAfter else {
                entries[key] = nil
                return nil
            }
            hitCount.add(1, ordering: .relaxed)
            return entry.identity
        }
    }

    /// Records a successful verification; `validated` is the chain from the leaf to the root.
    func insert(_ key: Key, identity: SpiffeID, validated: [Certificate]) {
        guard let notBefore = validated.map(\.notValidBefore).max(), let notAfter = validated.map(\.notValidAfter).min()
        else { return }
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(identity: identity, notBefore: notBefore, notAfter: notAfter)
        }
    }

    /// Lookups answered from the cache so far.
    var hits: Int { hitCount.load(ordering: .relaxed) }

    /// Entries held now.
    var count: Int { entries.withLock { $0.count } }
}
