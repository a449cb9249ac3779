/// Validation of a DestinationRule as Istio's webhook (`ValidateDestinationRule`,
/// `validateTrafficPolicy`) and its CRD schema do it.
struct DestinationRuleValidator {
    typealias DR = DestinationRule

    let resource: DestinationRule
    var context = ValidationContext()

    init(resource: DestinationRule) {
        self.resource = resource
    }

    func validate(into outer: inout ValidationContext) {
        var copy = self
        copy.run()
        for finding in copy.context.findings {
            switch finding.severity {
            case .error: outer.error(finding.path, finding.message)
            case .warning: outer.warning(finding.path, finding.message)
            }
        }
    }

    private mutating func error(_ path: FieldPath, _ message: String) { context.error(path, message) }
    private mutating func warning(_ path: FieldPath, _ message: String) { context.warning(path, message) }

    private mutating func run() {
        let spec = resource.spec
        let root = FieldPath.root("spec")
        if let problem = NetworkingRules.wildcardDomainProblem(spec.host) {
            error(root("host"), problem)
        }
        validateTrafficPolicy(spec.trafficPolicy, at: root("trafficPolicy"))

        var names: [String: Int] = [:]
        for (i, subset) in (spec.subsets ?? []).enumerated() {
            let p = root("subsets")[i]
            if let earlier = names[subset.name] {
                error(p("name"), "duplicate subset name \"\(subset.name)\" (also subsets[\(earlier)]); give each subset a unique name")
            } else {
                names[subset.name] = i
            }
            if subset.name.isEmpty {
                error(p("name"), "subset name cannot be empty; use an RFC 1123 label such as v1")
            } else if !NetworkingRules.isCaseInsensitiveDNS1123Label(Substring(subset.name)) {
                error(p("name"), "subset name \"\(subset.name)\" is invalid: use an RFC 1123 label such as v1 or canary")
            }
            NetworkingRules.validateLabels(subset.labels, at: p("labels"), into: &context)
            validateTrafficPolicy(subset.trafficPolicy, at: p("trafficPolicy"))
        }

        NetworkingRules.validateExportTo(spec.exportTo, namespace: resource.metadata.namespace, isServiceEntry: false,
            destinationRuleWithSelector: spec.workloadSelector != nil, at: root("exportTo"), into: &context)
        if let selector = spec.workloadSelector {
            NetworkingRules.validateSelectorLabels(selector.matchLabels, at: root("workloadSelector")("matchLabels"), into: &context)
            if (selector.matchLabels ?? [:]).isEmpty {
                warning(root("workloadSelector"), "workload selector has no labels, so the rule applies to every workload in the namespace; add matchLabels or remove workloadSelector")
            }
        }
    }

    // MARK: Traffic policy

    private mutating func validateTrafficPolicy(_ policy: DR.TrafficPolicy?, at path: FieldPath) {
        guard let policy else { return }
        if policy == DR.TrafficPolicy() {
            error(path, "trafficPolicy must set at least one of loadBalancer, connectionPool, outlierDetection, tls, portLevelSettings, tunnel, proxyProtocol or retryBudget; remove it if there is nothing to set")
            return
        }
        if policy.tunnel != nil && policy.proxyProtocol != nil {
            error(path("proxyProtocol"), "tunnel and proxyProtocol cannot be set together; choose one")
            return
        }
        validateOutlierDetection(policy.outlierDetection, at: path("outlierDetection"))
        validateConnectionPool(policy.connectionPool, at: path("connectionPool"))
        validateLoadBalancer(policy.loadBalancer, outlier: policy.outlierDetection, at: path("loadBalancer"))
        validateTLS(policy.tls, at: path("tls"))
        for (i, portPolicy) in (policy.portLevelSettings ?? []).enumerated() {
            let p = path("portLevelSettings")[i]
            if let port = portPolicy.port {
                if let problem = NetworkingRules.portProblem(port.number ?? 0) { error(p("port")("number"), problem) }
            } else {
                error(p("port"), "a port-level policy needs port: {number: N} to say which port it applies to")
            }
            if portPolicy.outlierDetection == nil && portPolicy.connectionPool == nil && portPolicy.loadBalancer == nil
                && portPolicy.tls == nil
            {
                error(p, "a port-level policy must set at least one of loadBalancer, connectionPool, outlierDetection or tls")
            } else {
                validateOutlierDetection(portPolicy.outlierDetection, at: p("outlierDetection"))
                validateConnectionPool(portPolicy.connectionPool, at: p("connectionPool"))
                validateLoadBalancer(portPolicy.loadBalancer, outlier: portPolicy.outlierDetection, at: p("loadBalancer"))
                validateTLS(portPolicy.tls, at: p("tls"))
            }
        }
        if let tunnel = policy.tunnel {
            let p = path("tunnel")
            if let proto = tunnel.protocol, !proto.isEmpty, proto != "CONNECT", proto != "POST" {
                error(p("protocol"), "tunnel protocol \"\(proto)\" is invalid; use CONNECT or POST")
            }
            if NetworkingRules.fqdnProblem(tunnel.targetHost) != nil && !Rules.isIPAddress(tunnel.targetHost) {
                error(p("targetHost"), "tunnel targetHost \"\(tunnel.targetHost)\" must be a fully qualified domain name or an IP address")
            }
            if let problem = NetworkingRules.portProblem(tunnel.targetPort) { error(p("targetPort"), problem) }
        }
        if let budget = policy.retryBudget {
            let p = path("retryBudget")
            if let percent = budget.percent, !(percent.isFinite && (0...100).contains(percent)) {
                error(p("percent"), "retry budget percent \(NetworkingRules.format(percent)) is out of range; use 0 to 100")
            }
            NetworkingRules.checkDuration(budget.budgetInterval, at: p("budgetInterval"), into: &context, minimumOneMillisecond: false)
        }
    }

