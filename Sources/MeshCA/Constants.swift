/// Protocol-level constants and defaults of MeshCA, kept in one place so they can be audited
/// against Istio's behaviour (see `shared/facts/ambient.md`, sections 3 and 4).
public enum MeshCAConstants {
    /// Full gRPC method path of Istio's CA.
    public static let createCertificateMethod = "/istio.v1.auth.IstioCertificateService/CreateCertificate"
    /// gRPC metadata key carrying `Bearer <token>`.
    public static let authorizationMetadataKey = "authorization"
    /// gRPC metadata key carrying the caller's cluster id.
    public static let clusterIDMetadataKey = "clusterid"
    /// Request-metadata (`google.protobuf.Struct`) key naming the identity a node proxy asks for.
    public static let impersonatedIdentityKey = "ImpersonatedIdentity"
    /// The audience a token must carry to be accepted by the CA.
    public static let tokenAudience = "istio-ca"
    /// The default cluster id.
    public static let defaultClusterID = "Kubernetes"
    /// The default trust domain.
    public static let defaultTrustDomain = "cluster.local"
    /// Lifetime of a workload certificate when the request asks for none (istiod: 24 h).
    public static let defaultWorkloadCertificateTTL: Duration = .seconds(24 * 3600)
    /// Upper bound on a workload certificate's lifetime (istiod's `MAX_WORKLOAD_CERT_TTL`: 90 days).
    public static let defaultMaximumWorkloadCertificateTTL: Duration = .seconds(90 * 24 * 3600)
    /// How far a certificate's not-before is set in the past, to tolerate clock skew.
    public static let defaultClockSkewAllowance: Duration = .seconds(60)
    /// Lifetime of a self-signed root (istiod: 10 years).
    public static let defaultRootCertificateTTL: Duration = .seconds(10 * 365 * 24 * 3600)
    /// Organization written into CA subjects, as istiod does.
    public static let caOrganization = "Istio"
    /// Node-proxy accounts (`namespace/serviceaccount`) trusted to impersonate in the ambient profile.
    public static let defaultTrustedNodeAccounts: Set<ServiceAccountRef> = [
        ServiceAccountRef(namespace: "istio-system", name: "ztunnel")
    ]
    /// Fraction of a certificate's lifetime after which the client renews it.
    public static let refreshFraction = 0.5
    /// First back-off delay after a failed certificate fetch.
    public static let initialBackoff: Duration = .milliseconds(500)
    /// Cap on the back-off delay.
    public static let maximumBackoff: Duration = .seconds(150)
    /// Certificate signing requests in flight at once per client manager.
    public static let maximumConcurrentCSRs = 8
    /// The SDS resource name of the workload certificate.
    public static let sdsWorkloadCertificateName = "default"
    /// The SDS resource name of the validation context (trust bundle).
    public static let sdsRootCAName = "ROOTCA"
    /// ALPN protocol offered by workload TLS.
    public static let alpnH2 = "h2"
    /// Largest bearer token accepted, in bytes.
    public static let maximumTokenSize = 16 * 1024
    /// Largest CSR accepted, in bytes of PEM.
    public static let maximumCSRSize = 64 * 1024
    /// Files of Istio's plugged-in CA (`cacerts`) layout.
    public enum CACertsFile {
        /// The signing certificate of this CA.
        public static let caCertificate = "ca-cert.pem"
        /// The private key of ``caCertificate``.
        public static let caKey = "ca-key.pem"
        /// The root certificate(s) the mesh trusts.
        public static let rootCertificate = "root-cert.pem"
        /// The chain from ``caCertificate`` up to (optionally including) the root.
        public static let certificateChain = "cert-chain.pem"
    }
}

/// A Kubernetes service account, `namespace/name`.
public struct ServiceAccountRef: Hashable, Sendable, CustomStringConvertible {
    /// The namespace.
    public var namespace: String
    /// The service account name.
    public var name: String

    /// Creates a reference.
    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// Parses `namespace/name`; returns nil for any other shape.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        self.init(namespace: String(parts[0]), name: String(parts[1]))
    }

    /// `namespace/name`.
    public var description: String { "\(namespace)/\(name)" }
}
