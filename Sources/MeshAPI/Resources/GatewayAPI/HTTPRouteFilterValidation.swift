import Foundation

/// Validation of HTTPRoute filters (rule filters and backendRef filters share the rules).
extension HTTPRoute {
    /// Filter types that may appear at most once in one list.
    static let singleUseFilters: Set<FilterType> = [.CORS, .RequestHeaderModifier, .ResponseHeaderModifier, .RequestRedirect, .URLRewrite]

    /// Checks a filter list. `singlePrefixMatch` tells whether the rule has exactly one
    /// `PathPrefix` match, which `ReplacePrefixMatch` needs.
    func validate(_ filters: [Filter], at path: FieldPath, singlePrefixMatch: Bool, into context: inout ValidationContext) {
        if filters.count > 16 { context.error(path, "at most 16 filters, found \(filters.count)") }
        var firstOfType: [FilterType: Int] = [:]
        for (i, filter) in filters.enumerated() {
            let at = path[i]
            if let first = firstOfType[filter.type], HTTPRoute.singleUseFilters.contains(filter.type) {
                context.error(at("type"), "\(filter.type.rawValue) filter cannot be repeated: filters[\(first)] is one already; merge them")
            } else if filter.type == .URLRewrite, let first = firstOfType[.RequestRedirect] {
                context.error(at("type"), "URLRewrite cannot be combined with the RequestRedirect filter in filters[\(first)]: a redirect answers the request, a rewrite forwards it; keep one")
            } else if filter.type == .RequestRedirect, let first = firstOfType[.URLRewrite] {
                context.error(at("type"), "RequestRedirect cannot be combined with the URLRewrite filter in filters[\(first)]: a redirect answers the request, a rewrite forwards it; keep one")
            }
            if firstOfType[filter.type] == nil { firstOfType[filter.type] = i }
            validate(filter, at: at, singlePrefixMatch: singlePrefixMatch, into: &context)
        }
    }

    private func validate(_ filter: Filter, at path: FieldPath, singlePrefixMatch: Bool, into context: inout ValidationContext) {
        let present = filter.presentConfigFields
        for other in present where other != filter.type {
            context.error(path(other.configField), "\(other.configField) must be unset for a \(filter.type.rawValue) filter; set type: \(other.rawValue) or remove it")
        }
        guard present.contains(filter.type) else {
            context.error(path(filter.type.configField), "required for type \(filter.type.rawValue): the filter's configuration, \(HTTPRoute.example(for: filter.type))")
            return
        }
        let config = path(filter.type.configField)
        switch filter.type {
        case .RequestHeaderModifier:
            if let modifier = filter.requestHeaderModifier { validate(modifier, at: config, into: &context) }
        case .ResponseHeaderModifier:
            if let modifier = filter.responseHeaderModifier { validate(modifier, at: config, into: &context) }
        case .RequestRedirect:
            if let redirect = filter.requestRedirect {
                validate(redirect, at: config, singlePrefixMatch: singlePrefixMatch, into: &context)
            }
        case .URLRewrite:
            if let rewrite = filter.urlRewrite {
                if let hostname = rewrite.hostname, let problem = KubernetesRules.gatewayHostnameProblem(hostname, allowWildcard: false) {
                    context.error(config("hostname"), problem)
                }
                if let modifier = rewrite.path {
                    validate(modifier, at: config("path"), singlePrefixMatch: singlePrefixMatch, filterName: "URLRewrite", into: &context)
                }
            }
        case .RequestMirror:
            if let mirror = filter.requestMirror { validate(mirror, at: config, into: &context) }
        case .CORS:
            if let cors = filter.cors { validate(cors, at: config, into: &context) }
        case .ExtensionRef:
            if let ref = filter.extensionRef {
                GatewayAPI.validateGroup(ref.group, at: config("group"), into: &context)
                GatewayAPI.validateKind(ref.kind, at: config("kind"), into: &context)
                GatewayAPI.validateName(ref.name, at: config("name"), into: &context)
            }
        case .ExternalAuth:
            if let auth = filter.externalAuth { validate(auth, at: config, into: &context) }
        }
    }

    static func example(for type: FilterType) -> String {
        switch type {
        case .RequestHeaderModifier, .ResponseHeaderModifier: return "e.g. \(type.configField): {set: [{name: x-env, value: prod}]}"
        case .RequestRedirect: return "e.g. requestRedirect: {scheme: https, statusCode: 301}"
        case .URLRewrite: return "e.g. urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}"
        case .RequestMirror: return "e.g. requestMirror: {backendRef: {name: reviews-v2, port: 9080}}"
        case .CORS: return "e.g. cors: {allowOrigins: [\"https://example.com\"]}"
        case .ExtensionRef: return "e.g. extensionRef: {group: example.com, kind: MyFilter, name: my-filter}"
        case .ExternalAuth: return "e.g. externalAuth: {protocol: GRPC, backendRef: {name: ext-authz, port: 9000}, grpc: {}}"
        }
    }

