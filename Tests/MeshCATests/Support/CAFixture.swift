import Crypto
import Foundation
import MeshAPI
import X509
import _CryptoExtras

@testable import MeshCA

/// An authority, a token issuer and a request handler wired as istiod would wire them.
struct CAFixture {
    static let issuer = "https://kubernetes.default.svc.cluster.local"
    let authority: CertificateAuthority
    let signer: JWTSigner
    let handler: CertificateRequestHandler
    let nodeAuthorizer: StaticNodeAuthorizer

    init(
        configuration: CertificateAuthority.Configuration = .init(),
        workloadsByNode: [String: Set<SpiffeID>] = [
            "node-a": [spiffe("default", "app-a")],
            "node-b": [spiffe("default", "app-b")],
        ],
        nodeByAddress: [String: String] = [:]
    ) throws {
        authority = try makeAuthority(configuration: configuration)
        signer = JWTSigner.es256(P256.Signing.PrivateKey(), keyID: "k1")
        let verifier = JWTVerifier(issuer: Self.issuer, keySet: JSONWebKeySet(keys: [signer.verificationKey]))
        nodeAuthorizer = StaticNodeAuthorizer(workloadsByNode: workloadsByNode, nodeByAddress: nodeByAddress)
        handler = CertificateRequestHandler(
            authority: authority,
            authenticators: [
                KubernetesJWTAuthenticator(verifier: verifier, trustDomain: configuration.trustDomain),
                PeerCertificateAuthenticator(authority: authority),
            ],
            impersonation: .init(nodeAuthorizer: nodeAuthorizer))
    }

    func token(
        namespace: String, serviceAccount: String, node: String? = nil, audiences: [String] = ["istio-ca"],
        now: Date = Date(), lifetime: Duration = .seconds(3600), signer: JWTSigner? = nil, issuer: String = CAFixture.issuer
    ) throws -> String {
        try (signer ?? self.signer).sign(
            .serviceAccountToken(
                issuer: issuer, namespace: namespace, serviceAccount: serviceAccount, audiences: audiences,
                podName: "\(serviceAccount)-pod", nodeName: node, lifetime: lifetime, now: now))
    }

    static func credentials(token: String, remotePeer: String = "ipv4:127.0.0.1:5000") -> CallerCredentials {
        CallerCredentials(metadata: ["authorization": ["Bearer \(token)"]], remotePeer: remotePeer)
    }
}
