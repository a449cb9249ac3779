import Foundation
import Logging
import MeshAPI
import Metrics
import SwiftASN1
import Synchronization
import X509

/// Signs workload certificates for SPIFFE identities and holds the mesh's trust bundle.
///
/// The authority never takes an identity from the CSR: ``sign(csrPEM:for:ttl:now:)`` is given the
/// identity the caller was authenticated as, and refuses a CSR that asks for anything else.
/// Signing runs concurrently from any number of tasks; root rotation swaps state atomically.
public final class CertificateAuthority: Sendable {
    /// Issuance policy.
    public struct Configuration: Sendable, Hashable {
        /// The trust domain every issued identity must belong to.
        public var trustDomain: String
        /// Lifetime used when a request asks for none (≤ 0).
        public var defaultTTL: Duration
        /// Longest lifetime issued; longer requests are capped, not refused.
        public var maximumTTL: Duration
        /// How far not-before is back-dated, to tolerate clock skew.
        public var clockSkewAllowance: Duration
        /// How roots are laid out at the end of a response.
        public var rootEncoding: RootEncoding

        /// Creates a configuration with Istio's defaults.
        public init(
            trustDomain: String = MeshCAConstants.defaultTrustDomain,
            defaultTTL: Duration = MeshCAConstants.defaultWorkloadCertificateTTL,
            maximumTTL: Duration = MeshCAConstants.defaultMaximumWorkloadCertificateTTL,
            clockSkewAllowance: Duration = MeshCAConstants.defaultClockSkewAllowance,
            rootEncoding: RootEncoding = .onePerString
        ) {
            self.trustDomain = trustDomain
            self.defaultTTL = defaultTTL
            self.maximumTTL = maximumTTL
            self.clockSkewAllowance = clockSkewAllowance
            self.rootEncoding = rootEncoding
        }
    }

    struct State: Sendable {
        var signer: SigningAuthority
        var trustBundle: TrustBundle
        var signerKeyIdentifier: ArraySlice<UInt8>
        /// PEM strings that follow the leaf in every response.
        var chainTail: [String]
        var roots: [Certificate]
    }

    /// The issuance policy.
    public let configuration: Configuration
    let state: Mutex<State>
    let logger: Logger
    private let issuedCounter: Counter
    private let refusedCounter: Counter

