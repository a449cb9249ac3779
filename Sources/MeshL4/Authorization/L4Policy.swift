import MeshAPI
import MeshProto

/// One `istio.security.Authorization` compiled for evaluation: addresses parsed once, string
/// matches resolved, so a connection is checked without touching protobuf.
///
/// Matching follows ztunnel: rules are ORed, the clauses of a rule ANDed, the matches of a
/// clause ORed; a policy with no rules never matches; a match with no field set is skipped
/// (it matches nothing) while a clause with no matches at all counts as matching.
public struct L4Policy: Hashable, Sendable {
    /// Where a policy applies.
    public enum Scope: Hashable, Sendable {
        /// Mesh-wide (istiod sends root-namespace policies with this scope).
        case global
        /// Every workload in ``L4Policy/namespace``.
        case namespace
        /// Only workloads that list the policy in `Workload.authorization_policies`.
        case workloadSelector
    }

    /// What a match does.
    public enum Action: Hashable, Sendable {
        /// A matching connection is allowed (and once an ALLOW exists, one must match).
        case allow
        /// A matching connection is refused.
        case deny
    }

    /// The policy's name.
    public let name: String
    /// The policy's namespace.
    public let namespace: String
    /// Where it applies.
    public let scope: Scope
    /// ALLOW or DENY.
    public let action: Action
    /// A dry-run policy is evaluated and logged, never enforced.
    public let dryRun: Bool
    /// Rules (OR) → clauses (AND) → matches (OR).
    let rules: [[[L4Match]]]

    /// `namespace/name`, the resource name istiod uses and the form ztunnel logs.
    public var key: String { "\(namespace)/\(name)" }

    /// Compiles a policy received over xDS.
    ///
    /// - Throws: ``L4PolicyError`` naming the field when the resource is malformed: an unknown
    ///   scope or action, an address that is not 4 or 16 bytes or whose prefix is too long, a
    ///   port above 65535, a string match with no kind. (ztunnel drops such entries silently,
    ///   which can widen a match; refusing the resource lets the xDS client NACK it and keep the
    ///   last good policy.)
    public init(_ resource: Istio_Security_Authorization) throws(L4PolicyError) {
        let key = "\(resource.namespace)/\(resource.name)"
        guard !resource.name.isEmpty else {
            throw L4PolicyError(policy: key, field: "name", reason: "must not be empty")
        }
        name = resource.name
        namespace = resource.namespace
        switch resource.scope {
        case .global: scope = .global
        case .namespace: scope = .namespace
        case .workloadSelector: scope = .workloadSelector
        case .UNRECOGNIZED(let value):
            throw L4PolicyError(policy: key, field: "scope", reason: "unknown scope \(value)")
        }
        switch resource.action {
        case .allow: action = .allow
        case .deny: action = .deny
        case .UNRECOGNIZED(let value):
            throw L4PolicyError(policy: key, field: "action", reason: "unknown action \(value)")
        }
        dryRun = resource.dryRun
        var rules: [[[L4Match]]] = []
        for (r, rule) in resource.rules.enumerated() {
            var clauses: [[L4Match]] = []
            for (c, clause) in rule.clauses.enumerated() {
                var matches: [L4Match] = []
                for (m, match) in clause.matches.enumerated() {
                    let path = "rules[\(r)].clauses[\(c)].matches[\(m)]"
                    matches.append(try L4Match(match, policy: key, path: path))
                }
                clauses.append(matches)
            }
            rules.append(clauses)
        }
        self.rules = rules
    }

    /// Whether the connection matches any rule of this policy (ignoring action and dry-run).
    public func matches(_ connection: L4Connection) -> Bool {
        matches(L4Match.Attributes(connection))
    }

    /// The same, with the connection's derived attributes computed once by the caller.
    func matches(_ attributes: L4Match.Attributes) -> Bool {
        // No rules never matches: an ALLOW without rules denies all, a DENY without rules is inert.
        guard !rules.isEmpty else { return false }
        return rules.contains { clauses in
            clauses.allSatisfy { matches in
                matches.isEmpty || matches.contains { !$0.isEmpty && $0.matches(attributes) }
            }
        }
    }
}

/// A malformed `istio.security.Authorization`.
public struct L4PolicyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `namespace/name` of the policy.
    public var policy: String
    /// The field path inside the resource, e.g. `rules[0].clauses[1].matches[0].sourceIps[2]`.
    public var field: String
    /// What is wrong.
    public var reason: String

    /// Creates an error.
    public init(policy: String, field: String, reason: String) {
        self.policy = policy
        self.field = field
        self.reason = reason
    }

    /// `istio.security.Authorization ns/name: field: reason`.
    public var description: String { "istio.security.Authorization \(policy): \(field): \(reason)" }
}

/// A string condition as `istio.security.StringMatch` carries it (istiod turns `*` into
/// presence, `*x` into suffix, `x*` into prefix).
public enum L4StringMatch: Hashable, Sendable {
    /// Equal.
    case exact(String)
    /// Starts with.
    case prefix(String)
    /// Ends with.
    case suffix(String)
    /// Non-empty.
    case presence

    /// Whether `value` satisfies this condition.
    public func matches(_ value: String) -> Bool {
        switch self {
        case .exact(let s): value == s
        case .prefix(let s): value.hasPrefix(s)
        case .suffix(let s): value.hasSuffix(s)
        case .presence: !value.isEmpty
        }
    }
}

