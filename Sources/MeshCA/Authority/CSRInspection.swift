import Crypto
import MeshAPI
import _CryptoExtras
import SwiftASN1
import X509

/// A CSR whose own signature has been checked.
struct VerifiedCSR: Sendable {
    let csr: CertificateSigningRequest
    /// The URIs, DNS names and other names the CSR asks for, as text.
    let requestedNames: [String]
}

enum CSRInspection {
    /// Parses PEM, checks the CSR's signature and its key, and lists what names it asks for.
    static func verify(pem: String) throws(CertificateAuthorityError) -> VerifiedCSR {
        guard pem.utf8.count <= MeshCAConstants.maximumCSRSize else {
            throw .malformedCSR("larger than \(MeshCAConstants.maximumCSRSize) bytes")
        }
        let document: PEMDocument
        do {
            document = try PEMDocument(pemString: pem)
        } catch {
            throw .malformedCSR("not a PEM block (\(error))")
        }
        guard document.discriminator == CertificateSigningRequest.defaultPEMDiscriminator else {
            throw .malformedCSR("PEM block is \"\(document.discriminator)\", expected \"CERTIFICATE REQUEST\"")
        }
        let csr: CertificateSigningRequest
        do {
            csr = try CertificateSigningRequest(derEncoded: document.derBytes)
        } catch {
            throw .malformedCSR("not a PKCS#10 request (\(error))")
        }
        try checkKey(csr.publicKey)
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw .invalidCSRSignature
        }
        return VerifiedCSR(csr: csr, requestedNames: try requestedNames(csr))
    }

    static func checkKey(_ key: Certificate.PublicKey) throws(CertificateAuthorityError) {
        if P256.Signing.PublicKey(key) != nil || P384.Signing.PublicKey(key) != nil { return }
        if let rsa = _RSA.Signing.PublicKey(key) {
            guard rsa.keySizeInBits >= 2048 else {
                throw .unsupportedCSRKey("RSA key of \(rsa.keySizeInBits) bits; at least 2048 required")
            }
            return
        }
        throw .unsupportedCSRKey("only ECDSA P-256/P-384 and RSA keys are signed")
    }

    static func requestedNames(_ csr: CertificateSigningRequest) throws(CertificateAuthorityError) -> [String] {
        let request: ExtensionRequest?
        do {
            request = try csr.attributes.extensionRequest
        } catch {
            throw .malformedCSR("unreadable extension request (\(error))")
        }
        guard let extensions = request?.extensions else { return [] }
        let sans: SubjectAlternativeNames?
        do {
            sans = try extensions.subjectAlternativeNames
        } catch {
            throw .malformedCSR("unreadable subjectAltName (\(error))")
        }
        return (sans ?? SubjectAlternativeNames()).map { name in
            switch name {
            case .uniformResourceIdentifier(let uri): return uri
            case .dnsName(let dns): return "DNS:\(dns)"
            case .rfc822Name(let mail): return "email:\(mail)"
            case .ipAddress(let ip): return "IP:\(ip.bytes.map(String.init).joined(separator: "."))"
            default: return "\(name)"
            }
        }
    }

    /// Refuses a CSR that names anything other than `identity`. A CSR that names nothing gets
    /// the caller's identity.
    static func check(_ csr: VerifiedCSR, allows identity: SpiffeID) throws(CertificateAuthorityError) {
        let wanted = identity.description
        for name in csr.requestedNames where name != wanted {
            throw .identityMismatch(requested: csr.requestedNames, authorized: identity)
        }
    }
}
