import Foundation
import MeshAPI
import MeshProto
import SwiftProtobuf

/// Istio's translation of AuthorizationPolicy and PeerAuthentication into the L4
/// `istio.security.Authorization` policies istiod sends ztunnel (type URL
/// `type.googleapis.com/istio.security.Authorization`, resource name `namespace/name`).
///
/// - AuthorizationPolicy: root namespace → GLOBAL, no selector → NAMESPACE, a selector →
///   WORKLOAD_SELECTOR (listed in the matching workloads' `authorization_policies`); policies
///   with `targetRef(s)` are for waypoints and are not sent; CUSTOM and AUDIT are refused. Each
///   rule becomes one `Rule` whose clauses are: the `to` operations (one Match each), the `from`
///   sources (one Match each) and one clause per `when` condition. Only L4 attributes survive;
///   an ALLOW rule with any HTTP attribute is dropped (never matches), a DENY rule loses the
///   HTTP attributes only — a clause left with an empty Match then never matches in ztunnel,
///   so an HTTP-only DENY is inert. Both raise a warning telling the user a waypoint is needed.
/// - PeerAuthentication: the effective mTLS mode becomes the static DENY policy
///   `<root>/istio_converted_static_strict` (`not_principals: presence`) and, for workload
///   policies with port-level exceptions, a `converted_peer_authentication_<name>` DENY policy.
public enum AmbientAuthorization {
    /// Name of the static policy that enforces STRICT mTLS (`_` cannot occur in Kubernetes names).
    public static let staticStrictPolicyName = "istio_converted_static_strict"
    /// Prefix of converted PeerAuthentication policies.
    public static let convertedPeerAuthenticationPrefix = "converted_peer_authentication_"

    /// `when` keys ztunnel can evaluate.
    static let l4ConditionKeys: Set<String> = [
        "source.ip", "source.namespace", "source.principal", "destination.ip", "destination.port",
    ]

    /// The outcome of converting one AuthorizationPolicy.
    public struct Conversion: Sendable, Equatable {
        /// The policy for ztunnel; nil when none is sent (targetRefs, or a refused action).
        public var authorization: Istio_Security_Authorization?
        /// The status message istiod would write (`UnsupportedValue`), if any.
        public var warning: String?
    }

    /// Whether ``convert(_:rootNamespace:)`` produces a policy: no `targetRef(s)` (those are
    /// for waypoints) and an action ztunnel supports (ALLOW or DENY).
    public static func isSentToZtunnel(_ policy: AuthorizationPolicy) -> Bool {
        let spec = policy.spec ?? AuthorizationPolicy.Spec()
        let action = spec.effectiveAction
        return spec.targetRef == nil && (spec.targetRefs ?? []).isEmpty && (action == .ALLOW || action == .DENY)
    }

    /// Converts an AuthorizationPolicy for ztunnel.
    public static func convert(_ policy: AuthorizationPolicy, rootNamespace: String) -> Conversion {
        let spec = policy.spec ?? AuthorizationPolicy.Spec()
        if spec.targetRef != nil || !(spec.targetRefs ?? []).isEmpty {
            return Conversion(authorization: nil, warning: nil)  // for waypoints only
        }
        let namespace = policy.metadata.namespace ?? ""
        var out = Istio_Security_Authorization()
        out.name = policy.metadata.name ?? ""
        out.namespace = namespace
        out.scope = spec.selector != nil ? .workloadSelector : (namespace == rootNamespace ? .global : .namespace)
        switch spec.effectiveAction {
        case .ALLOW: out.action = .allow
        case .DENY: out.action = .deny
        case let other:
            return Conversion(authorization: nil, warning: "ztunnel does not support the \(other.rawValue) action")
        }
        var httpAttributes = Set<String>()
        for rule in spec.rules ?? [] {
            let (converted, found) = convert(rule, action: out.action, namespace: namespace)
            if let converted { out.rules.append(converted) }
            httpAttributes.formUnion(found)
        }
        guard !httpAttributes.isEmpty else { return Conversion(authorization: out, warning: nil) }
        let consequence =
            out.action == .deny
            ? "DENY policy with HTTP attributes is enforced without the HTTP rules. This will be more restrictive than requested."
            : "Within an ALLOW policy, rules matching HTTP attributes are omitted. This will be more restrictive than requested."
        let warning =
            "ztunnel does not support HTTP attributes (found: \(httpAttributes.sorted().joined(separator: ", "))). "
            + "In ambient mode you must use a waypoint proxy to enforce HTTP rules. \(consequence)"
        return Conversion(authorization: out, warning: warning)
    }

