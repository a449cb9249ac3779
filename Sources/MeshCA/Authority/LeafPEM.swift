import Foundation
import SwiftASN1
import X509

/// PEM text of an issued leaf, written directly.
///
/// Byte for byte what ``PEMCodec/pem(_:)-(Certificate)`` writes (BEGIN line, base64 in lines of 64
/// characters, END line, final newline), without `PEMDocument.pemString`, whose line splitting
/// walks the base64 text by `Substring` index and was 12% of a signing in a profile.
enum LeafPEM {
    static let lineLength = 64

    static func encode(_ certificate: Certificate) throws -> String {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let base64 = Array(Data(serializer.serializedBytes).base64EncodedString().utf8)
        let header = Array("-----BEGIN CERTIFICATE-----\n".utf8)
        let footer = Array("-----END CERTIFICATE-----\n".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(header.count + base64.count + base64.count / lineLength + 1 + footer.count)
        text.append(contentsOf: header)
        var start = 0
        while start < base64.count {
            let end = min(start + lineLength, base64.count)
            text.append(contentsOf: base64[start..<end])
            text.append(UInt8(ascii: "\n"))
            start = end
        }
        text.append(contentsOf: footer)
        return String(decoding: text, as: UTF8.self)
    }
}
