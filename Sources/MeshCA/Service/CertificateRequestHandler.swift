import Foundation
import Logging
import MeshAPI
import Metrics

/// Istio's `CreateCertificate` logic, independent of gRPC: authenticate the caller, decide which
/// identity it may have (itself, or a workload on its node when it is a trusted node proxy),
/// then sign the CSR for exactly that identity.
public struct CertificateRequestHandler: Sendable {
    /// Who may impersonate.
    public struct ImpersonationPolicy: Sendable {
        /// Node-proxy accounts allowed to ask for other identities (default `istio-system/ztunnel`).
        public var trustedNodeAccounts: Set<ServiceAccountRef>
        /// Tells whether the requested workload runs on the caller's node. Without one,
        /// impersonation is always refused.
        public var nodeAuthorizer: (any NodeAuthorizer)?

        /// Creates a policy.
        public init(
            trustedNodeAccounts: Set<ServiceAccountRef> = MeshCAConstants.defaultTrustedNodeAccounts,
            nodeAuthorizer: (any NodeAuthorizer)?
        ) {
            self.trustedNodeAccounts = trustedNodeAccounts
            self.nodeAuthorizer = nodeAuthorizer
        }
    }

    /// The signer.
    public let authority: CertificateAuthority
    /// Tried in order.
    public let authenticators: AuthenticatorChain
    /// Impersonation rules.
    public let impersonation: ImpersonationPolicy
    private let logger: Logger
    private let requests: Counter
    private let refusals: @Sendable (String) -> Counter

    /// Creates the handler.
    public init(
        authority: CertificateAuthority, authenticators: [any CallerAuthenticator],
        impersonation: ImpersonationPolicy = ImpersonationPolicy(nodeAuthorizer: nil),
        logger: Logger = Logger(label: "swiftmesh.ca.service")
    ) {
        self.authority = authority
        self.authenticators = AuthenticatorChain(authenticators)
        self.impersonation = impersonation
        self.logger = logger
        self.requests = Counter(label: "mesh_ca_requests_total")
        self.refusals = { code in Counter(label: "mesh_ca_requests_refused_total", dimensions: [("code", code)]) }
    }

    /// Handles one `CreateCertificate` call.
    /// - Returns: The PEM chain: leaf first, intermediates, roots last, one certificate per string.
    /// - Throws: ``CertificateServiceError`` with the status and reason; nothing is issued then.
    public func createCertificate(
        _ request: CertificateRequest, credentials: CallerCredentials
    ) async throws(CertificateServiceError) -> [String] {
        requests.increment()
        do throws(CertificateServiceError) {
            let caller: CallerIdentity
            do {
                caller = try await authenticators.authenticate(credentials)
            } catch {
                throw CertificateServiceError(code: .unauthenticated, message: "authentication failed: \(error)")
            }
            let identity = try await identityToIssue(for: caller, metadata: request.metadata)
            let ttl: Duration? = request.validitySeconds > 0 ? .seconds(request.validitySeconds) : nil
            let issued: IssuedCertificate
            do {
                issued = try authority.sign(csrPEM: request.csrPEM, for: identity, ttl: ttl)
            } catch {
                throw Self.map(error)
            }
            logger.debug(
                "issued certificate",
                metadata: [
                    "identity": "\(identity)", "caller": "\(caller)",
                    "notAfter": "\(issued.leaf.notValidAfter)",
                ])
            return issued.pemChain
        } catch {
            refusals(error.code.rawValue).increment()
            logger.info("refused certificate request", metadata: ["reason": "\(error)", "peer": "\(credentials.remotePeer)"])
            throw error
        }
    }

    /// The identity the certificate will carry.
    func identityToIssue(
        for caller: CallerIdentity, metadata: [String: String]
    ) async throws(CertificateServiceError) -> SpiffeID {
        guard let requested = metadata[MeshCAConstants.impersonatedIdentityKey] else { return caller.identity }
        func refuse(_ reason: String) -> CertificateServiceError {
            CertificateServiceError(code: .unauthenticated, message: "request impersonation authentication failure: \(reason)")
        }
        let target: SpiffeID
        do {
            target = try SpiffeID(parsing: requested)
        } catch {
            throw refuse(error.description)
        }
        if target == caller.identity { return target }
        guard impersonation.trustedNodeAccounts.contains(caller.serviceAccount) else {
            throw refuse("caller \(caller.identity) is not a trusted node account")
        }
        guard let authorizer = impersonation.nodeAuthorizer else {
            throw refuse("no node authorizer is configured")
        }
        switch await authorizer.authorize(caller: caller, toImpersonate: target) {
        case .allowed:
            return target
        case .denied(let reason):
            throw refuse(reason)
        }
    }

    static func map(_ error: CertificateAuthorityError) -> CertificateServiceError {
        switch error {
        case .malformedCSR, .invalidCSRSignature, .unsupportedCSRKey:
            return CertificateServiceError(code: .invalidArgument, message: error.description)
        case .identityMismatch, .foreignTrustDomain:
            return CertificateServiceError(code: .permissionDenied, message: error.description)
        case .storage, .invalidCAMaterial, .signingFailed, .rootRotation:
            return CertificateServiceError(code: .internal, message: error.description)
        }
    }
}
