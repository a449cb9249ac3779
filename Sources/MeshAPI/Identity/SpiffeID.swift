/// A SPIFFE identity as Istio issues it: `spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>`.
///
/// Istio only issues identities of this shape, and ztunnel and Envoy compare them as exact
/// strings, so parsing is strict: no query, fragment, port, empty segment or trailing slash.
public struct SpiffeID: Hashable, Sendable, Codable, CustomStringConvertible, LosslessStringConvertible {
    /// The trust domain, e.g. `cluster.local`.
    public let trustDomain: String
    /// The Kubernetes namespace of the workload.
    public let namespace: String
    /// The Kubernetes service account of the workload.
    public let serviceAccount: String

    /// The URI scheme every SPIFFE ID starts with.
    public static let scheme = "spiffe://"

    /// Creates an identity after checking each part.
    /// - Throws: ``SpiffeIDError`` naming the part that is invalid.
    public init(trustDomain: String, namespace: String, serviceAccount: String) throws(SpiffeIDError) {
        try Self.checkTrustDomain(trustDomain)
        try Self.checkSegment(namespace, part: "namespace")
        try Self.checkSegment(serviceAccount, part: "service account")
        self.trustDomain = trustDomain
        self.namespace = namespace
        self.serviceAccount = serviceAccount
    }

    /// Parses `spiffe://td/ns/NS/sa/SA`.
    /// - Throws: ``SpiffeIDError`` saying what is wrong with the string.
    public init(parsing uri: String) throws(SpiffeIDError) {
        guard uri.hasPrefix(Self.scheme) else {
            throw SpiffeIDError(input: uri, reason: "must start with \(Self.scheme)")
        }
        let rest = uri.dropFirst(Self.scheme.count)
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, parts[1] == "ns", parts[3] == "sa" else {
            throw SpiffeIDError(
                input: uri, reason: "must have the form spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>")
        }
        do {
            try self.init(trustDomain: parts[0], namespace: parts[2], serviceAccount: parts[4])
        } catch {
            throw SpiffeIDError(input: uri, reason: error.reason)
        }
    }

    /// Parses a string, returning nil when it is not a valid Istio SPIFFE ID.
    public init?(_ description: String) {
        guard let id = try? SpiffeID(parsing: description) else { return nil }
        self = id
    }

    /// The URI form, `spiffe://td/ns/NS/sa/SA`.
    public var description: String {
        "\(Self.scheme)\(trustDomain)/ns/\(namespace)/sa/\(serviceAccount)"
    }

    /// The identity without the scheme, as Istio's AuthorizationPolicy `principals` write it:
    /// `td/ns/NS/sa/SA`.
    public var principal: String {
        "\(trustDomain)/ns/\(namespace)/sa/\(serviceAccount)"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    private static func checkTrustDomain(_ value: String) throws(SpiffeIDError) {
        guard !value.isEmpty else { throw SpiffeIDError(input: value, reason: "trust domain is empty") }
        // SPIFFE trust domains: lowercase letters, digits, '.', '-', '_'.
        for scalar in value.unicodeScalars {
            switch scalar {
            case "a"..."z", "0"..."9", ".", "-", "_": continue
            default:
                throw SpiffeIDError(
                    input: value,
                    reason: "trust domain may hold only lowercase letters, digits, '.', '-' and '_'")
            }
        }
    }

    private static func checkSegment(_ value: String, part: String) throws(SpiffeIDError) {
        guard !value.isEmpty else { throw SpiffeIDError(input: value, reason: "\(part) is empty") }
        guard value != ".", value != ".." else {
            throw SpiffeIDError(input: value, reason: "\(part) may not be '.' or '..'")
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", ".", "-", "_": continue
            default:
                throw SpiffeIDError(
                    input: value, reason: "\(part) may hold only letters, digits, '.', '-' and '_'")
            }
        }
    }
}

/// Why a string is not a valid SPIFFE ID.
public struct SpiffeIDError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The text that was rejected.
    public let input: String
    /// What is wrong with it.
    public let reason: String

    public var description: String { "invalid SPIFFE ID \"\(input)\": \(reason)" }
}
