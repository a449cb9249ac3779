import Foundation
import MeshAPI
import SwiftASN1
import X509

extension CertificateAuthority {
    /// Issues a serving certificate for the CA's own TLS endpoint (istiod's 15012), with DNS and
    /// IP SANs and a fresh key of `algorithm`.
    /// - Returns: The chain (leaf first, then intermediates; no root) and the key.
    public func issueServingCertificate(
        dnsNames: [String], ipAddresses: [String] = [], ttl: Duration = .seconds(24 * 3600),
        algorithm: KeyAlgorithm = .ecdsaP256, now: Date = Date()
    ) throws(CertificateAuthorityError) -> (chain: [Certificate], privateKey: Certificate.PrivateKey) {
        let snapshot = state.withLock { $0 }
        var names: [GeneralName] = dnsNames.map { .dnsName($0) }
        for ip in ipAddresses {
            guard let bytes = IPAddressBytes(ip)?.bytes else {
                throw .signingFailed("\"\(ip)\" is not an IPv4 or IPv6 address")
            }
            names.append(.ipAddress(ASN1OctetString(contentBytes: bytes[...])))
        }
        guard !names.isEmpty else { throw .signingFailed("a serving certificate needs at least one name") }
        do {
            let key = try algorithm.generatePrivateKey()
            let leaf = try Certificate(
                version: .v3, serialNumber: .randomPositive(), publicKey: key.publicKey,
                notValidBefore: now.addingTimeInterval(-configuration.clockSkewAllowance.timeInterval),
                notValidAfter: min(now.addingTimeInterval(ttl.timeInterval), snapshot.signer.certificate.notValidAfter),
                issuer: snapshot.signer.certificate.subject, subject: DistinguishedName(),
                signatureAlgorithm: snapshot.signer.privateKey.sha256SignatureAlgorithm,
                extensions: try Certificate.Extensions {
                    Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                    try ExtendedKeyUsage([.serverAuth, .clientAuth])
                    Critical(BasicConstraints.notCertificateAuthority)
                    AuthorityKeyIdentifier(keyIdentifier: snapshot.signerKeyIdentifier)
                    Critical(SubjectAlternativeNames(names))
                },
                issuerPrivateKey: snapshot.signer.privateKey)
            return ([leaf] + snapshot.signer.intermediates, key)
        } catch {
            throw .signingFailed("\(error)")
        }
    }
}
