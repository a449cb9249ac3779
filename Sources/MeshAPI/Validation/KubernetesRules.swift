/// Checks used by the Kubernetes and Gateway API resources, matching the apiserver's
/// validation (`k8s.io/apimachinery/pkg/util/validation`) and the Gateway API CRD schemas.
///
/// Each `…Problem` function returns nil when the value is valid, otherwise a sentence that
/// says what a valid value looks like.
public enum KubernetesRules {
    /// An IANA service name, as Kubernetes requires for named ports (`http`, `grpc-web`):
    /// 1-15 lowercase letters, digits and '-', at least one letter, no leading, trailing or
    /// doubled '-'.
    public static func portNameProblem(_ name: String) -> String? {
        let valid = "a port name must be 1-15 lowercase letters, digits and '-', contain a letter, and not start, end or repeat '-' (e.g. http, grpc-web)"
        guard !name.isEmpty, name.utf8.count <= 15 else { return "port name \"\(name)\" is invalid: \(valid)" }
        let bytes = Array(name.utf8)
        var sawLetter = false
        for (i, b) in bytes.enumerated() {
            let letter = b >= 0x61 && b <= 0x7A
            let digit = b >= 0x30 && b <= 0x39
            sawLetter = sawLetter || letter
            if letter || digit { continue }
            if b == 0x2D, i != 0, i != bytes.count - 1, bytes[i - 1] != 0x2D { continue }
            return "port name \"\(name)\" is invalid: \(valid)"
        }
        return sawLetter ? nil : "port name \"\(name)\" is invalid: \(valid)"
    }

    /// RFC 1035 label (what Service names must be): lowercase letters, digits and '-', starting
    /// with a letter and ending with a letter or digit, at most 63 characters.
    public static func isDNS1035Label(_ value: String) -> Bool {
        guard Rules.isDNS1123Label(value), let first = value.utf8.first else { return false }
        return first >= 0x61 && first <= 0x7A
    }

    /// A Kubernetes qualified name (used by `appProtocol`): an optional DNS-subdomain prefix
    /// and '/', then 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter
    /// or digit.
    public static func qualifiedNameProblem(_ value: String, what: String) -> String? {
        var name = Substring(value)
        if let slash = value.firstIndex(of: "/") {
            let prefix = String(value[..<slash])
            guard Rules.isDNS1123Subdomain(prefix) else {
                return "\(what) \"\(value)\" is invalid: the prefix before '/' must be a lowercase DNS subdomain (e.g. kubernetes.io/h2c)"
            }
            name = value[value.index(after: slash)...]
        }
        guard Rules.labelKeyProblem(String(name)) == nil, !name.contains("/") else {
            return "\(what) \"\(value)\" is invalid: use 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, optionally prefixed by a DNS subdomain and '/' (e.g. http, kubernetes.io/h2c)"
        }
        return nil
    }

    /// A fully qualified domain name as EndpointSlice `FQDN` addresses need it: at least two
    /// lowercase RFC 1123 labels separated by dots, at most 253 characters.
    public static func fqdnProblem(_ value: String) -> String? {
        var name = Substring(value)
        if name.hasSuffix(".") { name = name.dropLast() }
        guard Rules.isDNS1123Subdomain(String(name)), name.contains(".") else {
            return "\"\(value)\" is not a fully qualified domain name: use at least two lowercase labels separated by dots (e.g. reviews.bookinfo.example.com)"
        }
        return nil
    }