    private mutating func validateOutlierDetection(_ outlier: DR.OutlierDetection?, at path: FieldPath) {
        guard let outlier else { return }
        NetworkingRules.checkDuration(outlier.baseEjectionTime, at: path("baseEjectionTime"), into: &context)
        if let errors = outlier.consecutiveErrors, errors != 0 {
            warning(path("consecutiveErrors"), "consecutiveErrors is deprecated; use consecutiveGatewayErrors or consecutive5xxErrors instead")
        }
        if outlier.splitExternalLocalOriginErrors != true, let failures = outlier.consecutiveLocalOriginFailures, failures > 0 {
            error(path("consecutiveLocalOriginFailures"), "consecutiveLocalOriginFailures takes effect only with splitExternalLocalOriginErrors: true; set it or remove consecutiveLocalOriginFailures")
        }
        NetworkingRules.checkDuration(outlier.interval, at: path("interval"), into: &context)
        for key in ["maxEjectionPercent", "minHealthPercent"] {
            let value = key == "maxEjectionPercent" ? outlier.maxEjectionPercent : outlier.minHealthPercent
            if let value, !(0...100).contains(value) {
                error(path(key), "\(key) \(value) is not in range 0..100")
            }
        }
        for (i, code) in (outlier.outlierDetectionHttpErrorCodes ?? []).enumerated() where !(100...599).contains(code) {
            error(path("outlierDetectionHttpErrorCodes")[i], "HTTP status \(code) is not in range 100-599")
        }
    }

    private mutating func validateConnectionPool(_ pool: DR.ConnectionPoolSettings?, at path: FieldPath) {
        guard let pool else { return }
        if pool.http == nil && pool.tcp == nil {
            error(path, "connectionPool must set tcp, http or both")
            return
        }
        if let http = pool.http {
            let p = path("http")
            let counters: [(String, Int32?)] = [
                ("http1MaxPendingRequests", http.http1MaxPendingRequests), ("http2MaxRequests", http.http2MaxRequests),
                ("maxRequestsPerConnection", http.maxRequestsPerConnection), ("maxRetries", http.maxRetries),
                ("maxConcurrentStreams", http.maxConcurrentStreams),
            ]
            for (key, value) in counters {
                if let value, value < 0 { error(p(key), "\(key) \(value) is negative; use 0 or more") }
            }
            NetworkingRules.checkDuration(http.idleTimeout, at: p("idleTimeout"), into: &context)
            if http.h2UpgradePolicy == .UPGRADE && http.useClientProtocol == true {
                error(p("useClientProtocol"), "useClientProtocol cannot be true when h2UpgradePolicy is UPGRADE; choose one")
            }
            if let keepalive = http.http2KeepAlive {
                let k = p("http2KeepAlive")
                if keepalive.interval == nil {
                    error(k("interval"), "http2KeepAlive needs interval, e.g. 30s")
                } else {
                    NetworkingRules.checkDuration(keepalive.interval, at: k("interval"), into: &context)
                }
                if keepalive.timeout == nil {
                    error(k("timeout"), "http2KeepAlive needs timeout, e.g. 5s")
                } else {
                    NetworkingRules.checkDuration(keepalive.timeout, at: k("timeout"), into: &context)
                }
            }
        }
        if let tcp = pool.tcp {
            let p = path("tcp")
            if let value = tcp.maxConnections, value < 0 {
                error(p("maxConnections"), "maxConnections \(value) is negative; use 0 or more")
            }
            NetworkingRules.checkDuration(tcp.connectTimeout, at: p("connectTimeout"), into: &context)
            NetworkingRules.checkDuration(tcp.maxConnectionDuration, at: p("maxConnectionDuration"), into: &context)
            NetworkingRules.checkDuration(tcp.idleTimeout, at: p("idleTimeout"), into: &context, zeroDisables: true)
            if let keepalive = tcp.tcpKeepalive {
                NetworkingRules.checkDuration(keepalive.time, at: p("tcpKeepalive")("time"), into: &context)
                NetworkingRules.checkDuration(keepalive.interval, at: p("tcpKeepalive")("interval"), into: &context)
            }
        }
    }

