import MeshAPI
import MeshCA
import NIOCore
import NIOSSL
import Synchronization
import X509

/// Verifies HBONE peers' certificates (chain to the trust bundle, exactly one SPIFFE URI SAN)
/// inside NIOSSL's custom verification callback, and remembers the outcome so that a failed
/// handshake can be reported with a typed error and a successful one yields the identity.
final class PeerVerificationOutcome: Sendable {
    enum Value: Sendable {
        case pending
        case verified(SpiffeID)
        case refused(HBONEError)
    }

    private let value = Mutex<Value>(.pending)

    var current: Value { value.withLock { $0 } }

    var identity: SpiffeID? {
        if case .verified(let identity) = current { return identity }
        return nil
    }

    var failure: HBONEError? {
        if case .refused(let error) = current { return error }
        return nil
    }

    fileprivate func set(_ next: Value) { value.withLock { $0 = next } }
}

enum PeerVerification {
    /// The presented chain parsed, from the DER the cache key already holds when there is one.
    static func certificates(_ presented: [NIOSSLCertificate], key: VerifiedChainCache.Key?) throws -> [Certificate] {
        if let key { return try key.chain.map { try Certificate(derEncoded: $0) } }
        return try presented.map { try Certificate(derEncoded: try $0.toDERBytes()) }
    }

    /// The server side: the client's chain must lead to `roots` and its identity be in `trustDomain`.
    /// A chain verified before (same bytes, still valid) completes at once from `cache`.
    static func clientCallback(
        roots: [Certificate], trustDomain: String, cache: VerifiedChainCache, outcome: PeerVerificationOutcome
    ) -> NIOSSLCustomVerificationCallbackWithMetadata {
        { presented, promise in
            let key = VerifiedChainCache.key(.client, presented)
            if let key, let identity = cache.identity(for: key) {
                promise.succeed(record(.success(identity), in: outcome))
                return
            }
            promise.completeWithTask {
                do {
                    let chain = try certificates(presented, key: key)
                    let (identity, validated) = try await SpiffeChainVerifier.verifiedChain(
                        chain: chain, roots: roots,
                        policy: SpiffeVerifierPolicy(trustDomain: trustDomain, requiredUsage: .clientAuth))
                    if let key { cache.insert(key, identity: identity, validated: validated) }
                    outcome.set(.verified(identity))
                    return .certificateVerified(VerificationMetadata(nil))
                } catch {
                    outcome.set(.refused(.tlsHandshakeFailed(reason: "client certificate refused: \(error)")))
                    return .failed
                }
            }
        }
    }

    /// The client side: the server's chain must lead to `roots` and its single SPIFFE identity
    /// be one of `expected`. A chain verified before completes at once from `cache` (the
    /// identity is still checked against `expected`).
    static func serverCallback(
        roots: [Certificate], expected: [SpiffeID], cache: VerifiedChainCache, outcome: PeerVerificationOutcome
    ) -> NIOSSLCustomVerificationCallbackWithMetadata {
        { presented, promise in
            let key = VerifiedChainCache.key(.server, presented)
            if let key, let identity = cache.identity(for: key) {
                promise.succeed(record(accept(identity, expected: expected), in: outcome))
                return
            }
            promise.completeWithTask {
                record(await verifyServer(presented, roots: roots, expected: expected, cache: cache, key: key), in: outcome)
            }
        }
    }

    static func verifyServer(
        _ presented: [NIOSSLCertificate], roots: [Certificate], expected: [SpiffeID],
        cache: VerifiedChainCache, key: VerifiedChainCache.Key?
    ) async -> Result<SpiffeID, HBONEError> {
        let chain: [Certificate]
        do {
            chain = try certificates(presented, key: key)
        } catch {
            return .failure(.untrustedServerCertificate(reason: "unreadable certificate: \(error)"))
        }
        guard let leaf = chain.first else { return .failure(.untrustedServerCertificate(reason: "no certificate")) }
        let presentedIdentity: SpiffeID
        do {
            presentedIdentity = try leaf.spiffeIdentity()
        } catch {
            return .failure(.serverIdentityMismatch(expected: expected, presented: "(\(error.description))"))
        }
        do {
            let (_, validated) = try await SpiffeChainVerifier.verifiedChain(
                chain: chain, roots: roots,
                policy: SpiffeVerifierPolicy(trustDomain: presentedIdentity.trustDomain, requiredUsage: .serverAuth))
            if let key { cache.insert(key, identity: presentedIdentity, validated: validated) }
        } catch {
            return .failure(.untrustedServerCertificate(reason: error.description))
        }
        return accept(presentedIdentity, expected: expected)
    }

    /// A verified server identity (verified now or found in the cache) is accepted only if it is
    /// one of `expected`.
    static func accept(_ identity: SpiffeID, expected: [SpiffeID]) -> Result<SpiffeID, HBONEError> {
        expected.contains(identity)
            ? .success(identity) : .failure(.serverIdentityMismatch(expected: expected, presented: identity.description))
    }

    /// Keeps `result` in `outcome` and gives NIOSSL its verdict.
    static func record(
        _ result: Result<SpiffeID, HBONEError>, in outcome: PeerVerificationOutcome
    ) -> NIOSSLVerificationResultWithMetadata {
        switch result {
        case .success(let identity):
            outcome.set(.verified(identity))
            return .certificateVerified(VerificationMetadata(nil))
        case .failure(let error):
            outcome.set(.refused(error))
            return .failed
        }
    }
}
