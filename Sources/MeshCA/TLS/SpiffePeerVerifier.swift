import Foundation
import MeshAPI
import NIOCore
import NIOSSL
import SwiftASN1
import X509

/// Verifies a TLS peer's chain and SPIFFE identity with swift-certificates, as a NIOSSL custom
/// verification callback (which replaces BoringSSL's own chain verification, so this performs
/// the full check: chain to a trusted root, validity, CA constraints, exact identity).
public struct SpiffePeerVerifier: Sendable {
    /// Roots to verify against, read on every handshake (so rotations apply at once).
    public var trustRoots: @Sendable () -> [Certificate]
    /// The SPIFFE requirements on the peer's leaf.
    public var policy: SpiffeVerifierPolicy

    /// Creates a verifier.
    /// - Parameters:
    ///   - trustDomain: The peer must be in this trust domain.
    ///   - allowedIdentities: When set, the peer must be exactly one of these.
    ///   - requiredUsage: `.serverAuth` when verifying servers, `.clientAuth` for clients.
    ///   - trustRoots: The current roots.
    public init(
        trustDomain: String, allowedIdentities: Set<SpiffeID>? = nil, requiredUsage: ExtendedKeyUsage.Usage? = nil,
        trustRoots: @escaping @Sendable () -> [Certificate]
    ) {
        self.trustRoots = trustRoots
        self.policy = SpiffeVerifierPolicy(
            trustDomain: trustDomain, allowedIdentities: allowedIdentities, requiredUsage: requiredUsage)
    }

    /// Verifies a presented chain and returns the peer identity.
    public func verify(_ presented: [NIOSSLCertificate], now: Date = Date()) async throws -> SpiffeID {
        try await verifiedChain(presented, now: now).identity
    }

    func verifiedChain(
        _ presented: [NIOSSLCertificate], now: Date = Date()
    ) async throws -> (identity: SpiffeID, chain: [NIOSSLCertificate]) {
        let chain = try presented.map { try Certificate(derEncoded: try $0.toDERBytes()) }
        let (identity, validated) = try await SpiffeChainVerifier.verifiedChain(
            chain: chain, roots: trustRoots(), policy: policy, now: now)
        let nioChain = try validated.map { certificate in
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der)
        }
        return (identity, nioChain)
    }

    /// The callback for `NIOSSLClientHandler`/`NIOSSLServerHandler`
    /// (`customVerificationCallbackWithMetadata`).
    public var callback:
        @Sendable ([NIOSSLCertificate], EventLoopPromise<NIOSSLVerificationResultWithMetadata>) -> Void
    {
        let verifier = self
        return { certificates, promise in
            promise.completeWithTask {
                do {
                    let (_, chain) = try await verifier.verifiedChain(certificates)
                    return .certificateVerified(VerificationMetadata(ValidatedCertificateChain(chain)))
                } catch {
                    return .failed
                }
            }
        }
    }
}