    private mutating func validateLoadBalancer(
        _ settings: DR.LoadBalancerSettings?, outlier: DR.OutlierDetection?, at path: FieldPath
    ) {
        guard let settings else { return }
        if settings.simple != nil && settings.consistentHash != nil {
            error(path("consistentHash"), "loadBalancer sets both simple and consistentHash; choose one")
        }
        if let hash = settings.consistentHash {
            let p = path("consistentHash")
            let keys = [("httpHeaderName", hash.httpHeaderName != nil), ("httpCookie", hash.httpCookie != nil),
                ("useSourceIp", hash.useSourceIp != nil), ("httpQueryParameterName", hash.httpQueryParameterName != nil)]
                .filter(\.1).map(\.0)
            if keys.count > 1 {
                error(p(keys[keys.count - 1]), "consistentHash sets \(keys.joined(separator: " and ")); hash on exactly one of httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName")
            }
            if hash.ringHash != nil && hash.maglev != nil {
                error(p("maglev"), "consistentHash sets both ringHash and maglev; choose one algorithm")
            }
            if let cookie = hash.httpCookie {
                if cookie.name.isEmpty { error(p("httpCookie")("name"), "httpCookie needs a name, e.g. user") }
                NetworkingRules.checkDuration(cookie.ttl, at: p("httpCookie")("ttl"), into: &context, minimumOneMillisecond: false)
                var seen = Set<String>()
                for (i, attribute) in (cookie.attributes ?? []).enumerated() {
                    let a = p("httpCookie")("attributes")[i]("name")
                    if attribute.name.isEmpty {
                        error(a, "a cookie attribute needs a name, e.g. SameSite")
                    } else if !seen.insert(attribute.name).inserted {
                        error(a, "duplicate cookie attribute \"\(attribute.name)\"; list each attribute once")
                    }
                }
            }
            if let size = hash.minimumRingSize, size != 0 {
                if hash.ringHash != nil || hash.maglev != nil {
                    error(p("minimumRingSize"), "minimumRingSize cannot be combined with ringHash or maglev; use ringHash.minimumRingSize")
                } else {
                    warning(p("minimumRingSize"), "minimumRingSize is deprecated; use ringHash: {minimumRingSize: \(size)}")
                }
            }
            if let maglev = hash.maglev {
                let size = maglev.tableSize ?? 0
                if size == 0 {
                    error(p("maglev")("tableSize"), "maglev needs tableSize, a prime below 5000011 such as 65537")
                } else if size >= 5_000_011 {
                    error(p("maglev")("tableSize"), "maglev tableSize \(size) must be less than 5000011, e.g. 65537")
                } else if !NetworkingRules.isPrime(size) {
                    error(p("maglev")("tableSize"), "maglev tableSize \(size) must be a prime number, e.g. 65537")
                }
            }
        }
        if settings.localityLbSetting != nil && settings.zoneAwareLbSetting != nil {
            error(path("zoneAwareLbSetting"), "set only one of localityLbSetting and zoneAwareLbSetting")
        }
        validateLocality(settings.localityLbSetting, outlier: outlier, at: path("localityLbSetting"))
        validateZoneAware(settings.zoneAwareLbSetting, outlier: outlier, at: path("zoneAwareLbSetting"))
        NetworkingRules.checkDuration(settings.warmupDurationSecs, at: path("warmupDurationSecs"), into: &context)
        if let warmup = settings.warmup {
            let p = path("warmup")
            NetworkingRules.checkDuration(warmup.duration, at: p("duration"), into: &context)
            if let minimum = warmup.minimumPercent, !(minimum.isFinite && (0...100).contains(minimum)) {
                error(p("minimumPercent"), "minimumPercent \(NetworkingRules.format(minimum)) must be from 0 to 100")
            }
            if let aggression = warmup.aggression, !(aggression > 0) {
                error(p("aggression"), "aggression \(NetworkingRules.format(aggression)) must be greater than 0 (1.0 ramps up linearly)")
            }
        }
        if settings.warmupDurationSecs != nil || settings.warmup != nil,
            let simple = settings.simple, simple != .ROUND_ROBIN, simple != .LEAST_REQUEST, simple != .UNSPECIFIED
        {
            warning(path(settings.warmup != nil ? "warmup" : "warmupDurationSecs"), "warmup works only with ROUND_ROBIN and LEAST_REQUEST load balancing, not \(simple.rawValue)")
        }
    }

