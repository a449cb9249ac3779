import Foundation

/// Checks shared by many resources, matching the rules of Kubernetes and Istio validation.
public enum Rules {
    /// RFC 1123 label: lowercase alphanumerics and '-', starting and ending alphanumeric, ≤ 63.
    public static func isDNS1123Label(_ value: String) -> Bool {
        guard !value.isEmpty, value.utf8.count <= 63 else { return false }
        let bytes = Array(value.utf8)
        for (i, b) in bytes.enumerated() {
            let alnum = (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
            if alnum { continue }
            if b == 0x2D, i != 0, i != bytes.count - 1 { continue }
            return false
        }
        return true
    }

    /// RFC 1123 subdomain: dot-separated labels, ≤ 253 characters.
    public static func isDNS1123Subdomain(_ value: String) -> Bool {
        guard !value.isEmpty, value.utf8.count <= 253 else { return false }
        return value.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isDNS1123Label(String($0)) }
    }

    /// A host as Istio accepts it in `hosts` fields: `*`, `*.example.com`, `reviews`,
    /// `reviews.default.svc.cluster.local`; each label RFC 1123 (case-insensitive); ≤ 255.
    /// Returns nil when valid, otherwise the reason.
    public static func hostProblem(_ host: String, allowWildcard: Bool = true) -> String? {
        if host.isEmpty { return "host is empty" }
        if host.utf8.count > 255 { return "host \"\(host)\" is longer than 255 characters" }
        if host == "*" { return allowWildcard ? nil : "a wildcard host is not allowed here" }
        var rest = Substring(host)
        if rest.hasPrefix("*.") {
            guard allowWildcard else { return "a wildcard host is not allowed here" }
            rest = rest.dropFirst(2)
        } else if rest.hasPrefix("*") {
            guard allowWildcard else { return "a wildcard host is not allowed here" }
            // Istio accepts a prefix wildcard such as "*bar.com".
            rest = rest.dropFirst()
            if rest.isEmpty { return nil }
            if rest.hasPrefix(".") { rest = rest.dropFirst() }
        }
        if rest.hasSuffix(".") { rest = rest.dropLast() }  // a trailing dot (FQDN) is accepted
        for label in rest.split(separator: ".", omittingEmptySubsequences: false) {
            if !isDNS1123Label(label.lowercased()) {
                return "host \"\(host)\" is not a valid DNS name: label \"\(label)\" must be 1-63 letters, digits or '-', starting and ending with a letter or digit"
            }
        }
        return nil
    }

    /// A port number in 1...65535.
    public static func isValidPort(_ port: Int) -> Bool { (1...65535).contains(port) }

    /// Parses a duration as Istio's APIs accept it: Go's syntax (`1.5s`, `100ms`, `1h30m`,
    /// units ns, us, µs, ms, s, m, h). Returns seconds, or nil when malformed.
    public static func parseDuration(_ text: String) -> Double? {
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        var negative = false
        if rest.first == "-" || rest.first == "+" {
            negative = rest.first == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        var total = 0.0
        var sawComponent = false
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", number.filter({ $0 == "." }).count <= 1,
                let value = Double(number.hasPrefix(".") ? "0" + number : String(number))
            else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard !unit.isEmpty else { return nil }
            rest = rest.dropFirst(unit.count)
            let scale: Double
            switch unit {
            case "ns": scale = 1e-9
            case "us", "µs", "μs": scale = 1e-6
            case "ms": scale = 1e-3
            case "s": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            default: return nil
            }
            total += value * scale
            sawComponent = true
        }
        guard sawComponent else { return nil }
        return negative ? -total : total
    }

    /// Nil when `pattern` compiles as a regular expression in the RE2 syntax Envoy uses,
    /// otherwise the reason. RE2 has no look-around and no back-references.
    public static func regexProblem(_ pattern: String) -> String? {
        for unsupported in ["(?=", "(?!", "(?<=", "(?<!"] where pattern.contains(unsupported) {
            return "regex \"\(pattern)\" uses look-around \(unsupported), which RE2 does not support"
        }
        if pattern.range(of: #"\\[1-9]"#, options: .regularExpression) != nil {
            return "regex \"\(pattern)\" uses a back-reference, which RE2 does not support"
        }
        do {
            _ = try NSRegularExpression(pattern: pattern)
            return nil
        } catch {
            return "regex \"\(pattern)\" does not compile"
        }
    }

