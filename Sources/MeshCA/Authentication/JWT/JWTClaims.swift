import Foundation

/// The claims of a Kubernetes service-account token that the CA reads.
public struct JWTClaims: Codable, Sendable, Hashable {
    /// `iss`.
    public var issuer: String?
    /// `sub`, e.g. `system:serviceaccount:ns:sa`.
    public var subject: String?
    /// `aud`: one string or an array; kept as an array.
    public var audiences: [String]
    /// `exp`, seconds since the epoch.
    public var expiresAt: Double?
    /// `nbf`, seconds since the epoch.
    public var notBefore: Double?
    /// `iat`, seconds since the epoch.
    public var issuedAt: Double?
    /// The `kubernetes.io` claim of projected service-account tokens.
    public var kubernetes: KubernetesClaims?

    /// The `kubernetes.io` claim.
    public struct KubernetesClaims: Codable, Sendable, Hashable {
        /// The pod's namespace.
        public var namespace: String?
        /// The service account.
        public var serviceAccount: NamedObject?
        /// The pod the token was bound to.
        public var pod: NamedObject?
        /// The node the pod runs on (Kubernetes ≥ 1.30 with pod-node info in tokens).
        public var node: NamedObject?

        /// Creates the claim.
        public init(namespace: String?, serviceAccount: NamedObject?, pod: NamedObject? = nil, node: NamedObject? = nil) {
            self.namespace = namespace
            self.serviceAccount = serviceAccount
            self.pod = pod
            self.node = node
        }

        enum CodingKeys: String, CodingKey {
            case namespace
            case serviceAccount = "serviceaccount"
            case pod
            case node
        }
    }

    /// `{ "name": …, "uid": … }`.
    public struct NamedObject: Codable, Sendable, Hashable {
        /// The object's name.
        public var name: String?
        /// The object's UID.
        public var uid: String?

        /// Creates the object reference.
        public init(name: String?, uid: String? = nil) {
            self.name = name
            self.uid = uid
        }
    }

    /// Creates claims.
    public init(
        issuer: String?, subject: String? = nil, audiences: [String], expiresAt: Double?, notBefore: Double? = nil,
        issuedAt: Double? = nil, kubernetes: KubernetesClaims? = nil
    ) {
        self.issuer = issuer
        self.subject = subject
        self.audiences = audiences
        self.expiresAt = expiresAt
        self.notBefore = notBefore
        self.issuedAt = issuedAt
        self.kubernetes = kubernetes
    }

    /// Claims for a projected service-account token, as the kubelet would request them.
    public static func serviceAccountToken(
        issuer: String, namespace: String, serviceAccount: String, audiences: [String] = [MeshCAConstants.tokenAudience],
        podName: String? = nil, nodeName: String? = nil, lifetime: Duration = .seconds(43200), now: Date = Date()
    ) -> JWTClaims {
        let issued = now.timeIntervalSince1970.rounded(.down)
        return JWTClaims(
            issuer: issuer, subject: "system:serviceaccount:\(namespace):\(serviceAccount)", audiences: audiences,
            expiresAt: issued + lifetime.timeInterval, notBefore: issued, issuedAt: issued,
            kubernetes: KubernetesClaims(
                namespace: namespace, serviceAccount: NamedObject(name: serviceAccount, uid: UUID().uuidString.lowercased()),
                pod: podName.map { NamedObject(name: $0, uid: UUID().uuidString.lowercased()) },
                node: nodeName.map { NamedObject(name: $0) }))
    }

    enum CodingKeys: String, CodingKey {
        case issuer = "iss"
        case subject = "sub"
        case audiences = "aud"
        case expiresAt = "exp"
        case notBefore = "nbf"
        case issuedAt = "iat"
        case kubernetes = "kubernetes.io"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        issuer = try container.decodeIfPresent(String.self, forKey: .issuer)
        subject = try container.decodeIfPresent(String.self, forKey: .subject)
        if let single = try? container.decodeIfPresent(String.self, forKey: .audiences) {
            audiences = [single]
        } else {
            audiences = try container.decodeIfPresent([String].self, forKey: .audiences) ?? []
        }
        expiresAt = try container.decodeIfPresent(Double.self, forKey: .expiresAt)
        notBefore = try container.decodeIfPresent(Double.self, forKey: .notBefore)
        issuedAt = try container.decodeIfPresent(Double.self, forKey: .issuedAt)
        kubernetes = try container.decodeIfPresent(KubernetesClaims.self, forKey: .kubernetes)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(issuer, forKey: .issuer)
        try container.encodeIfPresent(subject, forKey: .subject)
        try container.encode(audiences, forKey: .audiences)
        try container.encodeIfPresent(expiresAt.map { Int64($0) }, forKey: .expiresAt)
        try container.encodeIfPresent(notBefore.map { Int64($0) }, forKey: .notBefore)
        try container.encodeIfPresent(issuedAt.map { Int64($0) }, forKey: .issuedAt)
        try container.encodeIfPresent(kubernetes, forKey: .kubernetes)
    }
}
