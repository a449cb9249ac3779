import Logging
import MeshProto

/// The outcome of L4 authorization for one connection.
public struct L4Decision: Hashable, Sendable, CustomStringConvertible {
    /// Allowed or refused.
    public enum Verdict: Hashable, Sendable {
        /// The connection may proceed.
        case allow
        /// The connection is refused (HBONE answers 401; plaintext is closed).
        case deny
    }

    /// Allowed or refused.
    public let verdict: Verdict
    /// `ns/name` of the policy that decided; nil when no policy did (no ALLOW policies, or
    /// ALLOW policies exist and none matched).
    public let policy: String?
    /// ztunnel's wording: `explicitly denied by: ns/name`, `allow policies exist, but none
    /// allowed`, `allowed by: ns/name`, `no allow policies`.
    public let reason: String
    /// Keys of dry-run policies whose rules matched (logged, never enforced).
    public let dryRunMatches: [String]

    /// Whether the connection may proceed.
    public var isAllowed: Bool { verdict == .allow }

    /// `allow (reason)` / `deny (reason)`.
    public var description: String { "\(verdict == .allow ? "allow" : "deny") (\(reason))" }
}

/// The destination of an inbound connection as authorization needs it: its namespace and the
/// WORKLOAD_SELECTOR policies its `Workload.authorization_policies` lists.
public struct L4Destination: Hashable, Sendable {
    /// The destination workload's namespace.
    public var namespace: String
    /// `ns/name` keys from `Workload.authorization_policies`.
    public var selectedPolicies: [String]

    /// Creates a destination.
    public init(namespace: String, selectedPolicies: [String] = []) {
        self.namespace = namespace
        self.selectedPolicies = selectedPolicies
    }

    /// The destination as an `istio.workload.Workload` describes it.
    public init(workload: Istio_Workload_Workload) {
        self.init(namespace: workload.namespace, selectedPolicies: workload.authorizationPolicies)
    }
}

/// The `istio.security.Authorization` policies a proxy knows, indexed as ztunnel indexes them,
/// and the evaluation of a connection against the ones in scope.
///
/// In scope for a destination: every GLOBAL policy, every NAMESPACE policy of the destination's
/// namespace, and the WORKLOAD_SELECTOR policies the workload lists (unknown names are skipped
/// with a warning). Evaluation: dry-run policies are only logged; any enforced DENY that
/// matches refuses; with no enforced ALLOW the connection is allowed; otherwise an ALLOW must
/// match.
public struct L4PolicySet: Sendable {
    private var byKey: [String: L4Policy] = [:]
    /// GLOBAL policies under "", NAMESPACE policies under their namespace.
    private var byNamespace: [String: Set<String>] = [:]

    /// An empty set.
    public init() {}

    /// A set holding `policies`; a later policy with the same key replaces an earlier one.
    public init(_ policies: [L4Policy]) {
        for policy in policies { insert(policy) }
    }

    /// The number of policies.
    public var count: Int { byKey.count }

    /// The `ns/name` keys of every policy, sorted.
    public var keys: [String] { byKey.keys.sorted() }

    /// The policy stored under `ns/name`.
    public subscript(key: String) -> L4Policy? { byKey[key] }

    /// Adds or replaces a policy (by its `ns/name` key).
    public mutating func insert(_ policy: L4Policy) {
        remove(key: policy.key)
        byKey[policy.key] = policy
        if let bucket = Self.bucket(of: policy) {
            byNamespace[bucket, default: []].insert(policy.key)
        }
    }

    /// Compiles and adds an xDS resource.
    /// - Throws: ``L4PolicyError`` for a malformed resource; the set is unchanged then.
    public mutating func insert(_ resource: Istio_Security_Authorization) throws(L4PolicyError) {
        insert(try L4Policy(resource))
    }

    /// Removes the policy stored under `ns/name`, returning it.
    @discardableResult
    public mutating func remove(key: String) -> L4Policy? {
        guard let old = byKey.removeValue(forKey: key) else { return nil }
        if let bucket = Self.bucket(of: old) {
            byNamespace[bucket]?.remove(key)
            if byNamespace[bucket]?.isEmpty == true { byNamespace[bucket] = nil }
        }
        return old
    }

    private static func bucket(of policy: L4Policy) -> String? {
        switch policy.scope {
        case .global: ""
        case .namespace: policy.namespace
        case .workloadSelector: nil
        }
    }

    /// The policies that apply to `destination`, sorted by key (so logs are stable).
    public func policies(for destination: L4Destination, logger: Logger? = nil) -> [L4Policy] {
        var keys = byNamespace[""] ?? []
        keys.formUnion(byNamespace[destination.namespace] ?? [])
        for key in destination.selectedPolicies {
            if byKey[key] != nil {
                keys.insert(key)
            } else {
                logger?.warning("unknown authorization policy in workload, skipped", metadata: ["policy": "\(key)"])
            }
        }
        return keys.sorted().compactMap { byKey[$0] }
    }

    /// Decides whether `connection` to `destination` may proceed.
    public func evaluate(_ connection: L4Connection, to destination: L4Destination, logger: Logger? = nil) -> L4Decision {
        let inScope = policies(for: destination, logger: logger)
        let attributes = L4Match.Attributes(connection)  // the principal string is built once
        var dryRunMatches: [String] = []
        for policy in inScope where policy.dryRun && policy.matches(attributes) {
            dryRunMatches.append(policy.key)
            logger?.info(
                "dry-run policy matched",
                metadata: [
                    "policy": "\(policy.key)", "would": "\(policy.action == .deny ? "deny" : "allow")",
                    "connection": "\(connection)",
                ])
        }
        if let deny = inScope.first(where: { !$0.dryRun && $0.action == .deny && $0.matches(attributes) }) {
            return L4Decision(
                verdict: .deny, policy: deny.key, reason: "explicitly denied by: \(deny.key)", dryRunMatches: dryRunMatches)
        }
        guard inScope.contains(where: { !$0.dryRun && $0.action == .allow }) else {
            return L4Decision(verdict: .allow, policy: nil, reason: "no allow policies", dryRunMatches: dryRunMatches)
        }
        if let allow = inScope.first(where: { !$0.dryRun && $0.action == .allow && $0.matches(attributes) }) {
            return L4Decision(
                verdict: .allow, policy: allow.key, reason: "allowed by: \(allow.key)", dryRunMatches: dryRunMatches)
        }
        return L4Decision(
            verdict: .deny, policy: nil, reason: "allow policies exist, but none allowed", dryRunMatches: dryRunMatches)
    }
}
