/// Types of Istio's `istio.type.v1beta1` package that the security policies share: how a
/// policy picks the workloads it applies to.
public enum IstioType {
    /// Selects workloads by their labels (`selector.matchLabels`).
    ///
    /// The selector matches workloads in the policy's namespace, or in every namespace when
    /// the policy lives in the root namespace.
    public struct WorkloadSelector: Codable, Sendable, Hashable {
        /// Labels a workload must all carry. Wildcards are not allowed in keys or values.
        public var matchLabels: [String: String]?

        public init(matchLabels: [String: String]? = nil) {
            self.matchLabels = matchLabels
        }

        /// True when `labels` carries every label of the selector (an empty selector matches all).
        public func matches(_ labels: [String: String]) -> Bool {
            (matchLabels ?? [:]).allSatisfy { labels[$0.key] == $0.value }
        }
    }

    /// A reference to the resource a policy is attached to, instead of a workload selector:
    /// a `Gateway` or `GatewayClass` (`gateway.networking.k8s.io`), a `Service` (core group,
    /// honoured by waypoints) or a `ServiceEntry` (`networking.istio.io`).
    public struct PolicyTargetReference: Codable, Sendable, Hashable {
        /// API group of the target; empty (or `core`) for the core group.
        public var group: String?
        /// Kind of the target, e.g. `Service`. Required.
        public var kind: String
        /// Name of the target. Required.
        public var name: String
        /// Must be empty: cross-namespace references are not supported.
        public var namespace: String?

        public init(group: String? = nil, kind: String, name: String, namespace: String? = nil) {
            self.group = group
            self.kind = kind
            self.name = name
            self.namespace = namespace
        }

        /// The group with the core group spelled as the empty string.
        public var canonicalGroup: String {
            let g = group ?? ""
            return g == "core" ? "" : g
        }
    }
}