/// One `istio.security.Match`: every field set must match (AND), any value within a field may
/// match (OR), and a `not_` field must match none of its values.
struct L4Match: Hashable, Sendable {
    var namespaces: [L4StringMatch] = []
    var notNamespaces: [L4StringMatch] = []
    var principals: [L4StringMatch] = []
    var notPrincipals: [L4StringMatch] = []
    var sourceIPs: [CIDRBlock] = []
    var notSourceIPs: [CIDRBlock] = []
    var destinationIPs: [CIDRBlock] = []
    var notDestinationIPs: [CIDRBlock] = []
    var destinationPorts: [UInt16] = []
    var notDestinationPorts: [UInt16] = []
    var serviceAccounts: [ServiceAccount] = []
    var notServiceAccounts: [ServiceAccount] = []

    struct ServiceAccount: Hashable, Sendable {
        var namespace: String
        var name: String
    }

    /// The connection's attributes in the forms the fields compare against.
    struct Attributes {
        var connection: L4Connection
        /// The peer id without `spiffe://` (`td/ns/x/sa/y`); nil without identity, so no
        /// principal condition matches it.
        var principal: String?
        /// The peer's namespace, or "" without identity (presence then fails).
        var namespace: String

        init(_ connection: L4Connection) {
            self.connection = connection
            principal = connection.sourceIdentity?.principal
            namespace = connection.sourceIdentity?.namespace ?? ""
        }
    }

    var isEmpty: Bool {
        namespaces.isEmpty && notNamespaces.isEmpty && principals.isEmpty && notPrincipals.isEmpty
            && sourceIPs.isEmpty && notSourceIPs.isEmpty && destinationIPs.isEmpty
            && notDestinationIPs.isEmpty && destinationPorts.isEmpty && notDestinationPorts.isEmpty
            && serviceAccounts.isEmpty && notServiceAccounts.isEmpty
    }

    func matches(_ a: Attributes) -> Bool {
        let c = a.connection
        return Self.field(destinationIPs, notDestinationIPs) { $0.contains(c.destinationIP) }
            && Self.field(sourceIPs, notSourceIPs) { $0.contains(c.sourceIP) }
            && Self.field(destinationPorts, notDestinationPorts) { $0 == c.destinationPort }
            && Self.field(serviceAccounts, notServiceAccounts) { account in
                guard let id = c.sourceIdentity else { return false }
                return id.namespace == account.namespace && id.serviceAccount == account.name
            }
            && Self.field(principals, notPrincipals) { match in
                guard let principal = a.principal else { return false }
                return match.matches(principal)
            }
            && Self.field(namespaces, notNamespaces) { $0.matches(a.namespace) }
    }

    /// An unset positive list matches; a set one needs any value to match. A negative list
    /// needs none of its values to match.
    private static func field<T>(_ positive: [T], _ negative: [T], _ predicate: (T) -> Bool) -> Bool {
        (positive.isEmpty || positive.contains(where: predicate)) && !negative.contains(where: predicate)
    }
}

extension L4Match {
    init(_ m: Istio_Security_Match, policy: String, path: String) throws(L4PolicyError) {
        func strings(_ list: [Istio_Security_StringMatch], _ name: String) throws(L4PolicyError) -> [L4StringMatch] {
            var out: [L4StringMatch] = []
            for (i, item) in list.enumerated() {
                switch item.matchType {
                case .exact(let s): out.append(.exact(s))
                case .prefix(let s): out.append(.prefix(s))
                case .suffix(let s): out.append(.suffix(s))
                case .presence: out.append(.presence)
                case nil:
                    throw L4PolicyError(policy: policy, field: "\(path).\(name)[\(i)]", reason: "no match kind set")
                }
            }
            return out
        }
        func blocks(_ list: [Istio_Security_Address], _ name: String) throws(L4PolicyError) -> [CIDRBlock] {
            var out: [CIDRBlock] = []
            for (i, item) in list.enumerated() {
                let field = "\(path).\(name)[\(i)]"
                guard let ip = IPAddressBytes(bytes: Array(item.address)) else {
                    throw L4PolicyError(
                        policy: policy, field: field, reason: "address has \(item.address.count) bytes, want 4 or 16")
                }
                guard item.length <= 128, let block = CIDRBlock(address: ip, prefixLength: Int(item.length)) else {
                    throw L4PolicyError(
                        policy: policy, field: field, reason: "prefix length \(item.length) is too long for the address")
                }
                out.append(block)
            }
            return out
        }
        func ports(_ list: [UInt32], _ name: String) throws(L4PolicyError) -> [UInt16] {
            var out: [UInt16] = []
            for (i, port) in list.enumerated() {
                guard let value = UInt16(exactly: port) else {
                    throw L4PolicyError(policy: policy, field: "\(path).\(name)[\(i)]", reason: "port \(port) is above 65535")
                }
                out.append(value)
            }
            return out
        }
        func accounts(_ list: [Istio_Security_ServiceAccountMatch]) -> [ServiceAccount] {
            list.map { ServiceAccount(namespace: $0.namespace, name: $0.serviceAccount) }
        }
        namespaces = try strings(m.namespaces, "namespaces")
        notNamespaces = try strings(m.notNamespaces, "notNamespaces")
        principals = try strings(m.principals, "principals")
        notPrincipals = try strings(m.notPrincipals, "notPrincipals")
        sourceIPs = try blocks(m.sourceIps, "sourceIps")
        notSourceIPs = try blocks(m.notSourceIps, "notSourceIps")
        destinationIPs = try blocks(m.destinationIps, "destinationIps")
        notDestinationIPs = try blocks(m.notDestinationIps, "notDestinationIps")
        destinationPorts = try ports(m.destinationPorts, "destinationPorts")
        notDestinationPorts = try ports(m.notDestinationPorts, "notDestinationPorts")
        serviceAccounts = accounts(m.serviceAccounts)
        notServiceAccounts = accounts(m.notServiceAccounts)
    }
}