    private static let topologyLabels = ["topology.kubernetes.io/region", "topology.kubernetes.io/zone", "topology.istio.io/subzone"]

    private mutating func validateLocality(
        _ lb: DR.LocalityLoadBalancerSetting?, outlier: DR.OutlierDetection?, at path: FieldPath
    ) {
        guard let lb else { return }
        let distribute = lb.distribute ?? []
        let failover = lb.failover ?? []
        let priority = lb.failoverPriority ?? []
        if !distribute.isEmpty && !failover.isEmpty {
            error(path("failover"), "localityLbSetting cannot set both distribute and failover; choose one")
            return
        }
        if !failover.isEmpty, let label = priority.first(where: { Self.topologyLabels.contains($0) }) {
            error(path("failoverPriority"), "failoverPriority cannot use the topology label \(label) together with failover; remove one")
            return
        }
        var sources: [String] = []
        for (i, rule) in distribute.enumerated() {
            sources.append(rule.from ?? "")
            var total: UInt64 = 0
            let to = rule.to ?? [:]
            for locality in to.keys.sorted() {
                let weight = to[locality] ?? 0
                if weight == 0 || weight > 100 {
                    error(path("distribute")[i]("to")(locality), "locality weight \(weight) must be in range 1..100")
                    return
                }
                total += UInt64(weight)
            }
            if total != 100 {
                error(path("distribute")[i]("to"), "locality weights add up to \(total); they must add up to 100")
                return
            }
            if let problem = localitiesProblem(to.keys.sorted()) {
                error(path("distribute")[i]("to"), problem)
            }
        }
        if let problem = localitiesProblem(sources) {
            error(path("distribute"), problem)
        }
        if (!failover.isEmpty || !priority.isEmpty) && outlier == nil {
            warning(path, "failover needs outlierDetection to detect unhealthy endpoints; add an outlierDetection policy")
        }
        for (i, rule) in failover.enumerated() {
            let from = rule.from ?? ""
            let to = rule.to ?? ""
            let p = path("failover")[i]
            if from == to {
                error(p("to"), "failover must go to a different region than it comes from")
            }
            if from.contains("/") || to.contains("/") {
                error(p, "failover names regions only (no zone or subzone after '/')")
            }
            if from.contains("*") || to.contains("*") {
                error(p, "failover regions cannot contain the '*' wildcard")
            }
        }
    }

    /// Istio's `validateLocalities`: `region[/zone[/subzone]]`, `*` only at the end, no overlaps.
    private func localitiesProblem(_ localities: [String]) -> String? {
        var seen: [[String]] = []
        for locality in localities {
            let stars = locality.filter { $0 == "*" }.count
            if stars > 1 || (stars == 1 && !locality.hasSuffix("*")) {
                return "locality \(locality): the wildcard '*' may appear once, at the end"
            }
            let parts = locality.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            if parts.contains(where: \.isEmpty) {
                return "locality \(locality) must not have an empty region, zone or subzone"
            }
            for earlier in seen where Self.localitiesOverlap(earlier, parts) {
                return "locality \(locality) overlaps with \(earlier.joined(separator: "/")) given before"
            }
            seen.append(parts)
        }
        return nil
    }