    /// A hostname as the Gateway API accepts it (`Hostname`): lowercase RFC 1123 labels, at
    /// most 253 characters, optionally prefixed by a `*.` wildcard label when
    /// `allowWildcard` (`PreciseHostname` allows none).
    public static func gatewayHostnameProblem(_ host: String, allowWildcard: Bool = true) -> String? {
        let example = allowWildcard ? "bookinfo.example.com or *.example.com" : "bookinfo.example.com"
        guard !host.isEmpty, host.utf8.count <= 253 else {
            return "hostname \"\(host)\" must be 1-253 characters, e.g. \(example)"
        }
        var rest = Substring(host)
        if rest.hasPrefix("*.") {
            guard allowWildcard else { return "hostname \"\(host)\" may not be a wildcard here; use a full name such as \(example)" }
            rest = rest.dropFirst(2)
        }
        guard Rules.isDNS1123Subdomain(String(rest)) else {
            return "hostname \"\(host)\" is invalid: use lowercase letters, digits, '-' and '.' (labels starting and ending with a letter or digit)\(allowWildcard ? ", optionally starting with a \"*.\" wildcard label" : ""), e.g. \(example)"
        }
        return nil
    }

    /// An HTTP header name (RFC 7230 token), as the Gateway API's `HeaderName` pattern has
    /// it: 1-256 of letters, digits and ``!#$%&'*+-.^_`|~``. Pseudo-headers (`:path`) are not
    /// allowed.
    public static func headerNameProblem(_ name: String) -> String? {
        let allowed: Set<UInt8> = Set("!#$%&'*+-.^_`|~".utf8)
        let ok = !name.isEmpty && name.utf8.count <= 256 && name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || allowed.contains(b)
        }
        return ok ? nil : "header name \"\(name)\" is invalid: use 1-256 letters, digits or !#$%&'*+-.^_`|~ (no spaces, no ':' pseudo-headers), e.g. x-request-id"
    }

    /// A Gateway API duration (`Duration`): 1-4 groups of up to 5 digits and a unit h, m,
    /// s or ms (`10s`, `1h30m`, `500ms`). Returns the seconds, or nil when malformed.
    public static func parseGatewayDuration(_ text: String) -> Double? {
        var rest = Substring(text)
        var groups = 0
        var total = 0.0
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard (1...5).contains(digits.count), let value = Double(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let scale: Double
            if rest.hasPrefix("ms") {
                scale = 0.001
                rest = rest.dropFirst(2)
            } else if let unit = rest.first, ["h", "m", "s"].contains(unit) {
                scale = unit == "h" ? 3600 : unit == "m" ? 60 : 1
                rest = rest.dropFirst()
            } else {
                return nil
            }
            total += value * scale
            groups += 1
            if groups > 4 { return nil }
        }
        return groups == 0 ? nil : total
    }

    /// The message for a malformed Gateway API duration.
    static func gatewayDurationMessage(_ text: String) -> String {
        "duration \"\(text)\" is invalid: use 1-4 groups of up to 5 digits with a unit h, m, s or ms, e.g. 10s, 1h30m, 500ms"
    }

    /// Nil when `value` is in `range`, otherwise "what must be between a and b".
    static func rangeProblem(_ value: Int, _ range: ClosedRange<Int>, _ what: String) -> String? {
        range.contains(value) ? nil : "\(what) \(value) is out of range: use \(range.lowerBound)-\(range.upperBound)"
    }

    /// Warns about Istio's own labels on a namespace, workload or service when Istio would
    /// ignore their value: `istio.io/dataplane-mode`, `istio.io/use-waypoint`,
    /// `istio.io/use-waypoint-namespace`.
    static func validateMeshLabels(_ metadata: ObjectMeta, into context: inout ValidationContext) {
        let labels = FieldPath.root("metadata")("labels")
        if let mode = metadata.label(MeshLabels.dataplaneMode), DataplaneMode(rawValue: mode) == nil {
            context.warning(labels(MeshLabels.dataplaneMode),
                "Istio ignores \(MeshLabels.dataplaneMode)=\"\(mode)\": use \"ambient\" to enroll in the ambient mesh or \"none\" to opt out")
        }
        if let waypoint = metadata.label(MeshLabels.useWaypoint), waypoint != MeshLabels.noWaypoint,
            !Rules.isDNS1123Subdomain(waypoint)
        {
            context.warning(labels(MeshLabels.useWaypoint),
                "\(MeshLabels.useWaypoint)=\"\(waypoint)\" names no possible Gateway: use the waypoint Gateway's name (a lowercase RFC 1123 name) or \"none\"")
        }
        if let namespace = metadata.label(MeshLabels.useWaypointNamespace), !Rules.isDNS1123Label(namespace) {
            context.warning(labels(MeshLabels.useWaypointNamespace),
                "\(MeshLabels.useWaypointNamespace)=\"\(namespace)\" names no possible namespace: use a lowercase RFC 1123 label such as istio-waypoints")
        }
    }
}