    private func validate(_ modifier: HeaderFilter, at path: FieldPath, into context: inout ValidationContext) {
        var actions: [String: String] = [:]
        for (key, list) in [("set", modifier.set), ("add", modifier.add)] {
            let headers = list ?? []
            if headers.count > 16 { context.error(path(key), "at most 16 headers to \(key), found \(headers.count)") }
            var names: [String: Int] = [:]
            for (i, header) in headers.enumerated() {
                let at = path(key)[i]
                if let problem = KubernetesRules.headerNameProblem(header.name) {
                    context.error(at("name"), problem)
                } else if let first = names[header.name] {
                    context.error(at("name"), "header \"\(header.name)\" is already in \(key)[\(first)]; each header may appear once")
                } else {
                    names[header.name] = i
                    if let other = actions[header.name.lowercased()] {
                        context.warning(at("name"), "header \"\(header.name)\" is also in \(other); only one action per header name is allowed")
                    } else {
                        actions[header.name.lowercased()] = "\(key)[\(i)]"
                    }
                }
                if header.value.isEmpty || header.value.utf8.count > 4096 {
                    context.error(at("value"), "a header value must be 1-4096 characters")
                }
            }
        }
        let removals = modifier.remove ?? []
        if removals.count > 16 { context.error(path("remove"), "at most 16 headers to remove, found \(removals.count)") }
        var removed: Set<String> = []
        for (i, name) in removals.enumerated() {
            if let problem = KubernetesRules.headerNameProblem(name) {
                context.error(path("remove")[i], problem)
            } else if !removed.insert(name).inserted {
                context.error(path("remove")[i], "header \"\(name)\" is listed twice in remove; list it once")
            } else if let other = actions[name.lowercased()] {
                context.warning(path("remove")[i], "header \"\(name)\" is also in \(other); only one action per header name is allowed")
            }
        }
    }

    private func validate(_ redirect: RequestRedirect, at path: FieldPath, singlePrefixMatch: Bool, into context: inout ValidationContext) {
        if let hostname = redirect.hostname, let problem = KubernetesRules.gatewayHostnameProblem(hostname, allowWildcard: false) {
            context.error(path("hostname"), problem)
        }
        GatewayAPI.validatePort(redirect.port, at: path("port"), into: &context)
        if let code = redirect.statusCode, ![301, 302, 303, 307, 308].contains(code) {
            context.error(path("statusCode"), "statusCode \(code) is not a redirect the Gateway API allows; use 301, 302 (default), 303, 307 or 308")
        }
        if let modifier = redirect.path {
            validate(modifier, at: path("path"), singlePrefixMatch: singlePrefixMatch, filterName: "RequestRedirect", into: &context)
        }
    }

    private func validate(
        _ modifier: PathModifier, at path: FieldPath, singlePrefixMatch: Bool, filterName: String,
        into context: inout ValidationContext
    ) {
        switch modifier.type {
        case .ReplaceFullPath:
            if modifier.replaceFullPath == nil {
                context.error(path("replaceFullPath"), "required when type is ReplaceFullPath: the new path, e.g. /reviews")
            }
            if modifier.replacePrefixMatch != nil {
                context.error(path("replacePrefixMatch"), "replacePrefixMatch needs type ReplacePrefixMatch; remove it or change the type")
            }
        case .ReplacePrefixMatch:
            if modifier.replacePrefixMatch == nil {
                context.error(path("replacePrefixMatch"), "required when type is ReplacePrefixMatch: what replaces the matched prefix, e.g. /")
            } else if !singlePrefixMatch {
                context.error(path("replacePrefixMatch"), "When using \(filterName) filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified in the rule")
            }
            if modifier.replaceFullPath != nil {
                context.error(path("replaceFullPath"), "replaceFullPath needs type ReplaceFullPath; remove it or change the type")
            }
        }
        for (key, value) in [("replaceFullPath", modifier.replaceFullPath), ("replacePrefixMatch", modifier.replacePrefixMatch)] {
            if let value, value.utf8.count > 1024 { context.error(path(key), "a path is at most 1024 characters") }
        }
    }

