import MeshAPI
import X509

/// Why a certificate does not carry a usable SPIFFE identity.
public struct CertificateIdentityError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public var reason: String
    /// Creates an error.
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}

extension Certificate {
    /// The certificate's single SPIFFE identity.
    ///
    /// Istio certificates carry exactly one URI SAN and no other names. A certificate with
    /// several URIs, or with DNS/IP/e-mail names next to the URI, is refused: identities are
    /// compared exactly.
    public func spiffeIdentity() throws(CertificateIdentityError) -> SpiffeID {
        let names: SubjectAlternativeNames?
        do {
            names = try extensions.subjectAlternativeNames
        } catch {
            throw CertificateIdentityError(reason: "unreadable subjectAltName (\(error))")
        }
        guard let names, !names.isEmpty else { throw CertificateIdentityError(reason: "no subjectAltName") }
        var uris: [String] = []
        for name in names {
            guard case .uniformResourceIdentifier(let uri) = name else {
                throw CertificateIdentityError(reason: "subjectAltName holds a non-URI name (\(name))")
            }
            uris.append(uri)
        }
        guard uris.count == 1 else {
            throw CertificateIdentityError(reason: "subjectAltName holds \(uris.count) URIs, expected exactly one")
        }
        do {
            return try SpiffeID(parsing: uris[0])
        } catch {
            throw CertificateIdentityError(reason: error.description)
        }
    }
}
