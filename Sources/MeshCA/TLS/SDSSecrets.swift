/// A secret as Envoy's SDS serves it, in neutral form: MeshXDS converts it to
/// `envoy.extensions.transport_sockets.tls.v3.Secret`.
public enum SDSSecret: Sendable, Hashable {
    /// The workload certificate (resource `default`): `tls_certificate`.
    case tlsCertificate(name: String, certificateChainPEM: String, privateKeyPEM: String)
    /// The trust bundle (resource `ROOTCA`): `validation_context.trusted_ca`.
    case validationContext(name: String, trustedCAPEM: String)

    /// The SDS resource name.
    public var name: String {
        switch self {
        case .tlsCertificate(let name, _, _), .validationContext(let name, _): return name
        }
    }
}

/// Serves a workload's certificate and trust bundle under Istio's SDS resource names.
public struct SDSSecretSource: Sendable {
    /// The identity whose certificate is served.
    public let workloadIdentity: WorkloadIdentity

    /// Creates a source.
    public init(workloadIdentity: WorkloadIdentity) {
        self.workloadIdentity = workloadIdentity
    }

    /// The secrets of a certificate: `default` and `ROOTCA`.
    public static func secrets(for certificate: WorkloadCertificate) throws(PEMError) -> [SDSSecret] {
        [
            .tlsCertificate(
                name: MeshCAConstants.sdsWorkloadCertificateName,
                certificateChainPEM: try certificate.certificateChainPEM(),
                privateKeyPEM: try certificate.privateKeyPEM()),
            .validationContext(name: MeshCAConstants.sdsRootCAName, trustedCAPEM: try certificate.trustBundlePEM()),
        ]
    }

    /// The secret named `name` (`default` or `ROOTCA`), or nil for another name or while there
    /// is no valid certificate.
    public func secret(named name: String) async throws(PEMError) -> SDSSecret? {
        guard let certificate = await workloadIdentity.certificate else { return nil }
        return try Self.secrets(for: certificate).first { $0.name == name }
    }

    /// Both secrets after every rotation, starting with the current certificate.
    public func updates() async -> AsyncCompactMapSequence<AsyncStream<WorkloadCertificate>, [SDSSecret]> {
        await workloadIdentity.rotations().compactMap { try? Self.secrets(for: $0) }
    }
}
