import Foundation

/// Validation of a VirtualService as Istio's webhook (`ValidateVirtualService`,
/// `validateHTTPRoute`) and its CRD schema do it.
struct VirtualServiceValidator {
    typealias VS = VirtualService

    let resource: VirtualService
    var context = ValidationContext()

    init(resource: VirtualService) {
        self.resource = resource
    }

    private var spec: VS.Spec { resource.spec }
    private var hosts: [String] { spec.hosts ?? [] }
    private var gateways: [String] { spec.gateways ?? [] }
    /// A VirtualService without hosts is a delegate.
    private var isDelegate: Bool { hosts.isEmpty }
    /// Bound to gateways only (no `mesh`).
    private var appliesToGateway: Bool { !gateways.isEmpty && !gateways.contains("mesh") }

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
        let root = FieldPath.root("spec")
        if isDelegate {
            if !gateways.isEmpty {
                error(root("gateways"), "a delegate VirtualService (one without hosts) must not set gateways: the gateways of the VirtualService that delegates to it apply; remove gateways or add hosts")
            }
            if !(spec.tls ?? []).isEmpty {
                error(root("tls"), "a delegate VirtualService (one without hosts) cannot have tls routes: only http routes can be delegated; add hosts or remove tls")
            }
            if !(spec.tcp ?? []).isEmpty {
                error(root("tcp"), "a delegate VirtualService (one without hosts) cannot have tcp routes: only http routes can be delegated; add hosts or remove tcp")
            }
        }
        if !gateways.isEmpty {
            NetworkingRules.validateGatewayNames(spec.gateways, at: root("gateways"), into: &context)
        }
        validateHosts(at: root("hosts"))

        if (spec.http ?? []).isEmpty && (spec.tcp ?? []).isEmpty && (spec.tls ?? []).isEmpty {
            error(root("http"), "a VirtualService needs at least one route: add http, tls or tcp rules")
        }
        for (i, route) in (spec.http ?? []).enumerated() {
            validateHTTPRoute(route, at: root("http")[i])
        }
        for (i, route) in (spec.tls ?? []).enumerated() {
            validateTLSRoute(route, at: root("tls")[i])
        }
        for (i, route) in (spec.tcp ?? []).enumerated() {
            validateTCPRoute(route, at: root("tcp")[i])
        }
        NetworkingRules.validateExportTo(spec.exportTo, namespace: resource.metadata.namespace, isServiceEntry: false,
            destinationRuleWithSelector: false, at: root("exportTo"), into: &context)

