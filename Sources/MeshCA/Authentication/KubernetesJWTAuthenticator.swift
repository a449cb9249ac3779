import Foundation
import MeshAPI

/// Authenticates a bearer token as a Kubernetes service-account JWT, verified locally against a
/// configured issuer and key set (the local stand-in for a TokenReview).
///
/// The identity is `spiffe://<trust-domain>/ns/<kubernetes.io.namespace>/sa/<kubernetes.io.serviceaccount.name>`.
/// When the token also has a `system:serviceaccount:` subject, it must name the same account.
public struct KubernetesJWTAuthenticator: CallerAuthenticator {
    /// `jwt`.
    public var name: String { "jwt" }
    /// Checks signature, issuer, audience and lifetime.
    public var verifier: JWTVerifier
    /// The trust domain identities are issued in.
    public var trustDomain: String
    /// The clock.
    public var now: @Sendable () -> Date

    /// Creates the authenticator.
    public init(verifier: JWTVerifier, trustDomain: String, now: @escaping @Sendable () -> Date = { Date() }) {
        self.verifier = verifier
        self.trustDomain = trustDomain
        self.now = now
    }

    public func authenticate(_ credentials: CallerCredentials) async throws(AuthenticationError) -> CallerIdentity? {
        guard let token = credentials.bearerToken else {
            if credentials.hasAuthorizationMetadata {
                throw AuthenticationError(authenticator: name, reason: "authorization metadata is not 'Bearer <token>'")
            }
            return nil
        }
        do throws(JWTError) {
            let claims = try verifier.verify(token, now: now())
            guard let namespace = claims.kubernetes?.namespace, !namespace.isEmpty else {
                throw JWTError.missingClaim("kubernetes.io.namespace")
            }
            guard let account = claims.kubernetes?.serviceAccount?.name, !account.isEmpty else {
                throw JWTError.missingClaim("kubernetes.io.serviceaccount.name")
            }
            if let subject = claims.subject, subject.hasPrefix("system:serviceaccount:"),
                subject != "system:serviceaccount:\(namespace):\(account)"
            {
                throw JWTError.malformed("sub \(subject) disagrees with kubernetes.io (\(namespace)/\(account))")
            }
            let identity: SpiffeID
            do {
                identity = try SpiffeID(trustDomain: trustDomain, namespace: namespace, serviceAccount: account)
            } catch {
                throw JWTError.malformed("claims do not form a SPIFFE identity (\(error.reason))")
            }
            return CallerIdentity(
                identity: identity, podName: claims.kubernetes?.pod?.name, podUID: claims.kubernetes?.pod?.uid,
                nodeName: claims.kubernetes?.node?.name, authenticator: name)
        } catch {
            throw AuthenticationError(authenticator: name, reason: error.description)
        }
    }
}
