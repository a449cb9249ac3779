import Foundation

/// Checks used by the `security.istio.io` policies, following Istio's webhook
/// (`pkg/config/validation`, `pkg/config/security`) and the CRD schemas.
public enum SecurityRules {
    // MARK: Values

    /// Nil when `text` is an IP address or CIDR block as Go's `netip` parses it (the way Istio
    /// checks `ipBlocks`, `remoteIpBlocks`, `source.ip`, …), otherwise the reason.
    public static func ipBlockProblem(_ text: String) -> String? {
        if text.isEmpty { return "empty value is not allowed; use an IP address or CIDR block such as 10.0.0.0/8" }
        if let slash = text.firstIndex(of: "/") {
            let address = String(text[..<slash])
            let bits = text[text.index(after: slash)...]
            let digitsOnly = !bits.isEmpty && bits.utf8.count <= 3 && bits.allSatisfy { $0.isASCII && $0.isNumber }
            let noLeadingZero = bits == "0" || !bits.hasPrefix("0")
            guard let length = digitsOnly && noLeadingZero ? Int(bits) : nil else {
                return "\"\(text)\" is not a valid CIDR block: the prefix length must be a decimal number"
            }
            if Rules.isIPv4(address) {
                return length <= 32 ? nil : "\"\(text)\" is not a valid CIDR block: an IPv4 prefix length is 0-32"
            }
            if Rules.isIPv6(address) {
                return length <= 128 ? nil : "\"\(text)\" is not a valid CIDR block: an IPv6 prefix length is 0-128"
            }
            return "\"\(text)\" is not a valid CIDR block; use an address and prefix length such as 10.0.0.0/8 or 2001:db8::/32"
        }
        if Rules.isIPv4(text) || Rules.isIPv6(text) { return nil }
        // Go's netip accepts an IPv6 zone ("fe80::1%eth0") in a plain address.
        if let percent = text.firstIndex(of: "%"), Rules.isIPv6(String(text[..<percent])),
            text.index(after: percent) < text.endIndex
        {
            return nil
        }
        return "\"\(text)\" is not a valid IP address or CIDR block; use e.g. 10.1.2.3, 10.0.0.0/8 or 2001:db8::/32"
    }