    private func validate(_ mirror: RequestMirror, at path: FieldPath, into context: inout ValidationContext) {
        GatewayAPI.validate(mirror.backendRef, at: path("backendRef"), into: &context)
        if let percent = mirror.percent, let problem = KubernetesRules.rangeProblem(percent, 0...100, "percent") {
            context.error(path("percent"), problem)
        }
        if let fraction = mirror.fraction {
            if mirror.percent != nil {
                context.error(path("fraction"), "only one of percent or fraction may be set; remove one")
            }
            let denominator = fraction.denominator ?? 100
            if fraction.numerator < 0 {
                context.error(path("fraction")("numerator"), "numerator \(fraction.numerator) must not be negative")
            } else if denominator < 1 {
                context.error(path("fraction")("denominator"), "denominator \(denominator) must be at least 1")
            } else if fraction.numerator > denominator {
                context.error(path("fraction")("numerator"), "numerator \(fraction.numerator) must be less than or equal to the denominator \(denominator)")
            }
        }
    }

    private func validate(_ cors: CORS, at path: FieldPath, into context: inout ValidationContext) {
        let origins = cors.allowOrigins ?? []
        if origins.count > 64 { context.error(path("allowOrigins"), "at most 64 allowOrigins, found \(origins.count)") }
        if origins.contains("*") && origins.count > 1 {
            context.error(path("allowOrigins"), "AllowOrigins cannot contain '*' alongside other origins; keep only '*' or list the origins")
        }
        for (i, origin) in origins.enumerated() where !HTTPRoute.isValidCORSOrigin(origin) {
            context.error(path("allowOrigins")[i], "origin \"\(origin)\" is invalid: use * or scheme://host[:port] with scheme http or https, e.g. https://www.example.com or https://*.example.com")
        }
        let methods = cors.allowMethods ?? []
        if methods.count > 9 { context.error(path("allowMethods"), "at most 9 allowMethods, found \(methods.count)") }
        if methods.contains("*") && methods.count > 1 {
            context.error(path("allowMethods"), "AllowMethods cannot contain '*' alongside other methods; keep only '*' or list the methods")
        }
        for (i, method) in methods.enumerated() where method != "*" && Method(rawValue: method) == nil {
            let valid = Method.allCases.map(\.rawValue).joined(separator: ", ")
            context.error(path("allowMethods")[i], "\"\(method)\" is not a valid value; use one of \(valid), *")
        }
        for key in ["allowHeaders", "exposeHeaders"] {
            let headers = (key == "allowHeaders" ? cors.allowHeaders : cors.exposeHeaders) ?? []
            if headers.count > 64 { context.error(path(key), "at most 64 \(key), found \(headers.count)") }
            if key == "allowHeaders" && headers.contains("*") && headers.count > 1 {
                context.error(path(key), "AllowHeaders cannot contain '*' alongside other headers; keep only '*' or list the headers")
            }
            for (i, name) in headers.enumerated() where name != "*" {
                if let problem = KubernetesRules.headerNameProblem(name) { context.error(path(key)[i], problem) }
            }
        }
        if let maxAge = cors.maxAge, maxAge < 1 {
            context.error(path("maxAge"), "maxAge \(maxAge) must be at least 1 second (default 5)")
        }
    }

    private func validate(_ auth: ExternalAuth, at path: FieldPath, into context: inout ValidationContext) {
        GatewayAPI.validate(auth.backendRef, at: path("backendRef"), into: &context)
        switch auth.protocol {
        case .GRPC:
            if auth.http != nil { context.error(path("http"), "http must be unset when protocol is GRPC; use grpc") }
            if auth.grpc == nil { context.error(path("grpc"), "required when protocol is GRPC, e.g. grpc: {}") }
        case .HTTP:
            if auth.grpc != nil { context.error(path("grpc"), "grpc must be unset when protocol is HTTP; use http") }
            if auth.http == nil { context.error(path("http"), "required when protocol is HTTP, e.g. http: {path: /authz}") }
        }
        if let authPath = auth.http?.path, !authPath.isEmpty, let problem = HTTPRoute.pathCharactersProblem(authPath) {
            context.error(path("http")("path"), "path \"\(authPath)\" " + problem)
        }
        if let size = auth.forwardBody?.maxSize, size < 0 {
            context.error(path("forwardBody")("maxSize"), "maxSize \(size) must not be negative")
        }
    }

    /// The CRD's `CORSOrigin` pattern: `*`, or `http(s)://host[:port]` where the host may
    /// start with `*.` or be `*`.
    static func isValidCORSOrigin(_ origin: String) -> Bool {
        if origin == "*" { return true }
        guard origin.utf8.count <= 253 else { return false }
        let pattern = #"^https?://(((\*\.)?([a-zA-Z0-9\-]+\.)*[a-zA-Z0-9-]+|\*)(:([0-9]{1,5}))?)$"#
        return origin.range(of: pattern, options: .regularExpression) != nil
    }
}
