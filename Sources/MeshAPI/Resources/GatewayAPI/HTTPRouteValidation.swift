import Foundation

/// HTTPRoute validation. Istio has no webhook of its own for Gateway API kinds: the
/// apiserver checks them against the CRD schema and its CEL rules (kubernetes-sigs/gateway-api
/// `apis/v1/httproute_types.go`, `shared_types.go`), so those are errors here. What the
/// schema accepts but that cannot work is a warning.
extension HTTPRoute {
    /// The most rules a route may have.
    public static let maximumRules = 16
    /// The most matches one rule may have.
    public static let maximumMatchesPerRule = 64
    /// The most matches all rules of a route may have together.
    public static let maximumMatches = 128

    public func validate(into context: inout ValidationContext) {
        let path = FieldPath.root("spec")
        validateParentRefs(at: path("parentRefs"), into: &context)
        if let scope = spec.useDefaultGateways, scope != "All" && scope != "None" {
            context.error(path("useDefaultGateways"), "useDefaultGateways \"\(scope)\" is not valid; use All or None")
        }
        let hostnames = spec.hostnames ?? []
        if hostnames.count > 16 { context.error(path("hostnames"), "at most 16 hostnames, found \(hostnames.count)") }
        for (i, hostname) in hostnames.enumerated() {
            if let problem = KubernetesRules.gatewayHostnameProblem(hostname) {
                context.error(path("hostnames")[i], problem)
            } else if Rules.isIPv4(hostname) {
                context.warning(path("hostnames")[i], "hostname \"\(hostname)\" is an IP address; routes match host names only, so use a DNS name")
            }
        }
        let rules = spec.rules ?? []
        if rules.count > HTTPRoute.maximumRules {
            context.error(path("rules"), "a route has at most \(HTTPRoute.maximumRules) rules, found \(rules.count); split it into several HTTPRoutes")
        }
        let totalMatches = rules.reduce(0) { $0 &+ ($1.matches?.count ?? 1) }
        if totalMatches > HTTPRoute.maximumMatches && rules.count <= HTTPRoute.maximumRules {
            context.error(path("rules"), "a route has at most \(HTTPRoute.maximumMatches) matches across all rules, found \(totalMatches); split it into several HTTPRoutes")
        }
        var ruleNames: [String: Int] = [:]
        for (r, rule) in rules.enumerated() {
            let at = path("rules")[r]
            if let name = rule.name {
                if let problem = GatewayAPI.sectionNameProblem(name) {
                    context.error(at("name"), "rule " + problem)
                } else if let first = ruleNames[name] {
                    context.error(at("name"), "rule name \"\(name)\" is already used by rules[\(first)]; rule names must be unique within the route")
                } else {
                    ruleNames[name] = r
                }
            }
            validate(rule, at: at, into: &context)
        }
    }

    // MARK: Parents

    private func validateParentRefs(at path: FieldPath, into context: inout ValidationContext) {
        let refs = spec.parentRefs ?? []
        if refs.isEmpty {
            if spec.useDefaultGateways != "All" {
                context.warning(path, "the route has no parentRefs, so it attaches to no Gateway, waypoint or Service and has no effect; add e.g. [{name: waypoint}] or [{group: \"\", kind: Service, name: reviews, port: 9080}]")
            }
            return
        }
        if refs.count > 32 { context.error(path, "at most 32 parentRefs, found \(refs.count)") }
        var seen: [String: [Int]] = [:]
        for (i, ref) in refs.enumerated() {
            let at = path[i]
            GatewayAPI.validate(ref, at: at, into: &context)
            let key = "\(ref.effectiveGroup)/\(ref.effectiveKind)/\(ref.namespace ?? "")/\(ref.name)"
            for j in seen[key] ?? [] {
                let other = refs[j]
                let section = ref.sectionName ?? "", otherSection = other.sectionName ?? ""
                let port = ref.port ?? 0, otherPort = other.port ?? 0
                if section.isEmpty != otherSection.isEmpty || (port == 0) != (otherPort == 0) {
                    context.error(at, "parentRefs[\(j)] references the same parent: when a route lists a parent more than once, every entry needs its own sectionName or port")
                    break
                }
                if section == otherSection && port == otherPort {
                    context.error(at, "parentRefs[\(j)] references the same parent with the same sectionName and port; remove the duplicate or give each entry a distinct sectionName or port")
                    break
                }
            }
            seen[key, default: []].append(i)
        }
    }

