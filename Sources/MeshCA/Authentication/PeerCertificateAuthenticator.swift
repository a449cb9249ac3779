import Foundation
import MeshAPI
import X509

/// Authenticates the client certificate of an mTLS connection: renewal by a workload that
/// already has an identity.
///
/// The chain is verified again here, against the authority's current trust bundle, whatever the
/// transport did: the identity is the leaf's single SPIFFE URI SAN, which must be in the trust
/// domain, on a non-CA certificate allowing clientAuth.
public struct PeerCertificateAuthenticator: CallerAuthenticator {
    /// `mtls`.
    public var name: String { "mtls" }
    /// Supplies the roots and the locally known intermediates at verification time, so a root
    /// rotation is seen immediately.
    public var trustAnchors: @Sendable () -> (roots: [Certificate], intermediates: [Certificate])
    /// The trust domain the identity must belong to.
    public var trustDomain: String
    /// The clock.
    public var now: @Sendable () -> Date

    /// Creates the authenticator.
    public init(
        trustDomain: String,
        trustAnchors: @escaping @Sendable () -> (roots: [Certificate], intermediates: [Certificate]),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.trustDomain = trustDomain
        self.trustAnchors = trustAnchors
        self.now = now
    }

    /// An authenticator trusting `authority`'s bundle and intermediates.
    public init(authority: CertificateAuthority) {
        self.init(trustDomain: authority.configuration.trustDomain) {
            (authority.trustBundle.roots, authority.signer.intermediates)
        }
    }

    public func authenticate(_ credentials: CallerCredentials) async throws(AuthenticationError) -> CallerIdentity? {
        guard !credentials.peerCertificateChain.isEmpty else { return nil }
        let anchors = trustAnchors()
        do {
            let identity = try await SpiffeChainVerifier.verify(
                chain: credentials.peerCertificateChain, roots: anchors.roots, extraIntermediates: anchors.intermediates,
                policy: SpiffeVerifierPolicy(trustDomain: trustDomain, requiredUsage: .clientAuth), now: now())
            return CallerIdentity(identity: identity, remoteAddress: credentials.remoteAddress, authenticator: name)
        } catch {
            throw AuthenticationError(authenticator: name, reason: error.description)
        }
    }
}
