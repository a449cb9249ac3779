import SwiftASN1
import X509

/// Why PEM text could not be turned into certificates or keys.
public struct PEMError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Where the text came from (a file path, a field name).
    public var source: String
    /// What is wrong with it.
    public var reason: String

    /// Creates an error.
    public init(source: String, reason: String) {
        self.source = source
        self.reason = reason
    }

    public var description: String { "\(source): \(reason)" }
}

/// Reading and writing the PEM forms used by Istio: one certificate per string, bundles of
/// concatenated certificates, PKCS#8 private keys.
public enum PEMCodec {
    /// Parses every `CERTIFICATE` block in `text`, in order.
    /// - Parameters:
    ///   - text: One or more PEM certificates.
    ///   - source: Names the input in errors.
    ///   - allowEmpty: Whether text with no certificate is accepted.
    /// - Throws: ``PEMError`` naming the block that is not a certificate.
    public static func certificates(
        fromPEM text: String, source: String, allowEmpty: Bool = false
    ) throws(PEMError) -> [Certificate] {
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: text)
        } catch {
            throw PEMError(source: source, reason: "not valid PEM (\(error))")
        }
        var result: [Certificate] = []
        result.reserveCapacity(documents.count)
        for (index, document) in documents.enumerated() {
            guard document.discriminator == Certificate.defaultPEMDiscriminator else {
                throw PEMError(
                    source: source,
                    reason: "block \(index + 1) is \"\(document.discriminator)\", expected \"CERTIFICATE\"")
            }
            do {
                result.append(try Certificate(derEncoded: document.derBytes))
            } catch {
                throw PEMError(source: source, reason: "block \(index + 1) is not a valid X.509 certificate (\(error))")
            }
        }
        if result.isEmpty && !allowEmpty {
            throw PEMError(source: source, reason: "holds no certificate")
        }
        return result
    }

    /// Parses a private key in PKCS#8, SEC1 (`EC PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`) PEM.
    /// - Throws: ``PEMError`` when the text is not one of those.
    public static func privateKey(fromPEM text: String, source: String) throws(PEMError) -> Certificate.PrivateKey {
        do {
            return try Certificate.PrivateKey(pemEncoded: text)
        } catch {
            throw PEMError(source: source, reason: "not a supported private key (\(error))")
        }
    }

    /// The PEM of one certificate, ending in a newline.
    public static func pem(_ certificate: Certificate) throws(PEMError) -> String {
        do {
            return try certificate.serializeAsPEM().pemString + "\n"
        } catch {
            throw PEMError(source: "certificate", reason: "could not be encoded (\(error))")
        }
    }

    /// The concatenated PEM of several certificates.
    public static func pem(_ certificates: [Certificate]) throws(PEMError) -> String {
        var text = ""
        for certificate in certificates { text += try pem(certificate) }
        return text
    }

    /// The PKCS#8 PEM of a private key (PKCS#1 for RSA keys, as swift-crypto writes them).
    public static func pem(_ key: Certificate.PrivateKey) throws(PEMError) -> String {
        do {
            return try key.serializeAsPEM().pemString + "\n"
        } catch {
            throw PEMError(source: "private key", reason: "could not be encoded (\(error))")
        }
    }
}