    /// Creates an authority signing with `signer` and trusting `trustBundle` (to which the
    /// signer's root is added).
    public init(
        signer: SigningAuthority, trustBundle: TrustBundle = TrustBundle(roots: []),
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "swiftmesh.ca.authority")
    ) throws(CertificateAuthorityError) {
        self.configuration = configuration
        self.logger = logger
        self.issuedCounter = Counter(label: "mesh_ca_certificates_issued_total")
        self.refusedCounter = Counter(label: "mesh_ca_csr_refused_total")
        var bundle = trustBundle
        bundle.insert(signer.root)
        self.state = Mutex(try Self.makeState(signer: signer, bundle: bundle, encoding: configuration.rootEncoding))
    }

    /// An authority with a self-signed root kept in `directory` (created on first start).
    public static func selfSigned(
        directory: URL, configuration: Configuration = Configuration(), algorithm: KeyAlgorithm = .ecdsaP256,
        logger: Logger = Logger(label: "swiftmesh.ca.authority")
    ) throws(CertificateAuthorityError) -> CertificateAuthority {
        let signer = try CAMaterialStore.loadOrCreateSelfSignedRoot(
            directory: directory, trustDomain: configuration.trustDomain, algorithm: algorithm)
        return try CertificateAuthority(signer: signer, configuration: configuration, logger: logger)
    }

    /// An intermediate authority loaded from a plugged-in `cacerts` directory.
    public static func pluggedIn(
        directory: URL, configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "swiftmesh.ca.authority")
    ) throws(CertificateAuthorityError) -> CertificateAuthority {
        let (signer, bundle) = try CAMaterialStore.loadPluggedIn(directory: directory)
        return try CertificateAuthority(signer: signer, trustBundle: bundle, configuration: configuration, logger: logger)
    }

    static func makeState(
        signer: SigningAuthority, bundle: TrustBundle, encoding: RootEncoding
    ) throws(CertificateAuthorityError) -> State {
        let keyIdentifier: ArraySlice<UInt8>
        if let ski = try? signer.certificate.extensions.subjectKeyIdentifier {
            keyIdentifier = ski.keyIdentifier
        } else {
            keyIdentifier = SubjectKeyIdentifier(hash: signer.certificate.publicKey).keyIdentifier
        }
        // Signing root last; other roots before it.
        let roots = bundle.roots.filter { $0 != signer.root } + [signer.root]
        var tail: [String] = []
        do {
            for certificate in signer.intermediates { tail.append(try PEMCodec.pem(certificate)) }
            switch encoding {
            case .onePerString:
                for root in roots { tail.append(try PEMCodec.pem(root)) }
            case .concatenatedInLastEntry:
                tail.append(try PEMCodec.pem(roots))
            }
        } catch {
            throw .signingFailed(error.description)
        }
        return State(
            signer: signer, trustBundle: bundle, signerKeyIdentifier: keyIdentifier, chainTail: tail, roots: roots)
    }

    /// The roots the mesh trusts now.
    public var trustBundle: TrustBundle { state.withLock { $0.trustBundle } }

    /// The CA currently signing.
    public var signer: SigningAuthority { state.withLock { $0.signer } }

    /// Signs a PEM CSR for `identity`, the identity the caller was authenticated as.
    ///
    /// - Parameters:
    ///   - csrPEM: A PKCS#10 request. Its own signature must verify. It may name no SAN (the
    ///     identity is then taken from `identity`) or exactly `identity`'s URI; anything else is refused.
    ///   - identity: The authenticated identity, which becomes the only SAN of the certificate.
    ///   - ttl: Requested lifetime; nil or ≤ 0 means the default; above the maximum is capped.
    ///   - now: Issuance time.
    /// - Returns: The certificate and the response chain.
    /// - Throws: ``CertificateAuthorityError`` when the CSR is malformed, badly signed, asks for
    ///   another identity, or the identity is outside the trust domain.
    public func sign(
        csrPEM: String, for identity: SpiffeID, ttl: Duration? = nil, now: Date = Date()
    ) throws(CertificateAuthorityError) -> IssuedCertificate {
        do throws(CertificateAuthorityError) {
            guard identity.trustDomain == configuration.trustDomain else {
                throw CertificateAuthorityError.foreignTrustDomain(identity, expected: configuration.trustDomain)
            }
            let csr = try CSRInspection.verify(pem: csrPEM)
            try CSRInspection.check(csr, allows: identity)
            return try issue(publicKey: csr.csr.publicKey, identity: identity, ttl: ttl, now: now)
        } catch {
            refusedCounter.increment()
            logger.debug("refused CSR", metadata: ["identity": "\(identity)", "reason": "\(error)"])
            throw error
        }
    }

    /// The lifetime actually granted for a requested one.
    public func effectiveTTL(requested: Duration?) -> Duration {
        guard let requested, requested > .zero else { return configuration.defaultTTL }
        return min(requested, configuration.maximumTTL)
    }

    private func issue(
        publicKey: Certificate.PublicKey, identity: SpiffeID, ttl: Duration?, now: Date
    ) throws(CertificateAuthorityError) -> IssuedCertificate {
        let snapshot = state.withLock { $0 }
        let lifetime = effectiveTTL(requested: ttl)
        let notBefore = now.addingTimeInterval(-configuration.clockSkewAllowance.timeInterval)
        let notAfter = min(now.addingTimeInterval(lifetime.timeInterval), snapshot.signer.certificate.notValidAfter)
        do {
            let extensions = try Certificate.Extensions {
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                Critical(BasicConstraints.notCertificateAuthority)
                AuthorityKeyIdentifier(keyIdentifier: snapshot.signerKeyIdentifier)
                // The subject is empty, so RFC 5280 §4.2.1.6 requires the SAN to be critical.
                Critical(SubjectAlternativeNames([.uniformResourceIdentifier(identity.description)]))
            }
            let leaf = try Certificate(
                version: .v3,
                serialNumber: .randomPositive(),
                publicKey: publicKey,
                notValidBefore: notBefore,
                notValidAfter: notAfter,
                issuer: snapshot.signer.certificate.subject,
                subject: DistinguishedName(),
                signatureAlgorithm: snapshot.signer.privateKey.sha256SignatureAlgorithm,
                extensions: extensions,
                issuerPrivateKey: snapshot.signer.privateKey)
            let leafPEM = try LeafPEM.encode(leaf)
            issuedCounter.increment()
            return IssuedCertificate(
                leaf: leaf, intermediates: snapshot.signer.intermediates, roots: snapshot.roots,
                identity: identity, pemChain: [leafPEM] + snapshot.chainTail)
        } catch let error as PEMError {
            throw .signingFailed(error.description)
        } catch {
            throw .signingFailed("\(error)")
        }
    }
}
