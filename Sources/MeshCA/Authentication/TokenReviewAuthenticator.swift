import MeshAPI

/// The answer of a Kubernetes TokenReview.
public struct TokenReviewResult: Sendable, Hashable {
    /// Whether the API server accepted the token.
    public var authenticated: Bool
    /// `system:serviceaccount:<namespace>:<name>`.
    public var username: String
    /// The audiences the token was accepted for.
    public var audiences: [String]
    /// `status.user.extra`, e.g. `authentication.kubernetes.io/pod-name`.
    public var extra: [String: [String]]
    /// The API server's error text, when not authenticated.
    public var error: String?

    /// Creates a result.
    public init(
        authenticated: Bool, username: String = "", audiences: [String] = [], extra: [String: [String]] = [:],
        error: String? = nil
    ) {
        self.authenticated = authenticated
        self.username = username
        self.audiences = audiences
        self.extra = extra
        self.error = error
    }
}

/// Something that asks a Kubernetes API server to review a token (MeshDiscovery's Kubernetes
/// client can provide one).
public protocol TokenReviewer: Sendable {
    /// Reviews `token` for `audiences` in the cluster `clusterID` (nil: the local cluster).
    func review(token: String, audiences: [String], clusterID: String?) async throws -> TokenReviewResult
}

/// Authenticates a bearer token with a Kubernetes TokenReview, as istiod does.
public struct TokenReviewAuthenticator: CallerAuthenticator {
    /// `tokenreview`.
    public var name: String { "tokenreview" }
    /// The reviewer.
    public var reviewer: any TokenReviewer
    /// Audiences the token must be valid for.
    public var audiences: [String]
    /// The trust domain identities are issued in.
    public var trustDomain: String

    /// Creates the authenticator.
    public init(
        reviewer: any TokenReviewer, trustDomain: String, audiences: [String] = [MeshCAConstants.tokenAudience]
    ) {
        self.reviewer = reviewer
        self.trustDomain = trustDomain
        self.audiences = audiences
    }

    public func authenticate(_ credentials: CallerCredentials) async throws(AuthenticationError) -> CallerIdentity? {
        guard let token = credentials.bearerToken else { return nil }
        let result: TokenReviewResult
        do {
            result = try await reviewer.review(token: token, audiences: audiences, clusterID: credentials.clusterID)
        } catch {
            throw AuthenticationError(authenticator: name, reason: "token review failed: \(error)")
        }
        guard result.authenticated else {
            throw AuthenticationError(authenticator: name, reason: "token rejected: \(result.error ?? "not authenticated")")
        }
        guard result.audiences.isEmpty || result.audiences.contains(where: audiences.contains) else {
            throw AuthenticationError(authenticator: name, reason: "token audiences \(result.audiences) lack \(audiences)")
        }
        let parts = result.username.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "system", parts[1] == "serviceaccount" else {
            throw AuthenticationError(authenticator: name, reason: "\(result.username) is not a service account")
        }
        do {
            let identity = try SpiffeID(
                trustDomain: trustDomain, namespace: String(parts[2]), serviceAccount: String(parts[3]))
            return CallerIdentity(
                identity: identity, podName: result.extra["authentication.kubernetes.io/pod-name"]?.first,
                podUID: result.extra["authentication.kubernetes.io/pod-uid"]?.first,
                nodeName: result.extra["authentication.kubernetes.io/node-name"]?.first, authenticator: name)
        } catch {
            throw AuthenticationError(authenticator: name, reason: error.description)
        }
    }
}
