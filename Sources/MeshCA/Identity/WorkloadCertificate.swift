import Foundation
import MeshAPI
import SwiftASN1
import X509

/// Why a CA response was not accepted as a workload certificate.
public struct WorkloadCertificateError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong with the response.
    public var reason: String
    /// Creates an error.
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// A workload's certificate, its key and the roots it trusts: everything TLS needs.
public struct WorkloadCertificate: Sendable, Hashable {
    /// The identity in the leaf.
    public let identity: SpiffeID
    /// The workload certificate.
    public let leaf: Certificate
    /// Intermediates from the issuing CA up to, excluding, the root.
    public let intermediates: [Certificate]
    /// The roots the workload trusts (the trust bundle).
    public let roots: [Certificate]
    /// The key of ``leaf``.
    public let privateKey: Certificate.PrivateKey

    /// Start of validity.
    public var notBefore: Date { leaf.notValidBefore }
    /// End of validity.
    public var notAfter: Date { leaf.notValidAfter }
    /// The chain a TLS endpoint presents: leaf then intermediates.
    public var certificateChain: [Certificate] { [leaf] + intermediates }

    /// Creates a value without checks (see ``verifying(caResponse:privateKey:expectedIdentity:now:)``).
    public init(
        identity: SpiffeID, leaf: Certificate, intermediates: [Certificate], roots: [Certificate],
        privateKey: Certificate.PrivateKey
    ) {
        self.identity = identity
        self.leaf = leaf
        self.intermediates = intermediates
        self.roots = roots
        self.privateKey = privateKey
    }

    /// Whether the certificate is within its validity period at `date`.
    public func isValid(at date: Date = Date()) -> Bool { notBefore <= date && date < notAfter }

    /// PEM of leaf and intermediates.
    public func certificateChainPEM() throws(PEMError) -> String { try PEMCodec.pem(certificateChain) }
    /// PEM of the private key.
    public func privateKeyPEM() throws(PEMError) -> String { try PEMCodec.pem(privateKey) }
    /// PEM of the trust bundle.
    public func trustBundlePEM() throws(PEMError) -> String { try PEMCodec.pem(roots) }

    /// Accepts a CA response only if it is what was asked for.
    ///
    /// The first certificate is the leaf; self-signed certificates after it are roots (a last
    /// entry may concatenate several) and the rest intermediates. The leaf must hold the public
    /// key of `privateKey`, carry exactly `expectedIdentity` and nothing else, be valid now, and
    /// chain to one of the returned roots.
    public static func verifying(
        caResponse: [String], privateKey: Certificate.PrivateKey, expectedIdentity: SpiffeID, now: Date = Date()
    ) async throws(WorkloadCertificateError) -> WorkloadCertificate {
        guard !caResponse.isEmpty else { throw WorkloadCertificateError(reason: "empty certificate chain") }
        var certificates: [Certificate] = []
        for (index, entry) in caResponse.enumerated() {
            do {
                certificates += try PEMCodec.certificates(fromPEM: entry, source: "cert_chain[\(index)]")
            } catch {
                throw WorkloadCertificateError(reason: error.description)
            }
        }
        let leaf = certificates[0]
        guard leaf.publicKey == privateKey.publicKey else {
            throw WorkloadCertificateError(reason: "the leaf certificate is not for the key that signed the CSR")
        }
        let identity: SpiffeID
        do {
            identity = try leaf.spiffeIdentity()
        } catch {
            throw WorkloadCertificateError(reason: "leaf: \(error.description)")
        }
        guard identity == expectedIdentity else {
            throw WorkloadCertificateError(reason: "leaf identity \(identity) is not the requested \(expectedIdentity)")
        }
        var roots: [Certificate] = []
        var intermediates: [Certificate] = []
        for certificate in certificates.dropFirst() {
            if certificate.issuer == certificate.subject,
                certificate.publicKey.isValidSignature(certificate.signature, for: certificate)
            {
                if !roots.contains(certificate) { roots.append(certificate) }
            } else if !intermediates.contains(certificate) {
                intermediates.append(certificate)
            }
        }
        guard !roots.isEmpty else { throw WorkloadCertificateError(reason: "the response holds no root certificate") }
        if let usages = try? leaf.extensions.extendedKeyUsage {
            guard usages.contains(.serverAuth), usages.contains(.clientAuth) else {
                throw WorkloadCertificateError(reason: "leaf extended key usage lacks serverAuth or clientAuth")
            }
        }
        do {
            _ = try await SpiffeChainVerifier.verify(
                chain: [leaf] + intermediates, roots: roots,
                policy: SpiffeVerifierPolicy(
                    trustDomain: expectedIdentity.trustDomain, allowedIdentities: [expectedIdentity]),
                now: now)
        } catch {
            throw WorkloadCertificateError(reason: error.description)
        }
        return WorkloadCertificate(
            identity: identity, leaf: leaf, intermediates: intermediates, roots: roots, privateKey: privateKey)
    }
}

/// Builds the CSR a workload sends: ECDSA P-256, SHA-256, empty subject, one critical URI SAN.
public enum CSRBuilder {
    /// A fresh key and the PEM CSR for `identity`.
    public static func make(
        for identity: SpiffeID, algorithm: KeyAlgorithm = .ecdsaP256
    ) throws -> (privateKey: Certificate.PrivateKey, csrPEM: String) {
        let key = try algorithm.generatePrivateKey()
        return (key, try pem(for: identity, privateKey: key))
    }

    /// The PEM CSR for `identity`, signed with `privateKey`.
    public static func pem(for identity: SpiffeID, privateKey: Certificate.PrivateKey) throws -> String {
        try pem(sans: [.uniformResourceIdentifier(identity.description)], privateKey: privateKey)
    }

    /// A PEM CSR with arbitrary SANs (for tests of the CA's refusals).
    public static func pem(sans: [GeneralName], privateKey: Certificate.PrivateKey) throws -> String {
        var attributes = CertificateSigningRequest.Attributes()
        if !sans.isEmpty {
            let extensions = try Certificate.Extensions { Critical(SubjectAlternativeNames(sans)) }
            attributes.insert(try CertificateSigningRequest.Attribute(ExtensionRequest(extensions: extensions)))
        }
        let csr = try CertificateSigningRequest(
            version: .v1, subject: DistinguishedName(), privateKey: privateKey, attributes: attributes,
            signatureAlgorithm: privateKey.sha256SignatureAlgorithm)
        return try csr.serializeAsPEM().pemString
    }
}
