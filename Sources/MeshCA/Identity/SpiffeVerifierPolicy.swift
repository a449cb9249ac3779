import Foundation
import MeshAPI
import SwiftASN1
import X509

/// A swift-certificates verifier policy for SPIFFE leaf certificates: the leaf must carry exactly
/// one SPIFFE URI SAN in the expected trust domain (and, optionally, one of the allowed
/// identities), must not be a CA, and must allow the expected extended key usage.
///
/// Combine it with `RFC5280Policy` for signatures, validity and CA constraints.
public struct SpiffeVerifierPolicy: VerifierPolicy, Sendable {
    /// The leaf's subjectAltName is policed here (it is critical when the subject is empty).
    public let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = [
        .X509ExtensionID.subjectAlternativeName,
        .X509ExtensionID.extendedKeyUsage,
    ]

    /// The trust domain the leaf's identity must belong to.
    public var trustDomain: String
    /// When set, the leaf's identity must be one of these.
    public var allowedIdentities: Set<SpiffeID>?
    /// The extended key usage the leaf must allow (when it has the extension).
    public var requiredUsage: ExtendedKeyUsage.Usage?

    /// Creates the policy.
    public init(trustDomain: String, allowedIdentities: Set<SpiffeID>? = nil, requiredUsage: ExtendedKeyUsage.Usage? = nil) {
        self.trustDomain = trustDomain
        self.allowedIdentities = allowedIdentities
        self.requiredUsage = requiredUsage
    }

    public mutating func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        if let reason = Self.check(
            leaf: chain.leaf, trustDomain: trustDomain, allowedIdentities: allowedIdentities, requiredUsage: requiredUsage)
        {
            return .failsToMeetPolicy(reason: reason)
        }
        return .meetsPolicy
    }

    /// Why `leaf` fails the policy, or nil when it meets it.
    static func check(
        leaf: Certificate, trustDomain: String, allowedIdentities: Set<SpiffeID>?, requiredUsage: ExtendedKeyUsage.Usage?
    ) -> String? {
        let identity: SpiffeID
        do {
            identity = try leaf.spiffeIdentity()
        } catch {
            return "leaf: \(error.description)"
        }
        guard identity.trustDomain == trustDomain else {
            return "leaf identity \(identity) is not in trust domain \(trustDomain)"
        }
        if let allowedIdentities, !allowedIdentities.contains(identity) {
            return "leaf identity \(identity) is not an expected identity"
        }
        if case .isCertificateAuthority = try? leaf.extensions.basicConstraints {
            return "leaf is a CA certificate"
        }
        if let requiredUsage, let usages = try? leaf.extensions.extendedKeyUsage {
            guard usages.contains(requiredUsage) || usages.contains(.any) else {
                return "leaf extended key usage lacks \(requiredUsage)"
            }
        }
        return nil
    }
}

/// Verifies SPIFFE certificate chains against a trust bundle with swift-certificates.
public enum SpiffeChainVerifier {
    /// Why a chain was refused.
    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        /// What is wrong.
        public var reason: String
        public var description: String { reason }
    }

    /// Verifies `chain` (leaf first) against `roots`, at `now`.
    /// - Parameters:
    ///   - chain: The leaf and the intermediates the peer sent.
    ///   - roots: Trust anchors.
    ///   - extraIntermediates: Intermediates known locally (e.g. the CA's own).
    ///   - policy: The SPIFFE requirements on the leaf.
    /// - Returns: The leaf's identity.
    public static func verify(
        chain: [Certificate], roots: [Certificate], extraIntermediates: [Certificate] = [],
        policy: SpiffeVerifierPolicy, now: Date = Date()
    ) async throws(Failure) -> SpiffeID {
        try await verifiedChain(
            chain: chain, roots: roots, extraIntermediates: extraIntermediates, policy: policy, now: now
        ).identity
    }

    /// Like ``verify(chain:roots:extraIntermediates:policy:now:)``, also returning the validated
    /// chain from the leaf to the root.
    public static func verifiedChain(
        chain: [Certificate], roots: [Certificate], extraIntermediates: [Certificate] = [],
        policy: SpiffeVerifierPolicy, now: Date = Date()
    ) async throws(Failure) -> (identity: SpiffeID, chain: [Certificate]) {
        guard let leaf = chain.first else { throw Failure(reason: "no certificate presented") }
        guard !roots.isEmpty else { throw Failure(reason: "no trusted roots") }
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy(validationTime: now)
            policy
        }
        let result = await verifier.validate(
            leaf: leaf, intermediates: CertificateStore(chain.dropFirst() + extraIntermediates))
        switch result {
        case .validCertificate(let validated):
            do {
                return (try leaf.spiffeIdentity(), Array(validated))
            } catch {
                throw Failure(reason: error.description)
            }
        case .couldNotValidate(let failures):
            let reasons = failures.map { "\($0.policyFailureReason)" }
            throw Failure(
                reason: reasons.isEmpty
                    ? "certificate does not chain to a trusted root"
                    : "certificate refused: \(reasons.joined(separator: "; "))")
        }
    }
}