    private static func localitiesOverlap(_ a: [String], _ b: [String]) -> Bool {
        for i in 0..<min(a.count, b.count) {
            if a[i] == "*" || b[i] == "*" { return true }
            if a[i] != b[i] { return false }
        }
        return true  // one is a prefix of the other
    }

    private mutating func validateZoneAware(
        _ lb: DR.ZoneAwareLoadBalancerSetting?, outlier: DR.OutlierDetection?, at path: FieldPath
    ) {
        guard let lb else { return }
        for (i, label) in (lb.failoverPriority ?? []).enumerated() where Self.topologyLabels.contains(label) {
            error(path("failoverPriority")[i], "zone-aware failoverPriority must not use the topology label \(label): region and zone routing are automatic")
        }
        if (!(lb.failover ?? []).isEmpty || !(lb.failoverPriority ?? []).isEmpty) && outlier == nil {
            warning(path, "failover needs outlierDetection to detect unhealthy endpoints; add an outlierDetection policy")
        }
        for (i, rule) in (lb.failover ?? []).enumerated() {
            let from = rule.from ?? ""
            let to = rule.to ?? ""
            let p = path("failover")[i]
            if from == to { error(p("to"), "failover must go to a different region than it comes from") }
            if from.contains("/") || to.contains("/") {
                error(p, "zone-aware failover names regions only; zone and subzone failover are automatic")
            }
            if from.contains("*") || to.contains("*") { error(p, "failover regions cannot contain the '*' wildcard") }
        }
    }

    private mutating func validateTLS(_ tls: DR.ClientTLSSettings?, at path: FieldPath) {
        guard let tls else { return }
        let mode = tls.mode ?? .DISABLE
        let has: (String?) -> Bool = { !($0 ?? "").isEmpty }
        if let credential = tls.credentialName, credential.hasPrefix("configmap://") {
            let namespace = resource.metadata.namespace ?? ""
            let rest = credential.dropFirst("configmap://".count)
            let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
            if rest.isEmpty || parts.count > 2 || parts.contains(where: \.isEmpty) {
                error(path("credentialName"), "credentialName \"\(credential)\" is invalid; use configmap://<name> or configmap://<namespace>/<name>")
            } else if namespace.isEmpty || (parts.count == 2 && String(parts[0]) != namespace) {
                error(path("credentialName"), "a configmap:// credentialName must be in the DestinationRule's own namespace \"\(namespace)\"")
            }
        }
        if tls.insecureSkipVerify == true {
            if mode == .SIMPLE && (has(tls.caCertificates) || has(tls.credentialName) || tls.subjectAltNames != nil) {
                error(path("insecureSkipVerify"), "insecureSkipVerify: true cannot be combined with caCertificates, credentialName or subjectAltNames; remove one side")
            }
            if mode == .MUTUAL && (has(tls.caCertificates) || tls.subjectAltNames != nil) {
                error(path("insecureSkipVerify"), "insecureSkipVerify: true cannot be combined with caCertificates or subjectAltNames; remove one side")
            }
        }
        if (mode == .SIMPLE || mode == .MUTUAL) && has(tls.credentialName) {
            if has(tls.clientCertificate) || has(tls.caCertificates) || has(tls.privateKey) || has(tls.caCrl) {
                error(path("credentialName"), "credentialName cannot be combined with clientCertificate, privateKey, caCertificates or caCrl: the secret provides them")
            }
            return
        }
        if mode == .MUTUAL {
            if !has(tls.clientCertificate) {
                error(path("clientCertificate"), "mode MUTUAL needs clientCertificate (and privateKey), or credentialName")
            }
            if !has(tls.privateKey) {
                error(path("privateKey"), "mode MUTUAL needs privateKey (and clientCertificate), or credentialName")
            }
        }
        if mode == .ISTIO_MUTUAL {
            let extra = [("clientCertificate", has(tls.clientCertificate)), ("privateKey", has(tls.privateKey)),
                ("caCertificates", has(tls.caCertificates)), ("credentialName", has(tls.credentialName))]
                .first(where: \.1)?.0
            if let extra {
                warning(path(extra), "\(extra) is ignored with mode ISTIO_MUTUAL, which uses Istio's certificates; remove it or use MUTUAL")
            }
        }
    }
}
