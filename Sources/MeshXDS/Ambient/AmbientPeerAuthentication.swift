import MeshAPI
import MeshProto
import SwiftProtobuf

extension AmbientAuthorization {
    private typealias Mode = PeerAuthentication.Mode

    /// The static DENY policy istiod sends once any PeerAuthentication exists: refuse
    /// connections without a peer identity. Workloads under effective STRICT list it.
    public static func staticStrictPolicy(rootNamespace: String) -> Istio_Security_Authorization {
        var out = Istio_Security_Authorization()
        out.name = staticStrictPolicyName
        out.namespace = rootNamespace
        out.scope = .workloadSelector
        out.action = .deny
        out.rules = [rule([denyPlaintext()])]
        return out
    }

    /// The PeerAuthentication-derived keys a workload lists in `authorization_policies`, from
    /// the PeerAuthentications that apply to it (root-namespace and namespace ones without a
    /// selector, and its namespace's ones whose selector matches it). Within a level the oldest
    /// (by `creationTimestamp`, then name) wins; levels resolve mesh → namespace → workload.
    public static func effectivePeerAuthenticationKeys(
        rootNamespace: String, applicable policies: [PeerAuthentication]
    ) -> [String] {
        let levels = Levels(rootNamespace: rootNamespace, policies: policies)
        var strict = false
        if let mesh = levels.mesh { strict = mode(mesh) == .STRICT }
        if let namespace = levels.namespace, mode(namespace) != .UNSET { strict = mode(namespace) == .STRICT }
        var portPolicyKey: String?
        if let workload = levels.workload {
            let workloadMode = mode(workload)
            if workloadMode == .STRICT { strict = true }
            if workloadMode == .PERMISSIVE || workloadMode == .DISABLE { strict = false }
            let portModes = Array((workload.spec?.portLevelMtlsByPort ?? [:]).values.map { $0.mode ?? .UNSET })
            if workload.spec?.portLevelMtls != nil {
                let key = "\(workload.metadata.namespace ?? "")/\(convertedPeerAuthenticationPrefix)\(workload.metadata.name ?? "")"
                switch workloadMode {
                case .STRICT:
                    if portModes.contains(where: { $0 == .PERMISSIVE || $0 == .DISABLE }) {
                        portPolicyKey = key
                        strict = false  // the converted policy carries the STRICT default itself
                    }
                case .PERMISSIVE, .DISABLE:
                    if portModes.contains(.STRICT) { portPolicyKey = key }
                case .UNSET:
                    if strict {
                        if portModes.contains(.PERMISSIVE) {
                            portPolicyKey = key
                            strict = false
                        }
                    } else if portModes.contains(.STRICT) {
                        portPolicyKey = key
                    }
                }
            }
        }
        var keys = Set<String>()
        if strict { keys.insert("\(rootNamespace)/\(staticStrictPolicyName)") }
        if let portPolicyKey { keys.insert(portPolicyKey) }
        return keys.sorted()
    }