        warnUnreachable(spec.http?.map { route in (route.match ?? []).map { m -> VS.HTTPMatchRequest in var m = m; m.name = nil; return m } },
            names: spec.http?.map(\.name), at: root("http"))
        warnUnreachable(spec.tcp?.map { $0.match ?? [] }, names: nil, at: root("tcp"))
        warnUnreachable(spec.tls?.map(\.match), names: nil, at: root("tls"))
    }

    // MARK: Hosts

    private mutating func validateHosts(at path: FieldPath) {
        var allValid = true
        let sni = (spec.tls ?? []).contains { $0.match.contains { !$0.sniHosts.isEmpty } }
        for (i, host) in hosts.enumerated() {
            let problem = appliesToGateway
                ? gatewayBoundDomainProblem(host, sni: sni) : NetworkingRules.wildcardDomainProblem(host)
            if let problem {
                if !Rules.isIPAddress(host) {
                    error(path[i], problem)
                    allValid = false
                }
            } else if !appliesToGateway && host == "*" {
                error(path[i], "the wildcard host * is not allowed for a VirtualService bound to the mesh (sidecars); list the hosts, e.g. reviews or *.example.com, or bind it to a gateway")
                allValid = false
            }
        }
        guard allValid else { return }
        for i in hosts.indices {
            for j in hosts.indices where j > i && NetworkingRules.hostsOverlap(hosts[i], hosts[j]) {
                error(path[j], "duplicate host: \"\(hosts[j])\" overlaps \"\(hosts[i])\" (hosts[\(i)]); list each host once and do not repeat a host a wildcard already covers")
            }
        }
    }

    /// Istio's `ValidateWildcardDomainForVirtualServiceBoundToGateway`: also accepts the SNI
    /// names `outbound_.<port>_._.<host>` that AUTO_PASSTHROUGH gateways use.
    private func gatewayBoundDomainProblem(_ domain: String, sni: Bool) -> String? {
        if sni && domain.hasPrefix("outbound_") {
            let parts = domain.split(separator: "_", omittingEmptySubsequences: false)
            let format = "outbound_.<port>_._.<hostname>"
            guard parts.count >= 4 else { return "host \"\(domain)\" must follow the \(format) format" }
            let port = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "."))
            let hostname = parts[3].trimmingCharacters(in: CharacterSet(charactersIn: "."))
            if !port.contains(where: { $0.isASCII && $0.isNumber }) || !hostname.contains(where: { $0.isASCII && $0.isLetter }) {
                return "host \"\(domain)\" must follow the \(format) format"
            }
            return nil
        }
        return NetworkingRules.wildcardDomainProblem(domain)
    }

    // MARK: HTTP routes

    private mutating func validateHTTPRoute(_ route: VS.HTTPRoute, at path: FieldPath) {
        validateRouteConflicts(route, at: path)
        for (j, match) in (route.match ?? []).enumerated() {
            validateHTTPMatch(match, route: route, at: path("match")[j])
        }
        validateHeaders(route.headers, at: path("headers"))
        validateCors(route.corsPolicy, at: path("corsPolicy"))
        validateFault(route.fault, at: path("fault"))

        for key in ["mirrorPercent", "mirror_percent"] {
            let value = key == "mirrorPercent" ? route.mirrorPercent : route.mirror_percent
            guard let value else { continue }
            if value > 100 {
                error(path(key), "\(key) \(value) is above 100; use a percentage from 0 to 100 (better: mirrorPercentage: {value: N})")
            } else {
                warning(path(key), "\(key) is deprecated; use mirrorPercentage: {value: \(value)} instead")
            }
        }
        if let percentage = route.mirrorPercentage {
            let value = percentage.value ?? 0
            if !value.isFinite || value > 100 || value < 0 {
                error(path("mirrorPercentage")("value"), "mirrorPercentage \(NetworkingRules.format(value)) is out of range; use a value from 0 to 100")
            }
            if route.mirror == nil {
                warning(path("mirrorPercentage"), "mirrorPercentage applies to mirror, which is not set; set mirror, or give each entry of mirrors its own percentage")
            }
        }
        if let mirror = route.mirror {
            validateDestination(mirror, at: path("mirror"))
        }
        for (k, mirror) in (route.mirrors ?? []).enumerated() {
            validateDestination(mirror.destination, at: path("mirrors")[k]("destination"))
            if let percentage = mirror.percentage {
                let value = percentage.value ?? 0
                if !value.isFinite || value > 100 || value < 0 {
                    error(path("mirrors")[k]("percentage")("value"), "mirror percentage \(NetworkingRules.format(value)) is out of range; use a value from 0 to 100")
                }
            }
        }
        validateRedirect(route.redirect, matches: route.match ?? [], at: path("redirect"))
        validateDirectResponse(route.directResponse, at: path("directResponse"))
        validateRetries(route.retries, at: path("retries"))
        validateRewrite(route.rewrite, at: path("rewrite"))
        validateAuthorityRewrite(route, at: path)
        validateHTTPRouteDestinations(route.route, at: path("route"))
        NetworkingRules.checkDuration(route.timeout, at: path("timeout"), into: &context)
    }

    /// Exactly one action (route, redirect, directResponse, delegate), and what may accompany it.
    private mutating func validateRouteConflicts(_ route: VS.HTTPRoute, at path: FieldPath) {
        let hasRoute = !(route.route ?? []).isEmpty
        if !isDelegate && route.delegate != nil {
            // A root route: only delegate.
            if route.redirect != nil {
                error(path("delegate"), "a rule with delegate must not also set redirect: the delegate VirtualService decides; remove redirect or delegate")
            }
            if route.route != nil {
                error(path("delegate"), "a rule with delegate must not also set route: the delegate VirtualService decides; remove route or delegate")
            }
            return
        }
        if isDelegate && route.delegate != nil {
            error(path("delegate"), "a delegate VirtualService (one without hosts) cannot delegate again: delegation is one level deep; use route, redirect or directResponse")
        }
        if route.redirect != nil {
            if hasRoute {
                error(path("redirect"), "a rule cannot set both route and redirect: choose forwarding (route) or answering with a redirect")
            }
            if route.fault != nil {
                error(path("fault"), "a rule cannot set both redirect and fault: faults apply only to forwarded requests")
            }
            if route.rewrite != nil {
                error(path("rewrite"), "a rule cannot set both redirect and rewrite: use redirect's uri and authority instead")
            }
            if route.directResponse != nil {
                error(path("directResponse"), "a rule cannot set both redirect and directResponse: choose one")
            }
        } else if route.directResponse != nil {
            if hasRoute {
                error(path("directResponse"), "a rule cannot set both route and directResponse: choose forwarding (route) or answering directly")
            }
            if route.fault != nil {
                error(path("fault"), "a rule cannot set both directResponse and fault: faults apply only to forwarded requests")
            }
            if route.rewrite != nil {
                error(path("rewrite"), "a rule cannot set both directResponse and rewrite: nothing is forwarded to rewrite")
            }
        } else if !hasRoute {
            error(path("route"), "an HTTP rule needs an action: set route (forward to destinations), redirect, directResponse, or delegate")
        }
        if route.mirror != nil && !(route.mirrors ?? []).isEmpty {
            error(path("mirrors"), "a rule cannot set both mirror and mirrors: move mirror into mirrors")
        }
    }

    private mutating func validateHTTPMatch(_ match: VS.HTTPMatchRequest, route: VS.HTTPRoute, at path: FieldPath) {
        for name in (match.headers ?? [:]).keys.sorted() {
            let headerPath = path("headers")(name)
            if let problem = NetworkingRules.matchHeaderNameProblem(name) { error(headerPath, problem) }
            if !appliesToGateway && NetworkingRules.isJWTClaimRoute(name) {
                error(headerPath, "routing on a JWT claim (\(name)) works only on gateways; bind the VirtualService to a gateway (not mesh)")
            }
            if let value = match.headers?[name] {
                validateStringMatch(value, at: headerPath, what: "header \(name)", allowEmptyPrefix: false)
            }
        }
        for name in (match.withoutHeaders ?? [:]).keys.sorted() {
            let headerPath = path("withoutHeaders")(name)
            if let problem = NetworkingRules.matchHeaderNameProblem(name) { error(headerPath, problem) }
            if !appliesToGateway && NetworkingRules.isJWTClaimRoute(name) {
                error(headerPath, "routing on a JWT claim (\(name)) works only on gateways; bind the VirtualService to a gateway (not mesh)")
            }
            // `regex: "*"` is not RE2: it means "present".
            if let value = match.withoutHeaders?[name], value.regex != "*" {
                validateStringMatch(value, at: headerPath, what: "header \(name)", allowEmptyPrefix: false)
            }
        }
        if let uri = match.uri {
            validateStringMatch(uri, at: path("uri"), what: "uri", allowEmptyPrefix: true, warnEmpty: true)
            if match.ignoreUriCase == true && uri.regex != nil && uri.exact == nil && uri.prefix == nil {
                warning(path("ignoreUriCase"), "ignoreUriCase applies to exact and prefix uri matches only; for a regex use (?i) in the expression")
            }
        }
        if let scheme = match.scheme {
            validateStringMatch(scheme, at: path("scheme"), what: "scheme", allowEmptyPrefix: false, warnEmpty: true)
        }
        if let method = match.method {
            validateStringMatch(method, at: path("method"), what: "method", allowEmptyPrefix: false, warnEmpty: true)
        }
        if let authority = match.authority {
            validateStringMatch(authority, at: path("authority"), what: "authority", allowEmptyPrefix: false, warnEmpty: true)
        }
        for name in (match.queryParams ?? [:]).keys.sorted() {
            if let value = match.queryParams?[name] {
                validateStringMatch(value, at: path("queryParams")(name), what: "query parameter \(name)", allowEmptyPrefix: false)
            }
        }
        if let port = match.port, port != 0, let problem = NetworkingRules.portProblem(port) {
            error(path("port"), problem)
        }
        NetworkingRules.validateLabels(match.sourceLabels, at: path("sourceLabels"), into: &context)
        NetworkingRules.validateGatewayNames(match.gateways, at: path("gateways"), into: &context)
        if let ns = match.sourceNamespace, !ns.isEmpty, !NetworkingRules.isCaseInsensitiveDNS1123Label(Substring(ns)) {
            error(path("sourceNamespace"), "sourceNamespace \"\(ns)\" is not a valid namespace name: use an RFC 1123 label such as default")
        }
        let effectiveGateways = (match.gateways ?? []).isEmpty ? gateways : (match.gateways ?? [])
        let appliesToMesh = effectiveGateways.isEmpty || effectiveGateways.contains("mesh")
        if !appliesToMesh {
            if !(match.sourceLabels ?? [:]).isEmpty {
                warning(path("sourceLabels"), "sourceLabels only takes effect when the gateways include mesh; add mesh to gateways or remove sourceLabels")
            }
            if let ns = match.sourceNamespace, !ns.isEmpty {
                warning(path("sourceNamespace"), "sourceNamespace only takes effect when the gateways include mesh; add mesh to gateways or remove sourceNamespace")
            }
        }
    }

    /// Checks a StringMatch: at most one of exact/prefix/regex, non-empty prefix (except for
    /// uri) and regex, and a regex RE2 compiles.
    private mutating func validateStringMatch(
        _ match: VS.StringMatch, at path: FieldPath, what: String, allowEmptyPrefix: Bool, warnEmpty: Bool = false
    ) {
        let set = [("exact", match.exact), ("prefix", match.prefix), ("regex", match.regex)].filter { $0.1 != nil }
        if set.count > 1 {
            error(path(set[set.count - 1].0), "\(what) sets \(set.map(\.0).joined(separator: " and ")); a string match takes exactly one of exact, prefix or regex")
            return
        }
        if set.isEmpty {
            if warnEmpty {
                warning(path, "\(what) match is empty and matches every request; set one of exact, prefix or regex, or remove it")
            }
            return
        }
        if let prefix = match.prefix, prefix.isEmpty, !allowEmptyPrefix {
            error(path("prefix"), "\(what): a prefix match must not be empty; give a prefix, or use an empty match ({}) to check presence")
        }
        if let regex = match.regex {
            if regex.isEmpty {
                error(path("regex"), "\(what): a regex match must not be empty; give an RE2 expression such as .* or ^/api/.*")
            } else if let problem = NetworkingRules.re2Problem(regex) {
                error(path("regex"), "\(what): \(problem)")
            }
        }
    }

    private mutating func validateHeaders(_ headers: VS.Headers?, at path: FieldPath) {
        guard let headers else { return }
        if let request = headers.request {
            let p = path("request")
            for op in ["add", "set"] {
                let map = (op == "add" ? request.add : request.set) ?? [:]
                for name in map.keys.sorted() {
                    if let problem = NetworkingRules.requestSetHeaderNameProblem(name) { error(p(op)(name), problem) }
                    if let problem = NetworkingRules.headerValueProblem(map[name] ?? "") { error(p(op)(name), problem) }
                }
            }
            for (i, name) in (request.remove ?? []).enumerated() {
                if let problem = NetworkingRules.headerOperationNameProblem(name) { error(p("remove")[i], problem) }
            }
        }
        if let response = headers.response {
            let p = path("response")
            for op in ["add", "set"] {
                let map = (op == "add" ? response.add : response.set) ?? [:]
                for name in map.keys.sorted() {
                    if let problem = NetworkingRules.headerOperationNameProblem(name) { error(p(op)(name), problem) }
                    if let problem = NetworkingRules.headerValueProblem(map[name] ?? "") { error(p(op)(name), problem) }
                }
            }
            for (i, name) in (response.remove ?? []).enumerated() {
                if let problem = NetworkingRules.headerOperationNameProblem(name) { error(p("remove")[i], problem) }
            }
        }
    }

    /// The authority may be rewritten in one place only: rewrite.authority or one header op.
    private mutating func validateAuthorityRewrite(_ route: VS.HTTPRoute, at path: FieldPath) {
        var current = route.rewrite?.authority ?? ""
        let request = route.headers?.request
        for op in ["set", "add"] {
            let map = (op == "set" ? request?.set : request?.add) ?? [:]
            for name in map.keys.sorted() where NetworkingRules.isAuthorityHeader(name) {
                let value = map[name] ?? ""
                if !current.isEmpty {
                    error(path("headers")("request")(op)(name), "the authority is rewritten twice (to \"\(current)\" and to \"\(value)\"); set it in one place: rewrite.authority or one header operation")
                }
                current = value
            }
        }
    }

    private mutating func validateCors(_ policy: VS.CorsPolicy?, at path: FieldPath) {
        guard let policy else { return }
        if policy.allowOrigin != nil {
            warning(path("allowOrigin"), "allowOrigin is deprecated; use allowOrigins with exact, prefix or regex matches")
        }
        for (i, origin) in (policy.allowOrigins ?? []).enumerated() {
            let value = origin.exact ?? origin.prefix ?? origin.regex ?? ""
            if value.isEmpty {
                error(path("allowOrigins")[i], "an allowed origin must set a non-empty exact, prefix or regex, e.g. exact: https://example.com")
                continue
            }
            validateStringMatch(origin, at: path("allowOrigins")[i], what: "allowed origin", allowEmptyPrefix: false)
        }
        for (i, method) in (policy.allowMethods ?? []).enumerated() where !NetworkingRules.corsMethods.contains(method) {
            error(path("allowMethods")[i], "\"\(method)\" is not a supported HTTP method; use one of GET, HEAD, POST, PUT, PATCH, DELETE, CONNECT, OPTIONS, TRACE or *")
        }
        for key in ["allowHeaders", "exposeHeaders"] {
            for (i, name) in ((key == "allowHeaders" ? policy.allowHeaders : policy.exposeHeaders) ?? []).enumerated() {
                if let problem = NetworkingRules.corsHeaderNameProblem(name) { error(path(key)[i], problem) }
            }
        }
        if let maxAge = policy.maxAge {
            let before = context.findings.count
            NetworkingRules.checkDuration(maxAge, at: path("maxAge"), into: &context)
            if context.findings.count == before, let seconds = NetworkingRules.seconds(maxAge), seconds.rounded() != seconds {
                error(path("maxAge"), "maxAge \"\(maxAge)\" is finer than a second: only whole seconds are used, e.g. 24h or 300s")
            }
        }
    }

    private mutating func validateFault(_ fault: VS.HTTPFaultInjection?, at path: FieldPath) {
        guard let fault else { return }
        if fault.abort == nil && fault.delay == nil {
            error(path, "fault injection needs a delay, an abort, or both")
        }
        if let abort = fault.abort {
            let p = path("abort")
            if let percentage = abort.percentage {
                if let problem = NetworkingRules.percentageProblem(percentage.value ?? 0) { error(p("percentage")("value"), problem) }
            } else {
                warning(p, "abort has no percentage, so no request is aborted; add percentage: {value: 100} to abort every matching request")
            }
            let kinds = [("httpStatus", abort.httpStatus != nil), ("grpcStatus", abort.grpcStatus != nil), ("http2Error", abort.http2Error != nil)]
                .filter(\.1).map(\.0)
            if kinds.count > 1 {
                error(p(kinds[kinds.count - 1]), "abort sets \(kinds.joined(separator: " and ")); set exactly one of httpStatus or grpcStatus")
            } else if let status = abort.httpStatus {
                if let problem = NetworkingRules.httpStatusProblem(Int64(status)) { error(p("httpStatus"), "\(problem); abort with a status such as 503") }
            } else if let status = abort.grpcStatus {
                if !NetworkingRules.grpcStatuses.contains(status) {
                    error(p("grpcStatus"), "gRPC status \"\(status)\" is not supported; use one of \(NetworkingRules.grpcStatuses.joined(separator: ", "))")
                }
            } else if abort.http2Error != nil {
                error(p("http2Error"), "http2Error aborts are not supported by Istio yet; use httpStatus or grpcStatus")
            } else {
                warning(p, "abort has no httpStatus or grpcStatus, so nothing is aborted; set httpStatus (e.g. 503) or grpcStatus")
            }
        }
        if let delay = fault.delay {
            let p = path("delay")
            if let percentage = delay.percentage {
                if let problem = NetworkingRules.percentageProblem(percentage.value ?? 0) { error(p("percentage")("value"), problem) }
            } else if let percent = delay.percent {
                warning(p("percent"), "percent is deprecated; use percentage: {value: \(percent)}")
            } else {
                warning(p, "delay has no percentage, so no request is delayed; add percentage: {value: 100} to delay every matching request")
            }
            if delay.fixedDelay != nil && delay.exponentialDelay != nil {
                error(p("exponentialDelay"), "delay sets both fixedDelay and exponentialDelay; set fixedDelay only")
            } else if let fixed = delay.fixedDelay {
                NetworkingRules.checkDuration(fixed, at: p("fixedDelay"), into: &context)
            } else if let exponential = delay.exponentialDelay {
                NetworkingRules.checkDuration(exponential, at: p("exponentialDelay"), into: &context)
                error(p("exponentialDelay"), "exponentialDelay is not supported by Istio yet; use fixedDelay")
            } else {
                warning(p, "delay has no fixedDelay, so nothing is delayed; set fixedDelay, e.g. 5s")
            }
        }
    }

    private mutating func validateRedirect(_ redirect: VS.HTTPRedirect?, matches: [VS.HTTPMatchRequest], at path: FieldPath) {
        guard let redirect else { return }
        let uri = redirect.uri ?? ""
        let prefixRewrite = redirect.prefixRewrite ?? ""
        if !uri.isEmpty && !prefixRewrite.isEmpty {
            error(path("prefixRewrite"), "redirect sets both uri and prefixRewrite; use uri to replace the whole path or prefixRewrite to replace the matched prefix")
        }
        if !prefixRewrite.isEmpty {
            for (j, match) in matches.enumerated() {
                if let m = match.uri, m.prefix == nil {
                    error(path("prefixRewrite"), "prefixRewrite needs every uri match to be a prefix match, but match[\(j)].uri is not; use prefix matches or redirect.uri")
                    break
                }
            }
        }
        if redirect.port != nil && redirect.derivePort != nil {
            error(path("derivePort"), "redirect sets both port and derivePort; set one")
        }
        if uri.isEmpty && prefixRewrite.isEmpty && (redirect.authority ?? "").isEmpty && redirect.port == nil
            && redirect.derivePort == nil && (redirect.scheme ?? "").isEmpty
        {
            error(path, "redirect must change something: set uri, prefixRewrite, authority, scheme, port or derivePort")
        }
        if let code = redirect.redirectCode, code != 0, !(300...399).contains(code) {
            error(path("redirectCode"), "\(code) is not a valid redirect code; use a 3xx status such as 301, 302, 307 or 308")
        }
        if let scheme = redirect.scheme, !scheme.isEmpty, scheme != "http", scheme != "https" {
            error(path("scheme"), "redirect scheme \"\(scheme)\" is invalid; use http or https")
        }
        if let port = redirect.port, port > 0, let problem = NetworkingRules.portProblem(port) {
            error(path("port"), problem)
        }
    }

    private mutating func validateDirectResponse(_ response: VS.HTTPDirectResponse?, at path: FieldPath) {
        guard let response else { return }
        if let body = response.body {
            var size = 0
            if body.string != nil && body.bytes != nil {
                error(path("body")("bytes"), "body sets both string and bytes; set one")
            }
            if let text = body.string {
                size = text.utf8.count
            } else if let bytes = body.bytes {
                if let data = Data(base64Encoded: bytes) {
                    size = data.count
                } else {
                    error(path("body")("bytes"), "bytes must be base64-encoded; use string for text bodies")
                }
            }
            if size > 1 << 20 {
                error(path("body"), "direct response body is \(size) bytes; it must be less than 1MB")
            } else if size > 100 << 10 {
                warning(path("body"), "a direct response body of \(size) bytes is large and may slow down the control plane")
            }
        }
        if let problem = NetworkingRules.httpStatusProblem(Int64(response.status)) {
            error(path("status"), "\(problem); use a status such as 200, 404 or 503")
        }
    }

    private mutating func validateRetries(_ retries: VS.HTTPRetry?, at path: FieldPath) {
        guard let retries else { return }
        let attempts = retries.attempts ?? 0
        if attempts < 0 {
            error(path("attempts"), "attempts \(attempts) is negative; use 0 to disable retries or a positive number of retries")
        }
        if attempts == 0 {
            let present = [("perTryTimeout", retries.perTryTimeout != nil), ("retryOn", !(retries.retryOn ?? "").isEmpty),
                ("retryRemoteLocalities", retries.retryRemoteLocalities != nil)].first(where: \.1)?.0
            if let present {
                error(path(present), "\(present) is set but retries are disabled (attempts is 0 or unset); set attempts to the number of retries")
            }
        }
        NetworkingRules.checkDuration(retries.perTryTimeout, at: path("perTryTimeout"), into: &context)
        if let retryOn = retries.retryOn, !retryOn.isEmpty {
            for policy in retryOn.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
                let code = Int(policy).map { NetworkingRules.knownHTTPStatusCodes.contains($0) } ?? false
                if !code && !NetworkingRules.retryOnPolicies.contains(policy) {
                    error(path("retryOn"), "\"\(policy)\" is not a valid retryOn policy; use comma-separated (no spaces) Envoy conditions such as 5xx, gateway-error, reset, connect-failure, retriable-4xx, refused-stream, retriable-status-codes, unavailable, cancelled, or HTTP status codes such as 503")
                }
            }
        }
        NetworkingRules.checkDuration(retries.backoff, at: path("backoff"), into: &context)
    }

    private mutating func validateRewrite(_ rewrite: VS.HTTPRewrite?, at path: FieldPath) {
        guard let rewrite else { return }
        let uri = rewrite.uri ?? ""
        if !uri.isEmpty && rewrite.uriRegexRewrite != nil {
            error(path("uriRegexRewrite"), "rewrite sets both uri and uriRegexRewrite; set one")
            return
        }
        if uri.isEmpty && rewrite.uriRegexRewrite == nil && (rewrite.authority ?? "").isEmpty {
            error(path, "rewrite must set at least one of uri, uriRegexRewrite or authority")
            return
        }
        if let regexRewrite = rewrite.uriRegexRewrite {
            let p = path("uriRegexRewrite")
            let match = regexRewrite.match ?? ""
            if match.isEmpty {
                error(p("match"), "uriRegexRewrite needs both match (an RE2 expression) and rewrite")
            } else if (regexRewrite.rewrite ?? "").isEmpty {
                error(p("rewrite"), "uriRegexRewrite needs both match (an RE2 expression) and rewrite")
            } else if let problem = NetworkingRules.re2Problem(match) {
                error(p("match"), problem)
            }
        }
    }

    private mutating func validateHTTPRouteDestinations(_ destinations: [VS.HTTPRouteDestination]?, at path: FieldPath) {
        guard let destinations else { return }
        var total: Int64 = 0
        for (k, destination) in destinations.enumerated() {
            validateHeaders(destination.headers, at: path[k]("headers"))
            validateDestination(destination.destination, at: path[k]("destination"))
            validateWeight(destination.weight, at: path[k]("weight"))
            total += Int64(destination.weight ?? 0)
        }
        if destinations.count > 1 && total == 0 {
            error(path, "the weights of the \(destinations.count) destinations add up to 0; give at least one a positive weight (weights are relative, they need not add up to 100)")
        }
    }

    private mutating func validateRouteDestinations(_ destinations: [VS.RouteDestination], at path: FieldPath) {
        var total: Int64 = 0
        for (k, destination) in destinations.enumerated() {
            validateDestination(destination.destination, at: path[k]("destination"))
            validateWeight(destination.weight, at: path[k]("weight"))
            total += Int64(destination.weight ?? 0)
        }
        if destinations.count > 1 && total == 0 {
            error(path, "the weights of the \(destinations.count) destinations add up to 0; give at least one a positive weight (weights are relative, they need not add up to 100)")
        }
    }

    private mutating func validateWeight(_ weight: Int32?, at path: FieldPath) {
        if let weight, weight < 0 {
            error(path, "weight \(weight) is negative; weights are relative shares and must be 0 or more")
        }
    }

    private mutating func validateDestination(_ destination: VS.Destination, at path: FieldPath) {
        if destination.host == "*" {
            error(path("host"), "destination host cannot be *; name a service, e.g. reviews or reviews.default.svc.cluster.local")
        } else if let problem = NetworkingRules.wildcardDomainProblem(destination.host) {
            error(path("host"), problem)
        }
        if let subset = destination.subset, !subset.isEmpty, !NetworkingRules.isCaseInsensitiveDNS1123Label(Substring(subset)) {
            error(path("subset"), "subset name \"\(subset)\" is invalid: use an RFC 1123 label such as v1, as defined in the DestinationRule's subsets")
        }
        if let port = destination.port {
            if let problem = NetworkingRules.portProblem(port.number ?? 0) { error(path("port")("number"), problem) }
        }
    }

    // MARK: TLS and TCP routes

    private mutating func validateTLSRoute(_ route: VS.TLSRoute, at path: FieldPath) {
        if route.match.isEmpty {
            error(path("match"), "a tls route needs at least one match with sniHosts")
        }
        for (j, match) in route.match.enumerated() {
            let p = path("match")[j]
            if match.sniHosts.isEmpty {
                error(p("sniHosts"), "a tls match needs at least one SNI host, e.g. sniHosts: [example.com]")
            }
            for (k, sniHost) in match.sniHosts.enumerated() {
                validateSNIHost(sniHost, at: p("sniHosts")[k])
            }
            validateL4Common(destinationSubnets: match.destinationSubnets, port: match.port, sourceLabels: match.sourceLabels,
                gateways: match.gateways, at: p)
        }
        if (route.route ?? []).isEmpty {
            error(path("route"), "a tls rule needs route: the destinations to forward to")
        }
        validateRouteDestinations(route.route ?? [], at: path("route"))
    }

    private mutating func validateSNIHost(_ sniHost: String, at path: FieldPath) {
        let problem = appliesToGateway
            ? gatewayBoundDomainProblem(sniHost, sni: true) : NetworkingRules.wildcardDomainProblem(sniHost)
        if let problem {
            if Rules.isIPAddress(sniHost) {
                warning(path, "using an IP address (\"\(sniHost)\") as an SNI host goes against the SNI spec and most clients do not send it")
            } else {
                error(path, problem)
            }
            return
        }
        if !hosts.contains(where: { NetworkingRules.hostIsSubset(sniHost, of: $0) }) {
            error(path, "SNI host \"\(sniHost)\" is not covered by any of the VirtualService's hosts [\(hosts.joined(separator: ", "))]; add it to hosts or use a host they cover")
        }
    }

    private mutating func validateTCPRoute(_ route: VS.TCPRoute, at path: FieldPath) {
        for (j, match) in (route.match ?? []).enumerated() {
            let p = path("match")[j]
            validateL4Common(destinationSubnets: match.destinationSubnets, port: match.port, sourceLabels: match.sourceLabels,
                gateways: match.gateways, at: p)
            if let subnet = match.sourceSubnet, !subnet.isEmpty, let problem = NetworkingRules.ipSubnetProblem(subnet) {
                warning(p("sourceSubnet"), problem)
            }
        }
        if (route.route ?? []).isEmpty {
            error(path("route"), "a tcp rule needs route: the destinations to forward to")
        }
        validateRouteDestinations(route.route ?? [], at: path("route"))
    }

    private mutating func validateL4Common(
        destinationSubnets: [String]?, port: UInt32?, sourceLabels: [String: String]?, gateways: [String]?, at path: FieldPath
    ) {
        for (k, subnet) in (destinationSubnets ?? []).enumerated() {
            if let problem = NetworkingRules.ipSubnetProblem(subnet) { error(path("destinationSubnets")[k], problem) }
        }
        if let port, port != 0, let problem = NetworkingRules.portProblem(port) {
            error(path("port"), problem)
        }
        NetworkingRules.validateLabels(sourceLabels, at: path("sourceLabels"), into: &context)
        NetworkingRules.validateGatewayNames(gateways, at: path("gateways"), into: &context)
    }

    // MARK: Unreachable rules (warnings, as Istio's analyzer reports them)

    private mutating func warnUnreachable<M: Hashable>(_ rules: [[M]]?, names: [String?]?, at path: FieldPath) {
        guard let rules else { return }
        func label(_ i: Int) -> String {
            if let name = names?[i], !name.isEmpty { return "\"\(name)\"" }
            return "#\(i)"
        }
        var seen: [M: Int] = [:]
        var catchAll: Int?
        for (i, matches) in rules.enumerated() {
            if matches.isEmpty {
                if let earlier = catchAll {
                    warning(path[i], "rule \(label(i)) is never used: rule \(label(earlier)) before it has no match and catches all traffic; only the last rule can have no matches")
                }
                catchAll = catchAll ?? i
                continue
            }
            if let earlier = catchAll {
                warning(path[i], "rule \(label(i)) is never used: rule \(label(earlier)) before it has no match and catches all traffic; move it last")
                continue
            }
            var duplicates = 0
            for (j, match) in matches.enumerated() {
                if let earlier = seen[match] {
                    warning(path[i]("match")[j], "match #\(j) of rule \(label(i)) is never used: rule \(label(earlier)) has the same match")
                    duplicates += 1
                } else {
                    seen[match] = i
                }
            }
            if duplicates == matches.count && duplicates > 1 {
                warning(path[i], "rule \(label(i)) is never used: all its matches are used by earlier rules")
            }
        }
    }
}