    // MARK: Rules

    private func validate(_ rule: Rule, at path: FieldPath, into context: inout ValidationContext) {
        let matches = rule.matches ?? []
        if matches.count > HTTPRoute.maximumMatchesPerRule {
            context.error(path("matches"), "a rule has at most \(HTTPRoute.maximumMatchesPerRule) matches, found \(matches.count)")
        }
        for (m, match) in matches.enumerated() {
            validate(match, at: path("matches")[m], into: &context)
        }
        // The CRD defaults an absent match list to one PathPrefix "/" match.
        let singlePrefixMatch: Bool = {
            guard let matches = rule.matches else { return true }
            return matches.count == 1 && (matches[0].path?.effectiveType ?? .PathPrefix) == .PathPrefix
        }()
        let filters = rule.filters ?? []
        validate(filters, at: path("filters"), singlePrefixMatch: singlePrefixMatch, into: &context)
        let backends = rule.backendRefs ?? []
        if backends.count > 16 { context.error(path("backendRefs"), "a rule has at most 16 backendRefs, found \(backends.count)") }
        if !backends.isEmpty && filters.contains(where: { $0.type == .RequestRedirect }) {
            context.error(path("backendRefs"), "RequestRedirect filter must not be used together with backendRefs: a redirect answers the request itself; remove backendRefs or the redirect")
        }
        for (b, backend) in backends.enumerated() {
            let at = path("backendRefs")[b]
            GatewayAPI.validate(backend.objectReference, at: at, into: &context)
            if let weight = backend.weight, let problem = KubernetesRules.rangeProblem(weight, 0...1_000_000, "weight") {
                context.error(at("weight"), problem + " (weights are relative shares; 0 sends no traffic)")
            }
            validate(backend.filters ?? [], at: at("filters"), singlePrefixMatch: singlePrefixMatch, into: &context)
        }
        if let timeouts = rule.timeouts { validate(timeouts, at: path("timeouts"), into: &context) }
        if let retry = rule.retry {
            for (i, code) in (retry.codes ?? []).enumerated() {
                if let problem = KubernetesRules.rangeProblem(code, 400...599, "retry status code") {
                    context.error(path("retry")("codes")[i], problem)
                }
            }
            if let attempts = retry.attempts, attempts < 0 {
                context.error(path("retry")("attempts"), "attempts \(attempts) must not be negative")
            }
            GatewayAPI.validateDuration(retry.backoff, at: path("retry")("backoff"), into: &context)
        }
        if let persistence = rule.sessionPersistence {
            GatewayAPI.validate(persistence, at: path("sessionPersistence"), into: &context)
        }
    }

    private func validate(_ timeouts: Timeouts, at path: FieldPath, into context: inout ValidationContext) {
        GatewayAPI.validateDuration(timeouts.request, at: path("request"), into: &context)
        GatewayAPI.validateDuration(timeouts.backendRequest, at: path("backendRequest"), into: &context)
        if let request = timeouts.request.flatMap(KubernetesRules.parseGatewayDuration),
            let backend = timeouts.backendRequest.flatMap(KubernetesRules.parseGatewayDuration),
            request != 0, backend > request
        {
            context.error(path("backendRequest"), "backendRequest timeout \(timeouts.backendRequest ?? "") cannot be longer than the request timeout \(timeouts.request ?? ""), which includes every attempt")
        }
    }

    // MARK: Matches