    /// One AuthorizationPolicy rule → one `Rule` (nil when an ALLOW rule is dropped), and the
    /// HTTP attributes it used.
    private static func convert(
        _ rule: AuthorizationPolicy.Rule, action: Istio_Security_Action, namespace: String
    ) -> (Istio_Security_Rule?, Set<String>) {
        var http = Set<String>()
        var clauses: [Istio_Security_Clause] = []
        let to: [Istio_Security_Match] = (rule.to ?? []).map { item in
            let op = item.operation ?? AuthorizationPolicy.Operation()
            for (name, values) in [
                ("hosts", op.hosts), ("notHosts", op.notHosts), ("methods", op.methods), ("notMethods", op.notMethods),
                ("paths", op.paths), ("notPaths", op.notPaths),
            ] where !(values ?? []).isEmpty {
                http.insert(name)
            }
            var m = Istio_Security_Match()
            m.destinationPorts = ports(op.ports)
            m.notDestinationPorts = ports(op.notPorts)
            return m
        }
        let from: [Istio_Security_Match] = (rule.from ?? []).map { item in
            let source = item.source ?? AuthorizationPolicy.Source()
            for (name, values) in [
                ("remoteIpBlocks", source.remoteIpBlocks), ("notRemoteIpBlocks", source.notRemoteIpBlocks),
                ("requestPrincipals", source.requestPrincipals), ("notRequestPrincipals", source.notRequestPrincipals),
            ] where !(values ?? []).isEmpty {
                http.insert(name)
            }
            var m = Istio_Security_Match()
            m.sourceIps = addresses(source.ipBlocks)
            m.notSourceIps = addresses(source.notIpBlocks)
            m.namespaces = stringMatches(source.namespaces)
            m.notNamespaces = stringMatches(source.notNamespaces)
            m.serviceAccounts = serviceAccounts(source.serviceAccounts, namespace: namespace)
            m.notServiceAccounts = serviceAccounts(source.notServiceAccounts, namespace: namespace)
            m.principals = stringMatches(source.principals)
            m.notPrincipals = stringMatches(source.notPrincipals)
            return m
        }
        if !to.isEmpty { clauses.append(clause(to)) }
        if !from.isEmpty { clauses.append(clause(from)) }
        for condition in rule.when ?? [] {
            if !l4ConditionKeys.contains(condition.key) { http.insert(condition.key) }
            var m = Istio_Security_Match()
            switch condition.key {
            case "source.namespace":
                m.namespaces = stringMatches(condition.values)
                m.notNamespaces = stringMatches(condition.notValues)
            case "source.principal":
                m.principals = stringMatches(condition.values)
                m.notPrincipals = stringMatches(condition.notValues)
            case "source.ip":
                m.sourceIps = addresses(condition.values)
                m.notSourceIps = addresses(condition.notValues)
            case "destination.ip":
                m.destinationIps = addresses(condition.values)
                m.notDestinationIps = addresses(condition.notValues)
            case "destination.port":
                m.destinationPorts = ports(condition.values)
                m.notDestinationPorts = ports(condition.notValues)
            default:
                break  // an HTTP attribute: an empty Match, which ztunnel never matches
            }
            clauses.append(clause([m]))
        }
        if action == .allow && !http.isEmpty { return (nil, http) }
        var out = Istio_Security_Rule()
        out.clauses = clauses
        return (out, http)
    }

    private static func clause(_ matches: [Istio_Security_Match]) -> Istio_Security_Clause {
        var c = Istio_Security_Clause()
        c.matches = matches
        return c
    }

    /// Istio's string forms: `*` presence, `*x` suffix, `x*` prefix, else exact.
    static func stringMatches(_ values: [String]?) -> [Istio_Security_StringMatch] {
        (values ?? []).map { value in
            var m = Istio_Security_StringMatch()
            if value == "*" {
                m.presence = Google_Protobuf_Empty()
            } else if value.hasPrefix("*") {
                m.suffix = String(value.dropFirst())
            } else if value.hasSuffix("*") {
                m.prefix = String(value.dropLast())
            } else {
                m.exact = value
            }
            return m
        }
    }

    /// `ns/sa`, or `sa` in the policy's namespace.
    static func serviceAccounts(_ values: [String]?, namespace: String) -> [Istio_Security_ServiceAccountMatch] {
        (values ?? []).map { value in
            var m = Istio_Security_ServiceAccountMatch()
            if let slash = value.firstIndex(of: "/") {
                m.namespace = String(value[..<slash])
                m.serviceAccount = String(value[value.index(after: slash)...])
            } else {
                m.namespace = namespace
                m.serviceAccount = value
            }
            return m
        }
    }

    /// Decimal ports 0–65535; anything else is skipped, as istiod does (validation reports it).
    static func ports(_ values: [String]?) -> [UInt32] {
        (values ?? []).compactMap { text in
            guard let port = UInt32(text), port <= 65535 else { return nil }
            return port
        }
    }

    /// IPs and CIDRs as raw bytes and prefix length; unparsable entries are skipped, as istiod does.
    static func addresses(_ values: [String]?) -> [Istio_Security_Address] {
        (values ?? []).compactMap { text in
            let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard let bytes = IPAddressBytes(parts[0])?.bytes else { return nil }
            var length = UInt32(bytes.count * 8)
            if parts.count == 2 {
                guard let bits = UInt32(parts[1]), bits <= length else { return nil }
                length = bits
            }
            var a = Istio_Security_Address()
            a.address = Data(bytes)
            a.length = length
            return a
        }
    }
}
