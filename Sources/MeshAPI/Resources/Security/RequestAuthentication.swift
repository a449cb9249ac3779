/// `security.istio.io` RequestAuthentication: which JSON Web Tokens a workload accepts.
///
/// A request carrying an invalid token is rejected (401); a request with no token is
/// accepted without a request principal. Pair it with an AuthorizationPolicy
/// (`requestPrincipals: ["*"]`) to require a token.
public struct RequestAuthentication: MeshResource {
    public static let apiGroup = "security.istio.io"
    public static let kind = "RequestAuthentication"
    public static let apiVersions = ["v1", "v1beta1"]

    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    public var spec: Spec?
    public var status: JSONValue?

    public init(
        apiVersion: String = "security.istio.io/v1", kind: String = "RequestAuthentication",
        metadata: ObjectMeta, spec: Spec? = Spec(), status: JSONValue? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// The body of a RequestAuthentication.
    public struct Spec: Codable, Sendable, Hashable {
        /// Workloads the policy applies to; all workloads of the namespace when absent.
        /// Mutually exclusive with `targetRef` and `targetRefs`.
        public var selector: IstioType.WorkloadSelector?
        /// Deprecated single form of `targetRefs`.
        public var targetRef: IstioType.PolicyTargetReference?
        /// Resources the policy is attached to (at most 16).
        public var targetRefs: [IstioType.PolicyTargetReference]?
        /// The accepted token issuers (at most 4096).
        public var jwtRules: [JWTRule]?

        public init(
            selector: IstioType.WorkloadSelector? = nil, targetRef: IstioType.PolicyTargetReference? = nil,
            targetRefs: [IstioType.PolicyTargetReference]? = nil, jwtRules: [JWTRule]? = nil
        ) {
            self.selector = selector
            self.targetRef = targetRef
            self.targetRefs = targetRefs
            self.jwtRules = jwtRules
        }
    }

    /// How to validate tokens of one issuer.
    public struct JWTRule: Codable, Sendable, Hashable {
        /// The `iss` the token must carry. Istio requires this or `jwksUri`.
        public var issuer: String?
        /// Accepted `aud` values (any one); no audience check when absent.
        public var audiences: [String]?
        /// URL of the public keys (http or https, at most 2048 characters). With neither this
        /// nor `jwks`, keys come from the issuer's OpenID discovery document.
        public var jwksUri: String?
        /// The CRD's snake_case spelling of `jwksUri`, accepted as an alias.
        public var jwks_uri: String?
        /// Inline JSON Web Key Set. Mutually exclusive with `jwksUri`.
        public var jwks: String?
        /// Headers holding the token; by default `Authorization: Bearer <token>`.
        public var fromHeaders: [JWTHeader]?
        /// Query parameters holding the token; by default `access_token`.
        public var fromParams: [String]?
        /// Header to which the verified payload is written, base64-encoded.
        public var outputPayloadToHeader: String?
        /// Cookies holding the token.
        public var fromCookies: [String]?
        /// Keep the token on the request sent upstream (false when absent).
        public var forwardOriginalToken: Bool?
        /// Claims copied to request headers after verification.
        public var outputClaimToHeaders: [ClaimToHeader]?
        /// How long to wait for the JWKS to be fetched (Go duration, e.g. `5s`); 5 s when absent.
        public var timeout: String?
        /// Extra claims whose value is a space-separated list (`scope` and `permission` always are).
        public var spaceDelimitedClaims: [String]?

        public init(
            issuer: String? = nil, audiences: [String]? = nil, jwksUri: String? = nil, jwks_uri: String? = nil,
            jwks: String? = nil, fromHeaders: [JWTHeader]? = nil, fromParams: [String]? = nil,
            outputPayloadToHeader: String? = nil, fromCookies: [String]? = nil, forwardOriginalToken: Bool? = nil,
            outputClaimToHeaders: [ClaimToHeader]? = nil, timeout: String? = nil, spaceDelimitedClaims: [String]? = nil
        ) {
            self.issuer = issuer
            self.audiences = audiences
            self.jwksUri = jwksUri
            self.jwks_uri = jwks_uri
            self.jwks = jwks
            self.fromHeaders = fromHeaders
            self.fromParams = fromParams
            self.outputPayloadToHeader = outputPayloadToHeader
            self.fromCookies = fromCookies
            self.forwardOriginalToken = forwardOriginalToken
            self.outputClaimToHeaders = outputClaimToHeaders
            self.timeout = timeout
            self.spaceDelimitedClaims = spaceDelimitedClaims
        }

        /// `jwksUri`, or its snake_case alias.
        public var effectiveJwksUri: String? { jwksUri ?? jwks_uri }

        /// The JWKS fetch timeout in seconds (5 when absent or malformed).
        public var timeoutSeconds: Double { timeout.flatMap(Rules.parseDuration) ?? 5 }
    }

    /// A header that may carry the token.
    public struct JWTHeader: Codable, Sendable, Hashable {
        /// The header name. Required.
        public var name: String
        /// Text before the token in the value, e.g. `"Bearer "`.
        public var prefix: String?

        public init(name: String, prefix: String? = nil) {
            self.name = name
            self.prefix = prefix
        }
    }

    /// Copies one claim of a verified token to a request header.
    public struct ClaimToHeader: Codable, Sendable, Hashable {
        /// The header to write (letters, digits, '-' and '_'). Required.
        public var header: String
        /// The claim to copy; nested claims are written `a.b`. Required.
        public var claim: String

        public init(header: String, claim: String) {
            self.header = header
            self.claim = claim
        }
    }

    public func validate(into context: inout ValidationContext) {
        let specPath = FieldPath.root("spec")
        let spec = self.spec ?? Spec()
        SecurityRules.validateDryRunAnnotation(metadata, kind: Self.kind, authorizationAction: nil, into: &context)
        SecurityRules.validateScope(
            selector: spec.selector, targetRef: spec.targetRef, targetRefs: spec.targetRefs, spec: specPath,
            into: &context)
        guard let rules = spec.jwtRules else { return }
        if rules.count > 4096 {
            context.error(specPath("jwtRules"), "at most 4096 jwtRules are allowed, found \(rules.count)")
        }
        for (i, rule) in rules.enumerated() {
            Self.validateRule(rule, at: specPath("jwtRules")[i], into: &context)
        }
    }

    static func validateRule(_ rule: JWTRule, at path: FieldPath, into context: inout ValidationContext) {
        for (n, audience) in (rule.audiences ?? []).enumerated() where audience.isEmpty {
            context.error(path("audiences")[n], "an audience must be a non-empty string")
        }
        if let issuer = rule.issuer, issuer.isEmpty {
            context.error(path("issuer"), "issuer must not be empty; set the token's iss, e.g. https://accounts.example.com")
        } else if rule.issuer == nil && (rule.effectiveJwksUri ?? "").isEmpty {
            context.error(path("issuer"), "required field is missing: set issuer (the token's iss) or jwksUri")
        }
        for name in ["jwksUri", "jwks_uri"] {
            guard let uri = name == "jwksUri" ? rule.jwksUri : rule.jwks_uri else { continue }
            if let problem = SecurityRules.jwksURIProblem(uri) {
                context.error(path(name), problem)
            } else if let warning = SecurityRules.jwksURIWarning(uri) {
                context.warning(path(name), warning)
            }
        }
        if rule.jwksUri != nil && rule.jwks_uri != nil {
            context.error(path("jwks_uri"), "jwks_uri is an alias of jwksUri; set only one of them")
        }
        if let jwks = rule.jwks {
            if rule.effectiveJwksUri != nil {
                context.error(path("jwks"), "only one of jwks or jwksUri can be set; remove one of them")
            }
            let (problem, privateKeys) = SecurityRules.inspectJWKS(jwks)
            if let problem {
                context.error(path("jwks"), problem)
            }
            for index in privateKeys {
                context.warning(path("jwks"),
                    "jwks key at index \(index) contains private key material; only public keys are used for verification, so publish the public key only")
            }
        }
        for (n, header) in (rule.fromHeaders ?? []).enumerated() where header.name.isEmpty {
            context.error(path("fromHeaders")[n]("name"), "a token header name must be a non-empty string, e.g. Authorization")
        }
        for (n, param) in (rule.fromParams ?? []).enumerated() where param.isEmpty {
            context.error(path("fromParams")[n], "a token query parameter must be a non-empty string, e.g. access_token")
        }
        for (n, cookie) in (rule.fromCookies ?? []).enumerated() where cookie.isEmpty {
            context.error(path("fromCookies")[n], "a token cookie name must be a non-empty string")
        }
        for (n, output) in (rule.outputClaimToHeaders ?? []).enumerated() {
            let outputPath = path("outputClaimToHeaders")[n]
            if output.header.isEmpty {
                context.error(outputPath("header"), "header must be a non-empty header name, e.g. x-jwt-claim-sub")
            } else if !SecurityRules.isStrictHeaderName(output.header) {
                context.error(outputPath("header"),
                    "header \"\(output.header)\" is not a valid header name; use only letters, digits, '-' and '_'")
            }
            if output.claim.isEmpty {
                context.error(outputPath("claim"), "claim must be a non-empty claim name, e.g. sub")
            }
        }
        if let timeout = rule.timeout {
            if let seconds = Rules.parseDuration(timeout) {
                let milliseconds = seconds * 1000
                if milliseconds < 1 {
                    context.error(path("timeout"), "timeout must be at least 1ms, found \"\(timeout)\"")
                } else if abs(milliseconds - milliseconds.rounded()) > 1e-6 {
                    context.error(path("timeout"), "timeout \"\(timeout)\" must be a whole number of milliseconds")
                }
            } else {
                context.error(path("timeout"), "timeout \"\(timeout)\" is not a duration; use e.g. 5s or 500ms")
            }
        }
        if let claims = rule.spaceDelimitedClaims {
            if claims.count > 64 {
                context.error(path("spaceDelimitedClaims"), "at most 64 spaceDelimitedClaims are allowed, found \(claims.count)")
            }
            for (n, claim) in claims.enumerated() where claim.isEmpty {
                context.error(path("spaceDelimitedClaims")[n], "a claim name must be a non-empty string")
            }
        }
    }
}
