import Foundation

/// Checks shared by Istio's traffic APIs (VirtualService, DestinationRule, ServiceEntry,
/// WorkloadEntry), ported from `istio/istio:pkg/config/validation` so that SwiftMesh accepts
/// and rejects what Istio's webhook and CRD schemas do.
public enum NetworkingRules {
    // MARK: Host names

    /// Nil when `domain` is a host as Istio's `ValidateWildcardDomain` accepts it: at most 255
    /// characters; the first label may be `*`, `*foo` or `*-foo`; every other label RFC 1123
    /// (letters of either case); the last label not all digits; a trailing dot allowed.
    public static func wildcardDomainProblem(_ domain: String) -> String? {
        if let problem = domainPreconditionProblem(domain) { return problem }
        let parts = domain.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let first = String(parts[0])
        guard isWildcardDNS1123Label(first) else {
            return "host \"\(domain)\" is not a valid DNS name: label \"\(first)\" must be 1-63 letters, digits or '-' (a leading '*' is allowed in the first label only), e.g. reviews, reviews.default.svc.cluster.local or *.example.com"
        }
        if parts.count > 1 { return dns1123LabelsProblem(String(parts[1]), whole: domain) }
        return nil
    }

    /// Nil when `name` is a fully qualified domain name as Istio's `ValidateFQDN` accepts it
    /// (no wildcard).
    public static func fqdnProblem(_ name: String) -> String? {
        if let problem = domainPreconditionProblem(name) { return problem }
        return dns1123LabelsProblem(name, whole: name)
    }

    private static func domainPreconditionProblem(_ domain: String) -> String? {
        if domain.isEmpty { return "host is empty; give a DNS name such as reviews.default.svc.cluster.local" }
        if domain.utf8.count > 255 { return "host \"\(domain.prefix(40))…\" is longer than 255 characters" }
        return nil
    }

    private static func dns1123LabelsProblem(_ rest: String, whole: String) -> String? {
        let labels = rest.split(separator: ".", omittingEmptySubsequences: false)
        if let top = labels.last, !top.isEmpty, top.allSatisfy({ $0.isASCII && $0.isNumber }) {
            return "host \"\(whole)\" is not a valid DNS name: the top-level label \"\(top)\" cannot be all digits"
        }
        for (index, label) in labels.enumerated() {
            if index == labels.count - 1 && label.isEmpty { return nil }  // trailing dot: "istio.io."
            if !isCaseInsensitiveDNS1123Label(Substring(label)) {
                return "host \"\(whole)\" is not a valid DNS name: label \"\(label)\" must be 1-63 letters, digits or '-', starting and ending with a letter or digit"
            }
        }
        return nil
    }

    /// An RFC 1123 label allowing upper-case letters, as Istio's `labels.IsDNS1123Label` does.
    static func isCaseInsensitiveDNS1123Label(_ label: Substring) -> Bool {
        guard !label.isEmpty, label.utf8.count <= 63 else { return false }
        guard let first = label.first, let last = label.last,
            isAlnum(first), isAlnum(last)
        else { return false }
        return label.allSatisfy { isAlnum($0) || $0 == "-" }
    }

    /// A DNS label where Istio allows a wildcard: `*`, or a label whose first character may be
    /// `*` (`*foo`, `*-foo`).
    public static func isWildcardDNS1123Label(_ label: String) -> Bool {
        guard label.utf8.count <= 63 else { return false }
        if label == "*" { return true }
        var rest = Substring(label)
        if rest.hasPrefix("*-") {
            rest = rest.dropFirst(2)
        } else if rest.hasPrefix("*") {
            rest = rest.dropFirst()
        }
        return isCaseInsensitiveDNS1123Label(rest)
    }

