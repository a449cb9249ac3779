import Foundation
import X509
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loads and persists CA material in Istio's `cacerts` directory layout
/// (`ca-cert.pem`, `ca-key.pem`, `root-cert.pem`, `cert-chain.pem`).
public enum CAMaterialStore {
    /// Loads the self-signed root kept in `directory`, or creates one there on first start so that a
    /// restart keeps the same trust.
    ///
    /// The files written are `ca-cert.pem` and `root-cert.pem` (the same root) and `ca-key.pem`
    /// (mode 0600). A directory holding only some of them is an error, never overwritten.
    public static func loadOrCreateSelfSignedRoot(
        directory: URL, trustDomain: String, algorithm: KeyAlgorithm = .ecdsaP256,
        validity: Duration = MeshCAConstants.defaultRootCertificateTTL, now: Date = Date()
    ) throws(CertificateAuthorityError) -> SigningAuthority {
        let certURL = directory.appendingPathComponent(MeshCAConstants.CACertsFile.caCertificate)
        let keyURL = directory.appendingPathComponent(MeshCAConstants.CACertsFile.caKey)
        let rootURL = directory.appendingPathComponent(MeshCAConstants.CACertsFile.rootCertificate)
        let fm = FileManager.default
        let haveCert = fm.fileExists(atPath: certURL.path)
        let haveKey = fm.fileExists(atPath: keyURL.path)
        switch (haveCert, haveKey) {
        case (true, true):
            let certificate = try readCertificates(certURL)[0]
            let key = try readKey(keyURL)
            guard certificate.issuer == certificate.subject else {
                throw .invalidCAMaterial("\(certURL.path) is not self-signed; use loadPluggedIn for an intermediate CA")
            }
            return try SigningAuthority(certificate: certificate, privateKey: key, root: certificate, now: now)
        case (false, false):
            let authority = try SigningAuthority.makeSelfSignedRoot(
                trustDomain: trustDomain, algorithm: algorithm, validity: validity, now: now)
            do {
                try fm.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw .storage(path: directory.path, reason: "cannot create directory (\(error.localizedDescription))")
            }
            let keyPEM: String
            let certPEM: String
            do {
                keyPEM = try PEMCodec.pem(authority.privateKey)
                certPEM = try PEMCodec.pem(authority.certificate)
            } catch {
                throw .signingFailed(error.description)
            }
            try writeFile(keyPEM, to: keyURL, permissions: 0o600)
            try writeFile(certPEM, to: rootURL, permissions: 0o644)
            try writeFile(certPEM, to: certURL, permissions: 0o644)
            return authority
        default:
            throw .storage(
                path: directory.path,
                reason: "holds only one of \(certURL.lastPathComponent) and \(keyURL.lastPathComponent); refusing to overwrite")
        }
    }

    /// Loads a plugged-in CA from a `cacerts` directory, which makes this CA an intermediate.
    ///
    /// - `ca-cert.pem`: this CA's certificate; `ca-key.pem`: its key.
    /// - `root-cert.pem`: the root(s) of the mesh; the first one that `ca-cert.pem` chains to is
    ///   its root, and all are trusted.
    /// - `cert-chain.pem` (optional): from `ca-cert.pem` up to the root; when absent, `ca-cert.pem`
    ///   must be signed by a root directly.
    /// - Returns: The signing authority and the trust bundle from `root-cert.pem`.
    public static func loadPluggedIn(
        directory: URL, now: Date = Date()
    ) throws(CertificateAuthorityError) -> (authority: SigningAuthority, trustBundle: TrustBundle) {
        let certificate = try readCertificates(
            directory.appendingPathComponent(MeshCAConstants.CACertsFile.caCertificate))[0]
        let key = try readKey(directory.appendingPathComponent(MeshCAConstants.CACertsFile.caKey))
        let roots = try readCertificates(directory.appendingPathComponent(MeshCAConstants.CACertsFile.rootCertificate))
        let chainURL = directory.appendingPathComponent(MeshCAConstants.CACertsFile.certificateChain)
        let chain = FileManager.default.fileExists(atPath: chainURL.path) ? try readCertificates(chainURL) : []
        for root in roots where root.issuer != root.subject {
            throw .invalidCAMaterial("\(MeshCAConstants.CACertsFile.rootCertificate): \(root.subject) is not self-signed")
        }
        var lastError: CertificateAuthorityError?
        for root in roots {
            do {
                let authority = try SigningAuthority(
                    certificate: certificate, privateKey: key, chain: chain, root: root, now: now)
                return (authority, TrustBundle(roots: roots))
            } catch {
                lastError = error
            }
        }
        throw lastError ?? .invalidCAMaterial("\(MeshCAConstants.CACertsFile.rootCertificate) holds no root")
    }

    /// Writes a root bundle to `root-cert.pem` in `directory` (e.g. after a root rotation).
    public static func writeTrustBundle(_ bundle: TrustBundle, directory: URL) throws(CertificateAuthorityError) {
        let pem: String
        do { pem = try bundle.pem() } catch { throw .signingFailed(error.description) }
        try writeFile(pem, to: directory.appendingPathComponent(MeshCAConstants.CACertsFile.rootCertificate), permissions: 0o644)
    }

    static func readText(_ url: URL) throws(CertificateAuthorityError) -> String {
        do {
            return try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw .storage(path: url.path, reason: "cannot read (\(error.localizedDescription))")
        }
    }

    static func readCertificates(_ url: URL) throws(CertificateAuthorityError) -> [Certificate] {
        let text = try readText(url)
        do {
            return try PEMCodec.certificates(fromPEM: text, source: url.path)
        } catch {
            throw .invalidCAMaterial(error.description)
        }
    }

    static func readKey(_ url: URL) throws(CertificateAuthorityError) -> Certificate.PrivateKey {
        let text = try readText(url)
        do {
            return try PEMCodec.privateKey(fromPEM: text, source: url.path)
        } catch {
            throw .invalidCAMaterial(error.description)
        }
    }

    /// Writes through a temporary file created with `permissions`, then renames, so a reader
    /// never sees a partial file and a key is never world-readable.
    static func writeFile(_ text: String, to url: URL, permissions: Int) throws(CertificateAuthorityError) {
        let fm = FileManager.default
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UInt32.random(in: 0...UInt32.max)).tmp")
        // open(2) with O_EXCL and the final mode: the file never exists with wider permissions.
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, mode_t(permissions))
        guard fd >= 0 else {
            throw .storage(path: temporary.path, reason: "cannot create file (errno \(errno))")
        }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { posixWrite(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                close(fd)
                try? fm.removeItem(at: temporary)
                throw .storage(path: temporary.path, reason: "cannot write (errno \(errno))")
            }
            written += n
        }
        fsync(fd)
        close(fd)
        do {
            if fm.fileExists(atPath: url.path) {
                _ = try fm.replaceItemAt(url, withItemAt: temporary)
            } else {
                try fm.moveItem(at: temporary, to: url)
            }
        } catch {
            try? fm.removeItem(at: temporary)
            throw .storage(path: url.path, reason: "cannot write (\(error.localizedDescription))")
        }
    }
}

private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, buffer, count)
    #else
    return Darwin.write(fd, buffer, count)
    #endif
}