    /// The port a string names (`"8080"`), as Istio parses `ports` and `destination.port`:
    /// decimal digits, 0-65535. Nil otherwise.
    public static func parsePort(_ text: String) -> Int? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let significant = text.drop { $0 == "0" }
        if significant.isEmpty { return 0 }
        guard significant.count <= 5, let value = Int(significant), value <= 65535 else { return nil }
        return value
    }

    /// Nil when `text` is a valid port string, otherwise the reason.
    public static func portProblem(_ text: String) -> String? {
        if text.isEmpty { return "empty value is not allowed; use a port number such as \"8080\"" }
        if parsePort(text) != nil { return nil }
        return "port \"\(text)\" must be a decimal number in 0-65535, e.g. \"8080\""
    }

    /// Nil when `value` is a valid `serviceAccounts` entry: `<name>` or `<namespace>/<name>`,
    /// no wildcards, at most 320 characters.
    public static func serviceAccountProblem(_ value: String) -> String? {
        if value.isEmpty { return "empty value is not allowed; use <serviceAccount> or <namespace>/<serviceAccount>" }
        if value.contains("*") {
            return "wildcards are not allowed in service accounts, found \"\(value)\"; use <serviceAccount> or <namespace>/<serviceAccount>"
        }
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count > 2 {
            return "expected <serviceAccount> or <namespace>/<serviceAccount>, found \"\(value)\""
        }
        if value.utf8.count > 320 { return "service account \"\(value.prefix(40))…\" is longer than 320 characters" }
        if parts.count == 2 {
            if parts[0].isEmpty {
                return "expected <serviceAccount> or <namespace>/<serviceAccount>, found an empty namespace in \"\(value)\""
            }
            if parts[1].isEmpty {
                return "expected <serviceAccount> or <namespace>/<serviceAccount>, found an empty service account in \"\(value)\""
            }
        }
        return nil
    }

    /// Nil when `value` is non-empty and its wildcard, if any, is a single `*` at the start or
    /// the end (exact, `abc*`, `*abc` or `*`).
    public static func wildcardProblem(_ value: String) -> String? {
        if value.isEmpty { return "empty value is not allowed" }
        let count = value.filter { $0 == "*" }.count
        if count > 1 { return "at most one wildcard '*' is allowed, found \"\(value)\"" }
        if count == 1, !value.hasPrefix("*"), !value.hasSuffix("*") {
            return "a wildcard '*' is only allowed at the start or the end, found \"\(value)\""
        }
        return nil
    }

    /// Nil when `value` is a valid trust domain match (a wildcard value without '/').
    public static func trustDomainProblem(_ value: String) -> String? {
        if let problem = wildcardProblem(value) { return problem }
        if value.contains("/") { return "a trust domain must not contain '/', found \"\(value)\"; use e.g. cluster.local" }
        return nil
    }

    /// Nil when `path` is acceptable as an AuthorizationPolicy path: braces only as the
    /// whole-segment operators `{*}` and `{**}`, no operator after `{**}`, and in a template
    /// every other segment a plain RFC 3986 `pchar` literal.
    public static func pathTemplateProblem(_ path: String) -> String? {
        let isTemplate = path.contains("{*}") || path.contains("{**}")
        var sawMatchAny = false
        let trimmed = path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        for segment in trimmed.split(separator: "/", omittingEmptySubsequences: false) {
            if segment == "{*}" || segment == "{**}" {
                if sawMatchAny {
                    return "path template \"\(path)\" has \(segment) after {**}; {**} must be the last operator"
                }
                if segment == "{**}" { sawMatchAny = true }
                continue
            }
            if segment.contains("{") || segment.contains("}") {
                return "path \"\(path)\" has '{' or '}' outside the templates {*} and {**}, which must fill a whole segment"
            }
            if isTemplate && !isPathLiteral(segment) {
                return "path template \"\(path)\" has segment \"\(segment)\", which is not a plain literal (no '*', '?', '#' or empty segments in templates)"
            }
        }
        return nil
    }

    /// RFC 3986 `pchar`s (as Istio checks them): letters, digits and `-._~%!$&'()+,;:@=`.
    static func isPathLiteral(_ segment: Substring) -> Bool {
        guard !segment.isEmpty else { return false }
        return segment.unicodeScalars.allSatisfy { s in
            guard s.isASCII else { return false }
            let c = Character(s)
            return c.isLetter || c.isNumber || "-._~%!$&'()+,;:@=".contains(c)
        }
    }

    /// An HTTP header name as Istio's strict check has it: `^[-_A-Za-z0-9]+$`.
    public static func isStrictHeaderName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { s in
            s.isASCII && (CharacterSet.alphanumerics.contains(s) || s == "-" || s == "_")
        }
    }

    /// Go's `strconv.ParseBool`: `1 t T TRUE true True` and `0 f F FALSE false False`.
    public static func parseGoBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default: return nil
        }
    }

    // MARK: Condition keys

    /// Keys of `when` conditions that take no `[…]` part.
    public static let plainConditionKeys: Set<String> = [
        "source.ip", "remote.ip", "source.namespace", "source.serviceAccount", "source.principal",
        "source.trustDomain", "request.auth.principal", "request.auth.audiences", "request.auth.presenter",
        "destination.ip", "destination.port", "connection.sni",
    ]

    /// Nil when `key` is a condition key Istio supports, otherwise the reason.
    public static func conditionKeyProblem(_ key: String) -> String? {
        if key.hasPrefix("request.headers") { return mapKeyProblem(key, example: "request.headers[User-Agent]") }
        if plainConditionKeys.contains(key) { return nil }
        if key.hasPrefix("request.auth.claims") { return mapKeyProblem(key, example: "request.auth.claims[groups]") }
        if key.hasPrefix("experimental.envoy.filters.") {
            return mapKeyProblem(key, example: "experimental.envoy.filters.network.mysql_proxy[db.table]")
        }
        if key == "destination.namespace" {
            return "attribute \(key) is replaced by the policy's metadata.namespace; remove the condition"
        }
        if key.hasPrefix("destination.labels") {
            return "attribute \(key) is replaced by the workload selector; use spec.selector.matchLabels"
        }
        if key == "destination.name" || key == "destination.user" {
            return "attribute \(key) is deprecated and only supported in v1alpha1"
        }
        let supported = plainConditionKeys.sorted().joined(separator: ", ")
        return "unknown attribute \"\(key)\"; use one of \(supported), request.headers[<name>], request.auth.claims[<claim>] or experimental.envoy.filters.<filter>[<key>]"
    }

    private static func mapKeyProblem(_ key: String, example: String) -> String? {
        let utf8 = Array(key.utf8)
        if let open = utf8.firstIndex(of: UInt8(ascii: "[")), utf8.last == UInt8(ascii: "]"), open > 0,
            open < utf8.count - 2
        {
            return nil
        }
        return "bad key \"\(key)\": it must have the form a[b], e.g. \(example)"
    }

    // MARK: JWT

    /// Nil when Istio accepts `uri` as a JWKS URL: `http` or `https`, no spaces or control
    /// characters, a numeric port if any, at most 2048 characters. Otherwise the reason.
    public static func jwksURIProblem(_ uri: String) -> String? {
        if uri.isEmpty { return "jwksUri must not be empty; use an http:// or https:// URL or remove it" }
        if uri.utf8.count > 2048 { return "jwksUri is longer than 2048 characters" }
        if uri.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }) {
            return "jwksUri \"\(uri)\" contains spaces or control characters"
        }
        guard let parts = splitURL(uri) else {
            return "jwksUri \"\(uri)\" must be an absolute URL with scheme http:// or https://"
        }
        guard parts.scheme == "http" || parts.scheme == "https" else {
            return "jwksUri scheme \"\(parts.scheme)\" is not supported; use http:// or https://"
        }
        if parts.unterminatedIPv6 { return "jwksUri \"\(uri)\" has an unterminated IPv6 address" }
        if let port = parts.port, !port.allSatisfy({ $0.isASCII && $0.isNumber }) {
            return "jwksUri \"\(uri)\" has an invalid port \"\(port)\"; use a number in 1-65535"
        }
        return nil
    }

    /// A warning for a JWKS URL Istio accepts but that cannot be fetched: no host, or a port
    /// outside 1-65535.
    public static func jwksURIWarning(_ uri: String) -> String? {
        guard jwksURIProblem(uri) == nil, let parts = splitURL(uri) else { return nil }
        if parts.host.isEmpty {
            return "jwksUri \"\(uri)\" has no host, so the keys cannot be fetched; use e.g. https://example.com/.well-known/jwks.json"
        }
        if let port = parts.port, !port.isEmpty {
            let significant = port.drop { $0 == "0" }
            if significant.isEmpty || significant.count > 5 || !Rules.isValidPort(Int(significant) ?? 0) {
                return "jwksUri \"\(uri)\" has port \"\(port)\", outside 1-65535, so the keys cannot be fetched"
            }
        }
        return nil
    }

    /// Scheme (lowercased), host and port of an absolute URL, or nil without `scheme://`.
    private static func splitURL(_ uri: String) -> (scheme: String, host: Substring, port: Substring?, unterminatedIPv6: Bool)? {
        guard let schemeEnd = uri.range(of: "://") else { return nil }
        let scheme = uri[..<schemeEnd.lowerBound].lowercased()
        guard !scheme.isEmpty else { return nil }
        let rest = uri[schemeEnd.upperBound...]
        var authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return (scheme, authority, nil, true) }
            let host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.isEmpty { return (scheme, host, nil, false) }
            return (scheme, host, after.hasPrefix(":") ? after.dropFirst() : after, false)
        }
        if let colon = authority.lastIndex(of: ":") {
            return (scheme, authority[..<colon], authority[authority.index(after: colon)...], false)
        }
        return (scheme, authority, nil, false)
    }

    /// What inline `jwks` text holds: an error when it is not a JSON Web Key (Set), and the
    /// indexes of keys that carry private material.
    public static func inspectJWKS(_ text: String) -> (problem: String?, privateKeys: [Int]) {
        guard let data = text.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        else {
            return ("jwks is not valid JSON; use a JSON Web Key Set such as {\"keys\": [{\"kty\": \"RSA\", …}]}", [])
        }
        guard let top = object as? [String: Any] else {
            return ("jwks must be a JSON object: a JSON Web Key Set {\"keys\": […]} or a single key", [])
        }
        let keys: [Any]
        if let list = top["keys"] {
            guard let array = list as? [Any] else { return ("jwks \"keys\" must be a list of keys", []) }
            keys = array
        } else {
            keys = [top]
        }
        var privateKeys: [Int] = []
        for (index, element) in keys.enumerated() {
            guard let key = element as? [String: Any] else { return ("jwks key at index \(index) is not a JSON object", []) }
            guard let kty = key["kty"] as? String else {
                return ("jwks key at index \(index) has no \"kty\"; use RSA, EC, OKP or oct", [])
            }
            let required: [String]
            switch kty {
            case "RSA": required = ["n", "e"]
            case "EC": required = ["crv", "x", "y"]
            case "OKP": required = ["crv", "x"]
            case "oct": required = ["k"]
            default: return ("jwks key at index \(index) has unsupported kty \"\(kty)\"; use RSA, EC, OKP or oct", [])
            }
            for name in required where !(key[name] is String) {
                return ("jwks \(kty) key at index \(index) is missing \"\(name)\"", [])
            }
            if kty == "oct" || key["d"] != nil { privateKeys.append(index) }
        }
        return (nil, privateKeys)
    }

    // MARK: Scope

    /// Checks a workload selector as Istio does: no empty keys, no wildcards, values of at
    /// most 63 characters; a selector without labels is a warning.
    public static func validateSelector(
        _ selector: IstioType.WorkloadSelector?, at path: FieldPath, into context: inout ValidationContext
    ) {
        guard let selector else { return }
        let labels = selector.matchLabels ?? [:]
        if labels.isEmpty {
            context.warning(path, "workload selector specified without labels; it selects every workload, so remove it or add matchLabels")
            return
        }
        let labelsPath = path("matchLabels")
        for key in labels.keys.sorted() {
            let value = labels[key] ?? ""
            if key.isEmpty {
                context.error(labelsPath, "an empty label key is not supported in a selector")
                continue
            }
            if key.contains("*") {
                context.error(labelsPath(key), "wildcards are not supported in selector label keys, found \"\(key)\"")
            }
            if value.contains("*") {
                context.error(labelsPath(key), "wildcards are not supported in selector label values, found \"\(value)\"")
            } else if value.utf8.count > 63 {
                context.error(labelsPath(key), "label value for \"\(key)\" is longer than 63 characters")
            }
        }
    }

    /// The kinds a policy may target: (group, kind).
    public static let allowedTargetKinds: [(group: String, kind: String)] = [
        ("", "Service"), ("networking.istio.io", "ServiceEntry"),
        ("gateway.networking.k8s.io", "Gateway"), ("gateway.networking.k8s.io", "GatewayClass"),
    ]

    /// Checks `selector`, `targetRef` and `targetRefs` of a policy: at most one of them, and
    /// every reference to a supported kind in the policy's own namespace.
    public static func validateScope(
        selector: IstioType.WorkloadSelector?, targetRef: IstioType.PolicyTargetReference?,
        targetRefs: [IstioType.PolicyTargetReference]?, spec: FieldPath, into context: inout ValidationContext
    ) {
        let hasRefs = !(targetRefs ?? []).isEmpty
        if hasRefs && (selector != nil || targetRef != nil) {
            let other = selector != nil ? "selector" : "targetRef"
            context.error(spec("targetRefs"), "only one of selector, targetRef or targetRefs can be set; remove targetRefs or \(other)")
        } else if targetRef != nil && selector != nil {
            context.error(spec("targetRef"), "only one of selector, targetRef or targetRefs can be set; remove targetRef or selector")
        }
        validateSelector(selector, at: spec("selector"), into: &context)
        if let targetRef { validateTargetReference(targetRef, at: spec("targetRef"), into: &context) }
        if let targetRefs {
            if targetRefs.count > 16 {
                context.error(spec("targetRefs"), "at most 16 targetRefs are allowed, found \(targetRefs.count)")
            }
            for (i, ref) in targetRefs.enumerated() {
                validateTargetReference(ref, at: spec("targetRefs")[i], into: &context)
            }
        }
    }

    /// Checks one policy target reference.
    public static func validateTargetReference(
        _ ref: IstioType.PolicyTargetReference, at path: FieldPath, into context: inout ValidationContext
    ) {
        if ref.name.isEmpty {
            context.error(path("name"), "targetRef name must be set to the name of the target")
        } else if ref.name.utf8.count > 253 {
            context.error(path("name"), "targetRef name is longer than 253 characters")
        }
        if let namespace = ref.namespace, !namespace.isEmpty {
            context.error(path("namespace"), "cross-namespace references are not supported; remove namespace (the target must be in the policy's namespace)")
        }
        let group = ref.canonicalGroup
        let allowed = allowedTargetKinds.contains { $0.group == group && $0.kind == ref.kind }
        if !allowed {
            let list = allowedTargetKinds.map { "\($0.kind) (group \"\($0.group)\")" }.joined(separator: ", ")
            let kindKnown = allowedTargetKinds.contains { $0.kind == ref.kind }
            context.error(path(kindKnown ? "group" : "kind"),
                "targetRef must refer to one of \(list), found group \"\(ref.group ?? "")\" kind \"\(ref.kind)\"")
        }
    }

    /// Checks the `istio.io/dry-run` annotation: only AuthorizationPolicy with ALLOW or DENY
    /// supports it, and its value must be a boolean. `authorizationAction` is the policy's
    /// effective action, nil for other kinds.
    static func validateDryRunAnnotation(
        _ metadata: ObjectMeta, kind: String, authorizationAction action: AuthorizationPolicy.Action?,
        into context: inout ValidationContext
    ) {
        let name = "istio.io/dry-run"
        guard let value = metadata.annotations?[name] else { return }
        let path = FieldPath.root("metadata")("annotations")(name)
        guard let action else {
            context.error(path, "\(kind) does not support the annotation \(name); remove it")
            return
        }
        guard action == .ALLOW || action == .DENY else {
            context.error(path, "the annotation \(name) only supports action ALLOW or DENY, found \(action.rawValue)")
            return
        }
        if parseGoBool(value) == nil {
            context.error(path, "annotation \(name) must be \"true\" or \"false\", found \"\(value)\"")
        }
    }
}