    private static func isAlnum(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber)
    }

    /// True when `host` starts with `*` (Istio's `host.Name.IsWildCarded`).
    static func isWildcarded(_ host: String) -> Bool { host.hasPrefix("*") }

    /// Istio's `host.Name.Matches`: the two names overlap.
    static func hostsOverlap(_ a: String, _ b: String) -> Bool {
        let aw = isWildcarded(a)
        let bw = isWildcarded(b)
        switch (aw, bw) {
        case (true, true):
            return a.count < b.count ? b.dropFirst().hasSuffix(a.dropFirst()) : a.dropFirst().hasSuffix(b.dropFirst())
        case (true, false): return b.hasSuffix(a.dropFirst())
        case (false, true): return a.hasSuffix(b.dropFirst())
        case (false, false): return a == b
        }
    }

    /// Istio's `host.Name.SubsetOf`: every name `a` covers is covered by `b`.
    static func hostIsSubset(_ a: String, of b: String) -> Bool {
        let aw = isWildcarded(a)
        let bw = isWildcarded(b)
        switch (aw, bw) {
        case (true, true): return a.count >= b.count && a.dropFirst().hasSuffix(b.dropFirst())
        case (true, false): return false
        case (false, true): return a.hasSuffix(b.dropFirst())
        case (false, false): return a == b
        }
    }

    /// Istio's `ValidateIPSubnet`: an IP address or a CIDR block.
    static func ipSubnetProblem(_ text: String) -> String? {
        if text.contains("/") {
            return Rules.isIPOrCIDR(text) && text.filter({ $0 == "/" }).count == 1
                ? nil : "\"\(text)\" is not a valid CIDR block; use an address and prefix length such as 10.0.0.0/16 or 2001:db8::/32"
        }
        return Rules.isIPAddress(text) ? nil : "\"\(text)\" is not a valid IP address; use an address such as 10.0.0.1 or a CIDR block such as 10.0.0.0/16"
    }

    // MARK: Durations

    /// Checks a duration field: it must parse (Go syntax: `10s`, `500ms`, `1h30m`); when
    /// `minimumOneMillisecond` (Istio's `ValidateDuration` and the CRDs' CEL rule), it must be
    /// at least 1ms and a whole number of milliseconds. `zeroDisables` accepts `0s` as "off".
    static func checkDuration(
        _ text: String?, at path: FieldPath, into context: inout ValidationContext,
        minimumOneMillisecond: Bool = true, zeroDisables: Bool = false
    ) {
        guard let text else { return }
        guard let seconds = Rules.parseDuration(text), seconds.isFinite, abs(seconds) < 9_223_372_036.854775 else {
            context.error(path, "\"\(text)\" is not a valid duration; write a number with a unit (ns, us, ms, s, m, h), e.g. 10s, 500ms or 1h30m")
            return
        }
        guard minimumOneMillisecond else { return }
        if zeroDisables && seconds == 0 { return }
        let milliseconds = seconds * 1000
        if milliseconds < 1 - 1e-9 {
            context.error(path, "duration \"\(text)\" is too short: it must be at least 1ms, e.g. 1ms or 10s")
        } else if abs(milliseconds - milliseconds.rounded()) > 1e-6 * max(1, abs(milliseconds)) {
            context.error(path, "duration \"\(text)\" is finer than a millisecond: only whole milliseconds are supported, e.g. 1ms or 250ms")
        }
    }

    /// Seconds of a duration, or nil when malformed.
    static func seconds(_ text: String?) -> Double? {
        guard let text else { return nil }
        return Rules.parseDuration(text)
    }

    // MARK: Regular expressions

    /// Nil when `pattern` is a regular expression Istio accepts: RE2 syntax (what Go's
    /// `regexp` and Envoy compile) and at most 1024 characters.
    public static func re2Problem(_ pattern: String) -> String? {
        if pattern.utf8.count > 1024 {
            return "regex is too large (\(pattern.utf8.count) characters); the maximum is 1024"
        }
        if let problem = re2SyntaxProblem(pattern) { return problem }
        if let problem = Rules.regexProblem(icuEquivalent(pattern)) {
            return problem.replacingOccurrences(of: icuEquivalent(pattern), with: pattern)
                + "; Istio uses RE2 syntax (https://github.com/google/re2/wiki/Syntax)"
        }
        return nil
    }

    /// Constructs RE2 rejects that ICU (behind NSRegularExpression) accepts: unknown letter
    /// escapes, possessive and nested quantifiers, repeat counts above 1000, and groups other
    /// than `(?:…)`, `(?P<name>…)`, `(?<name>…)` and flag groups.
    private static func re2SyntaxProblem(_ pattern: String) -> String? {
        enum Repeat { case none, quantifier, lazy }
        let chars = Array(pattern)
        let allowedEscapes = Set("AbBdDpPsSwWzQEaftnrvx01234567")
        var i = 0
        var inClass = false
        var last = Repeat.none
        var canRepeat = false  // the previous token can take a repetition operator
        func repetition(_ text: String, at index: Int) -> String? {
            switch last {
            case .quantifier where text == "?":
                last = .lazy
                return nil
            case .quantifier, .lazy:
                return "regex \"\(pattern)\" has a nested repetition operator \(text) at character \(index + 1); RE2 has no possessive or nested quantifiers"
            case .none:
                guard canRepeat else {
                    return "regex \"\(pattern)\" has a repetition operator \(text) with nothing to repeat at character \(index + 1)"
                }
                last = .quantifier
                canRepeat = false
                return nil
            }
        }
        while i < chars.count {
            let c = chars[i]
            if c == "\\" {
                guard i + 1 < chars.count else { return "regex \"\(pattern)\" ends with a lone backslash" }
                let n = chars[i + 1]
                if n == "Q" && !inClass {
                    // \Q...\E quotes literally.
                    var j = i + 2
                    while j + 1 < chars.count, !(chars[j] == "\\" && chars[j + 1] == "E") { j += 1 }
                    i = j + 2
                } else {
                    if n.isASCII && (n.isLetter || n.isNumber) && !allowedEscapes.contains(n) {
                        return "regex \"\(pattern)\" uses the escape \\\(n), which RE2 does not support"
                    }
                    i += 2
                }
                if !inClass {
                    last = .none
                    canRepeat = true
                }
                continue
            }
            if inClass {
                if c == "]" {
                    inClass = false
                    last = .none
                    canRepeat = true
                } else if c == "[", i + 1 < chars.count, chars[i + 1] == ":", let close = findPOSIXClassEnd(chars, from: i + 2) {
                    i = close
                }
                i += 1
                continue
            }
            switch c {
            case "[":
                inClass = true
                i += 1
                if i < chars.count, chars[i] == "^" { i += 1 }
                if i < chars.count, chars[i] == "]" { i += 1 }  // a leading ] is literal
                continue
            case "(":
                last = .none
                canRepeat = false
                if i + 1 < chars.count, chars[i + 1] == "?" {
                    if let problem = groupProblem(chars, at: i, pattern: pattern) { return problem }
                    // Skip "(?P<name>", "(?<name>", "(?flags:" or "(?flags)".
                    var j = i + 2
                    if chars[j] == "P" || chars[j] == "<" {
                        while j < chars.count, chars[j] != ">" { j += 1 }
                    } else {
                        while j < chars.count, chars[j] != ":" && chars[j] != ")" { j += 1 }
                    }
                    i = j + 1
                    continue
                }
            case "|":
                last = .none
                canRepeat = false
            case "*", "+", "?":
                if let problem = repetition(String(c), at: i) { return problem }
            case "{":
                if let (close, minimum, maximum) = repeatBounds(chars, at: i) {
                    if last != .none {
                        return "regex \"\(pattern)\" has a nested repetition operator {…} at character \(i + 1); RE2 has no possessive or nested quantifiers"
                    }
                    if minimum > 1000 || (maximum ?? 0) > 1000 {
                        return "regex \"\(pattern)\" has a repeat count above 1000, which RE2 does not support"
                    }
                    if let maximum, maximum < minimum {
                        return "regex \"\(pattern)\" has a repeat range {\(minimum),\(maximum)} whose maximum is below its minimum"
                    }
                    if let problem = repetition("{…}", at: i) { return problem }
                    i = close + 1
                    continue
                }
                last = .none
                canRepeat = true
            default:
                last = .none
                canRepeat = true
            }
            i += 1
        }
        return nil
    }

    private static func findPOSIXClassEnd(_ chars: [Character], from start: Int) -> Int? {
        var j = start
        while j + 1 < chars.count {
            if chars[j] == ":" && chars[j + 1] == "]" { return j + 1 }
            if !(chars[j].isLetter || chars[j] == "^") { return nil }
            j += 1
        }
        return nil
    }

    private static func repeatBounds(_ chars: [Character], at open: Int) -> (Int, Int, Int?)? {
        var j = open + 1
        var minimumText = ""
        while j < chars.count, chars[j].isASCII, chars[j].isNumber { minimumText.append(chars[j]); j += 1 }
        guard !minimumText.isEmpty, j < chars.count else { return nil }
        let minimum = minimumText.count > 6 ? Int.max : Int(minimumText) ?? Int.max
        if chars[j] == "}" { return (j, minimum, minimum) }
        guard chars[j] == "," else { return nil }
        j += 1
        var maximumText = ""
        while j < chars.count, chars[j].isASCII, chars[j].isNumber { maximumText.append(chars[j]); j += 1 }
        guard j < chars.count, chars[j] == "}" else { return nil }
        if maximumText.isEmpty { return (j, minimum, nil) }
        return (j, minimum, maximumText.count > 6 ? Int.max : Int(maximumText) ?? Int.max)
    }

    private static func groupProblem(_ chars: [Character], at open: Int, pattern: String) -> String? {
        var j = open + 2
        guard j < chars.count else { return "regex \"\(pattern)\" has an unterminated group" }
        let next = chars[j]
        if next == "P", j + 1 < chars.count, chars[j + 1] == "<" { return nil }
        if next == "<", j + 1 < chars.count, chars[j + 1] != "=", chars[j + 1] != "!" { return nil }
        switch next {
        case "=", "!": return "regex \"\(pattern)\" uses look-ahead (?\(next), which RE2 does not support"
        case "<": return "regex \"\(pattern)\" uses look-behind, which RE2 does not support"
        case ">": return "regex \"\(pattern)\" uses an atomic group (?>, which RE2 does not support"
        case "#": return "regex \"\(pattern)\" uses a comment group (?#, which RE2 does not support"
        case "(": return "regex \"\(pattern)\" uses a conditional group (?(, which RE2 does not support"
        default: break
        }
        // Flags: (?i) (?s) (?m) (?U) (?i-s) (?i:...)
        var sawFlag = false
        while j < chars.count, "imsU-".contains(chars[j]) { sawFlag = true; j += 1 }
        guard j < chars.count, chars[j] == ")" || chars[j] == ":" else {
            return "regex \"\(pattern)\" has an invalid or unsupported group \"(?\(j < chars.count ? String(chars[j]) : "")\"; RE2 supports (?:…), (?P<name>…) and the flags i, m, s, U"
        }
        if chars[j] == ")" && !sawFlag { return "regex \"\(pattern)\" has an empty flag group (?)" }
        return nil
    }

    /// Rewrites RE2 spellings ICU lacks so NSRegularExpression can check the rest of the syntax.
    private static func icuEquivalent(_ pattern: String) -> String {
        var out = pattern.replacingOccurrences(of: "(?P<", with: "(?<")
        // ICU has no U (ungreedy) flag; drop it from flag groups for the syntax check.
        if out.contains("U") {
            out = out.replacingOccurrences(of: #"\(\?([imsU-]*)U([imsU-]*)([:)])"#, with: "(?$1$2$3", options: .regularExpression)
            out = out.replacingOccurrences(of: "(?)", with: "(?:)")
        }
        return out
    }

    // MARK: HTTP headers

    /// RFC 7230 token characters, which Istio allows in header names.
    private static func isTokenChar(_ c: Character) -> Bool {
        guard c.isASCII else { return false }
        return c.isLetter || c.isNumber || "!#$%&'*+-.^_`|~".contains(c)
    }

    /// Nil when `name` is valid as a header name in a match (`headers`, `withoutHeaders`):
    /// an RFC 7230 token, a pseudo-header, or a JWT claim `@request.auth.claims.<claim>`.
    static func matchHeaderNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "header name cannot be empty" }
        if isJWTClaimRoute(name) { return nil }
        if [":method", ":scheme", ":authority", ":path", ":status"].contains(name) { return nil }
        if !name.allSatisfy(isTokenChar) {
            return "header name \"\(name)\" is not a valid header name: use letters, digits and !#$%&'*+-.^_`|~ (or a pseudo-header such as :authority)"
        }
        return nil
    }

    /// `@request.auth.claims.<claim>` or `@request.auth.claims[<claim>]` (routing on a JWT claim).
    static func isJWTClaimRoute(_ name: String) -> Bool {
        name.hasPrefix("@request.auth.claims.") && name.count > "@request.auth.claims.".count
            || name.hasPrefix("@request.auth.claims[") && name.hasSuffix("]") && name.count > "@request.auth.claims[]".count
    }

    /// A CORS header name: `*` or an RFC 7230 token.
    static func corsHeaderNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "header name cannot be empty" }
        if name == "*" || name.allSatisfy(isTokenChar) { return nil }
        return "header name \"\(name)\" is not a valid header name: use letters, digits and !#$%&'*+-.^_`|~, or *"
    }

    /// Header names in `set`/`add` of request operations (`:authority` and `host` allowed).
    static func requestSetHeaderNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "header name cannot be empty" }
        if isInternalHeader(name) && !isAuthorityHeader(name) {
            return "header \"\(name)\" cannot be set: names starting with ':' are reserved (only :authority may be rewritten)"
        }
        return nil
    }

    /// Header names removed from requests, or changed in responses.
    static func headerOperationNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "header name cannot be empty" }
        if name.lowercased() == "host" { return "header \"\(name)\" cannot be changed here: the Host header is not modifiable" }
        if name.hasPrefix(":") { return "header \"\(name)\" cannot be changed here: names starting with ':' are reserved" }
        return nil
    }

    static func isInternalHeader(_ name: String) -> Bool { name.hasPrefix(":") || name.lowercased() == "host" }
    static func isAuthorityHeader(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower == ":authority" || lower == "host"
    }

    /// Nil when `value` is a header value Envoy accepts: no control characters other than tab,
    /// and every `%` either doubled (`%%`) or part of a `%VARIABLE%` / `%VAR(args)%`.
    static func headerValueProblem(_ value: String) -> String? {
        for scalar in value.unicodeScalars where (scalar.value < 0x20 && scalar.value != 0x09) || scalar.value == 0x7F {
            return "header value \"\(value)\" contains a control character; only printable characters and tabs are allowed"
        }
        enum State { case literal, variable, expectArray, expectString, string, expectDelimiterOrEnd, expectArgsEnd, expectVariableEnd }
        let bytes = Array(value.utf8)
        var state = State.literal
        var pos = 0
        let hint = "write %% for a literal percent sign, or a variable such as %DOWNSTREAM_REMOTE_ADDRESS%"
        while pos < bytes.count {
            let ch = bytes[pos]
            let hasNext = pos + 1 < bytes.count
            switch state {
            case .literal:
                if ch == UInt8(ascii: "%") {
                    guard hasNext else { return "header value \"\(value)\" has an unescaped %; \(hint)" }
                    if bytes[pos + 1] == UInt8(ascii: "%") { pos += 1 } else { state = .variable }
                }
            case .variable:
                if ch == UInt8(ascii: "%") { state = .literal } else if ch == UInt8(ascii: "(") { state = .expectArray }
            case .expectArray:
                if ch == UInt8(ascii: "[") { state = .expectString } else if ch != UInt8(ascii: " ") { state = .string }
            case .expectDelimiterOrEnd:
                if ch == UInt8(ascii: ",") {
                    state = .expectString
                } else if ch == UInt8(ascii: "]") {
                    state = .expectArgsEnd
                } else if ch != UInt8(ascii: " ") {
                    return "header value \"\(value)\" has a malformed variable: expected ',' or ']'; \(hint)"
                }
            case .expectString:
                if ch == UInt8(ascii: "\"") {
                    state = .string
                } else if ch != UInt8(ascii: " ") {
                    return "header value \"\(value)\" has a malformed variable: expected '\"'; \(hint)"
                }
            case .string:
                if ch == UInt8(ascii: "\\") {
                    guard hasNext else { return "header value \"\(value)\" has an unterminated backslash; \(hint)" }
                    pos += 1
                } else if ch == UInt8(ascii: ")") {
                    state = .expectVariableEnd
                } else if ch == UInt8(ascii: "\"") {
                    state = .expectDelimiterOrEnd
                }
            case .expectArgsEnd:
                if ch == UInt8(ascii: ")") {
                    state = .expectVariableEnd
                } else if ch != UInt8(ascii: " ") {
                    return "header value \"\(value)\" has a malformed variable: expected ')'; \(hint)"
                }
            case .expectVariableEnd:
                if ch == UInt8(ascii: "%") {
                    state = .literal
                } else if ch != UInt8(ascii: " ") {
                    return "header value \"\(value)\" has a malformed variable: expected '%'; \(hint)"
                }
            }
            pos += 1
        }
        if state != .literal { return "header value \"\(value)\" has an unterminated variable expression; \(hint)" }
        return nil
    }

    // MARK: Percentages

    /// Istio's `validatePercentage`: 0, or 0.0001 through 100.
    static func percentageProblem(_ value: Double) -> String? {
        if !value.isFinite || value < 0 || value > 100 || (value > 0 && value < 0.0001) {
            return "percentage \(format(value)) is out of range: use 0, or a value from 0.0001 to 100"
        }
        return nil
    }

    /// A number without a trailing ".0" when whole.
    static func format(_ value: Double) -> String {
        if value.isFinite, value.rounded() == value, abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    // MARK: exportTo

    /// Istio's `validateExportTo`. `namespace` is the resource's own namespace (for `.`).
    static func validateExportTo(
        _ exportTo: [String]?, namespace: String?, isServiceEntry: Bool, destinationRuleWithSelector: Bool,
        at path: FieldPath, into context: inout ValidationContext
    ) {
        guard let exportTo, !exportTo.isEmpty else { return }
        let ns = namespace ?? ""
        var seen = Set<String>()
        for (i, entry) in exportTo.enumerated() {
            let key = entry == "." ? ns : entry
            if seen.contains(key) {
                if key != entry {
                    context.error(path[i], "duplicate entry in exportTo: \".\" and the resource's namespace \"\(ns)\" name the same namespace")
                } else {
                    context.error(path[i], "duplicate entry \"\(entry)\" in exportTo; list each namespace once")
                }
                continue
            }
            if entry == "~" {
                if isServiceEntry {
                    seen.insert(key)
                } else {
                    context.error(path[i], "exportTo \"~\" (export to no one) is allowed only for ServiceEntry; use \".\", \"*\" or a namespace name")
                }
                continue
            }
            if entry == "." || entry == "*" || Rules.isDNS1123Label(key) || (entry == "." && ns.isEmpty) {
                seen.insert(key)
            } else {
                context.error(path[i], "exportTo entry \"\(entry)\" is invalid: use \".\" (this namespace), \"*\" (all namespaces) or a namespace name (an RFC 1123 label)")
            }
        }
        if destinationRuleWithSelector && !seen.isEmpty {
            if seen.contains(ns) {
                if seen.count > 1 {
                    context.error(path, "a DestinationRule with a workloadSelector can be exported only to its own namespace; use exportTo: [\".\"]")
                }
            } else {
                context.error(path, "a DestinationRule with a workloadSelector cannot be exported beyond its own namespace; use exportTo: [\".\"]")
            }
        }
        if seen.contains("*") && exportTo.count > 1 {
            context.error(path, "exportTo cannot combine \"*\" (all namespaces) with other entries; use [\"*\"] alone")
        }
        if seen.contains("~") && exportTo.count > 1 {
            context.error(path, "exportTo cannot combine \"~\" (no one) with other entries; use [\"~\"] alone")
        }
    }

    // MARK: Gateways

    /// Istio's `validateGatewayNames`: `mesh`, `namespace/name`, or a legacy `name.namespace`.
    static func validateGatewayNames(_ gateways: [String]?, at path: FieldPath, into context: inout ValidationContext) {
        guard let gateways else { return }
        for (i, gateway) in gateways.enumerated() {
            let parts = gateway.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count != 2 {
                if gateway.contains(".") {
                    let pieces = gateway.split(separator: ".", omittingEmptySubsequences: false)
                    let recommended = pieces.count > 1 ? "\(pieces[1])/\(pieces[0])" : gateway
                    context.warning(path[i], "gateway \"\(gateway)\" uses the legacy name format; prefer <namespace>/<name>: \"\(recommended)\"")
                }
                if let problem = fqdnProblem(gateway) {
                    context.error(path[i], "gateway \"\(gateway)\" is invalid (\(problem)); use mesh, a gateway name, or <namespace>/<name>")
                }
                continue
            }
            let namespace = String(parts[0])
            let name = String(parts[1])
            if namespace.isEmpty || name.isEmpty {
                context.error(path[i], "gateway \"\(gateway)\" must be <namespace>/<name> with both parts non-empty")
                continue
            }
            if !isCaseInsensitiveDNS1123Label(Substring(namespace)) {
                context.error(path[i], "gateway \"\(gateway)\" has an invalid namespace \"\(namespace)\": use an RFC 1123 label")
            }
            if !isCaseInsensitiveDNS1123Label(Substring(name)) {
                context.error(path[i], "gateway \"\(gateway)\" has an invalid name \"\(name)\": use an RFC 1123 label")
            }
        }
    }

    // MARK: Labels and selectors

    /// Validates a label map the way Istio's `labels.Instance.Validate` does.
    static func validateLabels(_ labels: [String: String]?, at path: FieldPath, into context: inout ValidationContext) {
        Rules.validateLabels(labels, at: path, into: &context)
    }

    /// Validates selector labels: no empty keys, no `*` in keys or values, then label syntax.
    static func validateSelectorLabels(
        _ labels: [String: String]?, at path: FieldPath, into context: inout ValidationContext
    ) {
        guard let labels else { return }
        for key in labels.keys.sorted() {
            let value = labels[key] ?? ""
            if key.isEmpty {
                context.error(path(key), "a selector label key cannot be empty")
            } else if key.contains("*") || value.contains("*") {
                context.error(path(key), "wildcards are not supported in selectors (\"\(key)=\(value)\"); give exact label keys and values")
            }
        }
    }

    // MARK: Ports, protocols, status codes

    /// Nil when `port` is in 1...65535.
    static func portProblem(_ port: UInt32) -> String? {
        Rules.isValidPort(Int(port)) ? nil : "port number \(port) must be in the range 1..65535"
    }

    /// Port names are RFC 1123 labels (Istio's `ValidatePortName`).
    static func portNameProblem(_ name: String) -> String? {
        isCaseInsensitiveDNS1123Label(Substring(name))
            ? nil : "port name \"\(name)\" is invalid: use 1-63 letters, digits or '-', starting and ending with a letter or digit, e.g. http or tcp-mysql"
    }

    /// The protocols Istio knows, as spelled in its docs; matched without case.
    static let knownProtocols = ["HTTP", "HTTPS", "GRPC", "GRPC-Web", "HTTP2", "MONGO", "TCP", "TLS", "UDP", "Redis", "MySQL", "HTTP_PROXY"]

    /// Nil when `protocolName` is empty (sniffed) or one Istio knows (`protocol.Parse`).
    static func protocolProblem(_ protocolName: String) -> String? {
        if protocolName.isEmpty { return nil }
        let lower = protocolName.lowercased()
        if knownProtocols.contains(where: { $0.lowercased() == lower }) { return nil }
        return "unsupported protocol \"\(protocolName)\"; use one of \(knownProtocols.joined(separator: ", "))"
    }

    static func isHTTPProtocol(_ p: String) -> Bool {
        ["http", "http2", "http_proxy", "grpc", "grpc-web"].contains(p.lowercased())
    }
    static func isTLSProtocol(_ p: String) -> Bool { ["https", "tls"].contains(p.lowercased()) }
    static func isTCPProtocol(_ p: String) -> Bool {
        ["tcp", "https", "tls", "mongo", "redis", "mysql"].contains(p.lowercased())
    }

    /// gRPC status names accepted by fault injection (`grpc.SupportedGRPCStatus`).
    static let grpcStatuses = [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
        "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ]

    /// `retryOn` policy names Envoy supports (`x-envoy-retry-on` and `x-envoy-retry-grpc-on`).
    static let retryOnPolicies: Set<String> = [
        "5xx", "gateway-error", "reset", "reset-before-request", "connect-failure", "retriable-4xx", "refused-stream",
        "retriable-status-codes", "retriable-headers", "envoy-ratelimited", "http3-post-connect-failure",
        "cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable",
    ]

    /// HTTP status codes with a registered name (Go's `http.StatusText`), which `retryOn` accepts.
    static let knownHTTPStatusCodes: Set<Int> = Set(
        [100, 101, 102, 103] + Array(200...208) + [226] + Array(300...305) + [307, 308] + Array(400...418)
            + Array(421...426) + [428, 429, 431, 451] + Array(500...508) + [510, 511])

    /// HTTP methods CORS `allowMethods` accepts.
    static let corsMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "*"]

    /// Envoy's rule for a status it can send (fault abort, direct response): 200 through 599.
    static func httpStatusProblem(_ status: Int64) -> String? {
        (200...599).contains(status) ? nil : "HTTP status \(status) is not in range 200-599"
    }

    /// Envoy's primality test for Maglev table sizes.
    static func isPrime(_ x: UInt64) -> Bool {
        if x != 0 && x < 4 { return true }
        if x & 1 == 0 { return false }
        var factor: UInt64 = 3
        while factor <= x / factor {
            if x % factor == 0 { return false }
            factor += 2
        }
        return true
    }
}
