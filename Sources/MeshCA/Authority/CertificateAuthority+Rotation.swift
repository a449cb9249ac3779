import X509

/// Root rotation: distribute a new root, sign with it, then drop the old one.
extension CertificateAuthority {
    /// Adds a root to the trust bundle without signing with it yet (first step of a rotation:
    /// distribute the new root before any certificate chains to it).
    public func addTrustedRoot(_ root: Certificate) throws(CertificateAuthorityError) {
        guard root.issuer == root.subject, root.publicKey.isValidSignature(root.signature, for: root) else {
            throw .rootRotation("\(root.subject) is not a self-signed root")
        }
        try update { state in state.trustBundle.insert(root) }
        logger.info("added trusted root", metadata: ["subject": "\(root.subject)"])
    }

    /// Signs with `signer` from now on; its root joins the trust bundle if it is not there yet.
    public func activate(_ signer: SigningAuthority) throws(CertificateAuthorityError) {
        try update { state in
            state.trustBundle.insert(signer.root)
            state.signer = signer
        }
        logger.info("signing with new CA", metadata: ["subject": "\(signer.certificate.subject)"])
    }

    /// Creates a new self-signed root, trusts it and signs with it. The old root stays trusted
    /// until ``removeTrustedRoot(_:)``.
    @discardableResult
    public func rotateToNewSelfSignedRoot(
        algorithm: KeyAlgorithm = .ecdsaP256, validity: Duration = MeshCAConstants.defaultRootCertificateTTL
    ) throws(CertificateAuthorityError) -> SigningAuthority {
        let signer = try SigningAuthority.makeSelfSignedRoot(
            trustDomain: configuration.trustDomain, algorithm: algorithm, validity: validity)
        try activate(signer)
        return signer
    }

    /// Stops trusting a root (last step of a rotation). Refused for the root currently signing.
    public func removeTrustedRoot(_ root: Certificate) throws(CertificateAuthorityError) {
        try update { state throws(CertificateAuthorityError) in
            guard state.signer.root != root else {
                throw .rootRotation("\(root.subject) is the root of the active signer; activate another signer first")
            }
            guard state.trustBundle.remove(root) else {
                throw .rootRotation("\(root.subject) is not in the trust bundle")
            }
        }
        logger.info("removed trusted root", metadata: ["subject": "\(root.subject)"])
    }

    func update(
        _ body: (inout State) throws(CertificateAuthorityError) -> Void
    ) throws(CertificateAuthorityError) {
        let encoding = configuration.rootEncoding
        try state.withLock { (current: inout State) throws(CertificateAuthorityError) -> Void in
            var next = current
            try body(&next)
            current = try Self.makeState(signer: next.signer, bundle: next.trustBundle, encoding: encoding)
        }
    }
}
