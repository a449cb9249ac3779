import Foundation
import SwiftASN1
import X509

/// A CA certificate with its private key and the chain above it: what the authority signs with.
///
/// For a self-signed root, ``certificate`` is the root and ``intermediates`` is empty. For a
/// plugged-in CA, ``certificate`` is this CA's (intermediate) certificate, ``intermediates`` the
/// certificates from it up to but excluding the root, and ``root`` the root it chains to.
public struct SigningAuthority: Sendable, Hashable {
    /// The certificate whose key signs workload certificates.
    public let certificate: Certificate
    /// The key of ``certificate``.
    public let privateKey: Certificate.PrivateKey
    /// From ``certificate`` (included unless it is the root) up to, excluding, ``root``.
    public let intermediates: [Certificate]
    /// The root this authority chains to.
    public let root: Certificate

    /// Whether this authority is itself the root.
    public var isRoot: Bool { certificate == root }

    /// Checks that the pieces fit: the key belongs to the certificate, the certificate may sign
    /// certificates, and `chain` links it to `root` with valid signatures.
    /// - Parameters:
    ///   - certificate: The signing certificate.
    ///   - privateKey: Its key.
    ///   - chain: Certificates above `certificate`, nearest first. May contain `certificate`
    ///     itself first and `root` last (as Istio's `cert-chain.pem` does); both are dropped.
    ///   - root: The trust anchor.
    ///   - now: The time at which the certificates must be valid.
    /// - Throws: ``CertificateAuthorityError/invalidCAMaterial(_:)`` saying what does not fit.
    public init(
        certificate: Certificate, privateKey: Certificate.PrivateKey, chain: [Certificate] = [],
        root: Certificate, now: Date = Date()
    ) throws(CertificateAuthorityError) {
        guard privateKey.publicKey == certificate.publicKey else {
            throw .invalidCAMaterial("the private key does not belong to the CA certificate \(certificate.subject)")
        }
        try Self.checkIsCA(certificate)
        try Self.checkValidity(certificate, now: now)
        var above = chain
        if above.first == certificate { above.removeFirst() }
        if above.last == root { above.removeLast() }
        var current = certificate
        for next in above {
            try Self.checkIsCA(next)
            try Self.checkValidity(next, now: now)
            try Self.checkSigned(current, by: next)
            current = next
        }
        try Self.checkSigned(current, by: root)
        try Self.checkValidity(root, now: now)
        self.certificate = certificate
        self.privateKey = privateKey
        self.intermediates = certificate == root ? [] : [certificate] + above
        self.root = root
    }

    static func checkIsCA(_ certificate: Certificate) throws(CertificateAuthorityError) {
        let constraints: BasicConstraints?
        do {
            constraints = try certificate.extensions.basicConstraints
        } catch {
            throw .invalidCAMaterial("\(certificate.subject): unreadable basicConstraints (\(error))")
        }
        guard case .isCertificateAuthority = constraints else {
            throw .invalidCAMaterial("\(certificate.subject) is not a CA certificate (basicConstraints CA:TRUE missing)")
        }
        if let usage = try? certificate.extensions.keyUsage, !usage.keyCertSign {
            throw .invalidCAMaterial("\(certificate.subject) may not sign certificates (keyUsage lacks keyCertSign)")
        }
    }

    static func checkValidity(_ certificate: Certificate, now: Date) throws(CertificateAuthorityError) {
        guard certificate.notValidBefore <= now, now < certificate.notValidAfter else {
            throw .invalidCAMaterial(
                "\(certificate.subject) is valid only from \(certificate.notValidBefore) to \(certificate.notValidAfter)")
        }
    }

    static func checkSigned(_ child: Certificate, by issuer: Certificate) throws(CertificateAuthorityError) {
        guard child.issuer == issuer.subject,
            issuer.publicKey.isValidSignature(child.signature, for: child)
        else {
            throw .invalidCAMaterial("\(child.subject) is not signed by \(issuer.subject)")
        }
    }

    /// Creates a self-signed root CA.
    /// - Parameters:
    ///   - trustDomain: Written as the subject's organization, as istiod does.
    ///   - algorithm: Key kind of the root.
    ///   - validity: Lifetime of the root.
    ///   - now: Issuance time.
    public static func makeSelfSignedRoot(
        trustDomain: String, algorithm: KeyAlgorithm = .ecdsaP256,
        validity: Duration = MeshCAConstants.defaultRootCertificateTTL, now: Date = Date()
    ) throws(CertificateAuthorityError) -> SigningAuthority {
        do {
            let key = try algorithm.generatePrivateKey()
            let name = try DistinguishedName {
                OrganizationName(trustDomain)
                CommonName("SwiftMesh Root CA \(Int(now.timeIntervalSince1970))")
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: .randomPositive(),
                publicKey: key.publicKey,
                notValidBefore: now.addingTimeInterval(-MeshCAConstants.defaultClockSkewAllowance.timeInterval),
                notValidAfter: now.addingTimeInterval(validity.timeInterval),
                issuer: name,
                subject: name,
                signatureAlgorithm: algorithm.signatureAlgorithm,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                    Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: key.publicKey)
                },
                issuerPrivateKey: key)
            return try SigningAuthority(certificate: certificate, privateKey: key, root: certificate, now: now)
        } catch let error as CertificateAuthorityError {
            throw error
        } catch {
            throw .signingFailed("could not create a self-signed root: \(error)")
        }
    }
}

extension Certificate.SerialNumber {
    /// A random positive 128-bit serial number (RFC 5280 allows up to 20 octets).
    static func randomPositive() -> Certificate.SerialNumber {
        // Two 64-bit draws (one system call each), not one draw per byte.
        var generator = SystemRandomNumberGenerator()
        let high = generator.next()
        let low = generator.next()
        var bytes = (0..<16).map { i in UInt8(truncatingIfNeeded: (i < 8 ? high : low) >> (UInt64(i % 8) * 8)) }
        bytes[0] = (bytes[0] & 0x7F) | 0x01  // positive and no leading zero octet
        return Certificate.SerialNumber(bytes: bytes)
    }
}

extension Duration {
    /// The duration in seconds as a Foundation time interval.
    var timeInterval: TimeInterval {
        let parts = components
        return TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) / 1e18
    }
}