    /// An IPv4 or IPv6 address.
    public static func isIPAddress(_ text: String) -> Bool { isIPv4(text) || isIPv6(text) }

    /// A dotted-quad IPv4 address.
    public static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { part in
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                let v = Int(part), v <= 255
            else { return false }
            return !(part.count > 1 && part.hasPrefix("0"))
        }
    }

    /// An IPv6 address in any RFC 4291 text form (with optional embedded IPv4).
    public static func isIPv6(_ text: String) -> Bool {
        guard text.contains(":"), text.utf8.count <= 45 else { return false }
        var body = Substring(text)
        var groupsAllowed = 8
        if let lastColon = body.lastIndex(of: ":"), body[body.index(after: lastColon)...].contains(".") {
            guard isIPv4(String(body[body.index(after: lastColon)...])) else { return false }
            body = body[...lastColon]
            if body.hasSuffix(":") && !body.hasSuffix("::") { body = body.dropLast() }
            groupsAllowed = 6
        }
        let halves = body.components(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        func groups(_ s: String) -> [Substring]? {
            if s.isEmpty { return [] }
            let g = s.split(separator: ":", omittingEmptySubsequences: false)
            for x in g where x.isEmpty || x.count > 4 || !x.allSatisfy({ $0.isHexDigit }) { return nil }
            return g
        }
        guard let first = groups(halves[0]) else { return false }
        if halves.count == 2 {
            guard let second = groups(halves[1]) else { return false }
            return first.count + second.count < groupsAllowed
        }
        return first.count == groupsAllowed
    }

    /// An IP address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`).
    public static func isIPOrCIDR(_ text: String) -> Bool {
        guard let slash = text.firstIndex(of: "/") else { return isIPAddress(text) }
        let address = String(text[..<slash])
        guard let bits = Int(text[text.index(after: slash)...]),
            text[text.index(after: slash)...].allSatisfy({ $0.isASCII && $0.isNumber })
        else { return false }
        if isIPv4(address) { return (0...32).contains(bits) }
        if isIPv6(address) { return (0...128).contains(bits) }
        return false
    }

    /// A Kubernetes label key: optional DNS-subdomain prefix and `/`, then a name of ≤ 63
    /// alphanumerics, '-', '_' or '.', starting and ending alphanumeric.
    public static func labelKeyProblem(_ key: String) -> String? {
        var name = Substring(key)
        if let slash = key.firstIndex(of: "/") {
            let prefix = String(key[..<slash])
            guard isDNS1123Subdomain(prefix) else { return "label key prefix \"\(prefix)\" must be a DNS subdomain" }
            name = key[key.index(after: slash)...]
        }
        guard isQualifiedName(name) else {
            return "label key \"\(key)\" must be 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        }
        return nil
    }

    /// A Kubernetes label value: empty, or ≤ 63 alphanumerics, '-', '_' or '.', starting and
    /// ending alphanumeric.
    public static func labelValueProblem(_ value: String) -> String? {
        if value.isEmpty || isQualifiedName(Substring(value)) { return nil }
        return "label value \"\(value)\" must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
    }

    private static func isQualifiedName(_ name: Substring) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 63 else { return false }
        guard let first = name.first, let last = name.last,
            first.isASCII, first.isLetter || first.isNumber, last.isASCII, last.isLetter || last.isNumber
        else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
    }

    /// Validates every key and value of a label map, recording errors under `path`.
    public static func validateLabels(_ labels: [String: String]?, at path: FieldPath, into context: inout ValidationContext) {
        guard let labels else { return }
        for key in labels.keys.sorted() {
            if let problem = labelKeyProblem(key) { context.error(path(key), problem) }
            if let problem = labelValueProblem(labels[key] ?? "") { context.error(path(key), problem) }
        }
    }
}