    /// Converts a workload-level PeerAuthentication with port-level modes into a DENY policy
    /// (`<ns>/converted_peer_authentication_<name>`, WORKLOAD_SELECTOR); nil when the policy is
    /// not a workload policy with port-level mTLS or adds nothing to the inherited mode.
    /// `namespacePolicy` and `rootPolicy` are the effective namespace and mesh policies.
    public static func convert(
        _ policy: PeerAuthentication, rootNamespace: String,
        namespacePolicy: PeerAuthentication?, rootPolicy: PeerAuthentication?
    ) -> Istio_Security_Authorization? {
        let namespace = policy.metadata.namespace ?? ""
        guard let spec = policy.spec, namespace != rootNamespace, spec.selector != nil,
            !(spec.portLevelMtls ?? [:]).isEmpty
        else { return nil }
        let workloadMode = mode(policy)
        let namespaceMode = namespacePolicy.map(mode)
        let rootMode = rootPolicy.map(mode)
        var rules: [Istio_Security_Rule] = []
        var perPortStrict: [Istio_Security_Rule] = []
        if workloadMode == .STRICT { rules.append(rule([denyPlaintext()])) }
        var foundNonStrictPort = false
        for (port, mtls) in (spec.portLevelMtlsByPort).sorted(by: { $0.key < $1.key }) {
            switch mtls.mode ?? .UNSET {
            case .STRICT:
                // Already enforced by the workload, namespace or mesh level.
                let inherited =
                    workloadMode == .STRICT
                    || (workloadMode == .UNSET && namespaceMode == .STRICT)
                    || (workloadMode == .UNSET && (namespaceMode == nil || namespaceMode == .UNSET) && rootMode == .STRICT)
                if inherited { continue }
                var m = denyPlaintext()
                m.destinationPorts = [UInt32(port)]
                perPortStrict.append(rule([m]))
            case .PERMISSIVE, .DISABLE:
                if workloadMode == .PERMISSIVE || workloadMode == .DISABLE { continue }
                if workloadMode == .UNSET
                    && ((namespaceMode != nil && namespaceMode != .STRICT)
                        || (namespaceMode == nil && rootMode != nil && rootMode != .STRICT)
                        || (namespaceMode == nil && rootMode == nil))
                {
                    continue
                }
                foundNonStrictPort = true
                var m = Istio_Security_Match()
                m.notDestinationPorts = [UInt32(port)]
                rules.append(rule([m]))
            case .UNSET:
                continue
            }
        }
        if workloadMode == .STRICT && !foundNonStrictPort { return nil }
        if rules.isEmpty && perPortStrict.isEmpty { return nil }
        let mergeStrict =
            (rootMode == .STRICT && (namespaceMode == nil || namespaceMode == .UNSET || namespaceMode == .STRICT))
            || namespaceMode == .STRICT
        if mergeStrict && foundNonStrictPort { rules.append(rule([denyPlaintext()])) }
        var out = Istio_Security_Authorization()
        out.name = "\(convertedPeerAuthenticationPrefix)\(policy.metadata.name ?? "")"
        out.namespace = namespace
        out.scope = .workloadSelector
        out.action = .deny
        // istiod's wire shape: one Rule per STRICT port, then one Rule whose clauses are the
        // collected conditions (ANDed: deny plaintext AND not the exempt port).
        out.rules = perPortStrict
        if !rules.isEmpty {
            var merged = Istio_Security_Rule()
            merged.clauses = rules.flatMap(\.clauses)
            out.rules.append(merged)
        }
        return out
    }

    /// Every L4 policy derived from `policies` (all PeerAuthentications of the mesh): the static
    /// STRICT policy once any exists, then each workload policy's conversion, evaluated against
    /// the effective namespace and mesh policies. Sorted by `namespace/name`.
    public static func convertedPeerAuthentications(
        rootNamespace: String, policies: [PeerAuthentication]
    ) -> [Istio_Security_Authorization] {
        guard !policies.isEmpty else { return [] }
        var out = [staticStrictPolicy(rootNamespace: rootNamespace)]
        let mesh = Levels(rootNamespace: rootNamespace, policies: policies.filter { $0.metadata.namespace == rootNamespace }).mesh
        let byNamespace = Dictionary(grouping: policies) { $0.metadata.namespace ?? "" }
        for (namespace, inNamespace) in byNamespace where namespace != rootNamespace {
            let namespaceLevel = Levels(rootNamespace: rootNamespace, policies: inNamespace).namespace
            for policy in inNamespace {
                if let converted = convert(policy, rootNamespace: rootNamespace, namespacePolicy: namespaceLevel, rootPolicy: mesh) {
                    out.append(converted)
                }
            }
        }
        return out.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
    }

    private static func mode(_ policy: PeerAuthentication) -> Mode { policy.spec?.mtls?.mode ?? .UNSET }

    private static func denyPlaintext() -> Istio_Security_Match {
        var m = Istio_Security_Match()
        var presence = Istio_Security_StringMatch()
        presence.presence = Google_Protobuf_Empty()
        m.notPrincipals = [presence]
        return m
    }

    private static func rule(_ matches: [Istio_Security_Match]) -> Istio_Security_Rule {
        var c = Istio_Security_Clause()
        c.matches = matches
        var r = Istio_Security_Rule()
        r.clauses = [c]
        return r
    }

    /// The effective (oldest) policy at each level.
    private struct Levels {
        var mesh: PeerAuthentication?
        var namespace: PeerAuthentication?
        var workload: PeerAuthentication?

        init(rootNamespace: String, policies: [PeerAuthentication]) {
            func older(_ a: PeerAuthentication, than b: PeerAuthentication?) -> Bool {
                guard let b else { return true }
                let ka = (a.metadata.creationTimestamp ?? "", a.metadata.name ?? "")
                let kb = (b.metadata.creationTimestamp ?? "", b.metadata.name ?? "")
                return ka < kb
            }
            for p in policies {
                let hasSelector = !(p.spec?.selector?.matchLabels ?? [:]).isEmpty
                let inRoot = p.metadata.namespace == rootNamespace
                if !hasSelector {
                    if inRoot {
                        if older(p, than: mesh) { mesh = p }
                    } else if older(p, than: namespace) {
                        namespace = p
                    }
                } else if !inRoot, older(p, than: workload) {
                    workload = p
                }
            }
        }
    }
}