    private func validate(_ match: Match, at path: FieldPath, into context: inout ValidationContext) {
        if let pathMatch = match.path {
            let value = pathMatch.effectiveValue
            let at = path("path")
            if value.utf8.count > 1024 {
                context.error(at("value"), "a path match is at most 1024 characters")
            } else if pathMatch.effectiveType == .RegularExpression {
                if let problem = Rules.regexProblem(value) {
                    context.error(at("value"), problem + "; Istio hands RegularExpression paths to Envoy, which uses RE2")
                }
            } else if let problem = HTTPRoute.pathProblem(value, type: pathMatch.effectiveType) {
                context.error(at("value"), problem)
            }
        }
        let headers = match.headers ?? []
        if headers.count > 16 { context.error(path("headers"), "at most 16 header matches, found \(headers.count)") }
        var headerNames: [String: Int] = [:]
        for (h, header) in headers.enumerated() {
            let at = path("headers")[h]
            validateNameAndValue(header.name, header.value, maxValue: 4096, type: header.type, what: "header",
                seen: &headerNames, index: h, at: at, into: &context)
        }
        let params = match.queryParams ?? []
        if params.count > 16 { context.error(path("queryParams"), "at most 16 query parameter matches, found \(params.count)") }
        var paramNames: [String: Int] = [:]
        for (q, param) in params.enumerated() {
            let at = path("queryParams")[q]
            validateNameAndValue(param.name, param.value, maxValue: 1024, type: param.type, what: "query parameter",
                seen: &paramNames, index: q, at: at, into: &context)
        }
    }

    private func validateNameAndValue(
        _ name: String, _ value: String, maxValue: Int, type: ValueMatchType?, what: String, seen: inout [String: Int],
        index: Int, at path: FieldPath, into context: inout ValidationContext
    ) {
        if let problem = KubernetesRules.headerNameProblem(name) {
            context.error(path("name"), what == "header" ? problem : problem.replacingOccurrences(of: "header name", with: "query parameter name"))
        } else if let first = seen[name] {
            context.error(path("name"), "\(what) \"\(name)\" is already matched by entry [\(first)]; each name may appear once")
        } else if what == "header", let first = seen.first(where: { $0.key.lowercased() == name.lowercased() })?.value {
            context.warning(path("name"), "header \"\(name)\" matches the same header as entry [\(first)] (names are case-insensitive); only the first is used")
        } else {
            seen[name] = index
        }
        if value.isEmpty {
            context.error(path("value"), "required: the \(what) value to match (1-\(maxValue) characters)")
        } else if value.utf8.count > maxValue {
            context.error(path("value"), "a \(what) value is at most \(maxValue) characters")
        } else if type == .RegularExpression, let problem = Rules.regexProblem(value) {
            context.error(path("value"), problem + "; Istio hands RegularExpression matches to Envoy, which uses RE2")
        }
    }

    /// Why an `Exact` or `PathPrefix` path is rejected by the CRD, or nil.
    static func pathProblem(_ value: String, type: PathMatchType) -> String? {
        guard value.hasPrefix("/") else {
            return "\(type.rawValue) path \"\(value)\" must be an absolute path starting with '/', e.g. /productpage"
        }
        for bad in ["//", "/./", "/../", "%2f", "%2F", "#"] where value.contains(bad) {
            return "\(type.rawValue) path \"\(value)\" must not contain '\(bad)'; use a normalized path"
        }
        for bad in ["/..", "/."] where value.hasSuffix(bad) {
            return "\(type.rawValue) path \"\(value)\" must not end with '\(bad)'; use a normalized path"
        }
        if let problem = pathCharactersProblem(value) { return "\(type.rawValue) path \"\(value)\" \(problem)" }
        return nil
    }

    /// Nil when `value` holds only URL path characters (`A-Za-z0-9-/._~!$&'()*+,;=:@` and
    /// `%XX` escapes).
    static func pathCharactersProblem(_ value: String) -> String? {
        let allowed = Set("-/._~!$&'()*+,;=:@".utf8)
        let bytes = Array(value.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || allowed.contains(b) {
                i += 1
                continue
            }
            func hex(_ x: UInt8) -> Bool { (x >= 0x30 && x <= 0x39) || (x >= 0x41 && x <= 0x46) || (x >= 0x61 && x <= 0x66) }
            if b == 0x25, i + 2 < bytes.count, hex(bytes[i + 1]), hex(bytes[i + 2]) {
                i += 3
                continue
            }
            return "may only contain letters, digits, -/._~!$&'()*+,;=:@ and %XX escapes"
        }
        return nil
    }
}
