/// AuthorizationPolicy validation, following Istio's webhook (`ValidateAuthorizationPolicy`)
/// and the CRD schema.
enum AuthorizationPolicyValidator {
    typealias Policy = AuthorizationPolicy

    /// Source fields the CUSTOM action cannot use (the external authorizer sees no peer
    /// identity or JWT principal from Istio).
    static let customUnsupportedSourceFields: Set<String> = [
        "principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals", "namespaces", "notNamespaces",
        "serviceAccounts", "notServiceAccounts", "trustDomains", "notTrustDomains",
    ]

    /// Source fields that make a rule apply to TCP traffic too (as Istio counts them).
    static let tcpSourceFields: Set<String> = [
        "principals", "notPrincipals", "ipBlocks", "notIpBlocks", "namespaces", "notNamespaces",
        "remoteIpBlocks", "notRemoteIpBlocks", "serviceAccounts", "notServiceAccounts",
    ]

    static func validate(_ policy: Policy, into context: inout ValidationContext) {
        let specPath = FieldPath.root("spec")
        let spec = policy.spec ?? Policy.Spec()
        let action = spec.effectiveAction
        SecurityRules.validateDryRunAnnotation(policy.metadata, kind: Policy.kind, authorizationAction: action, into: &context)
        SecurityRules.validateScope(
            selector: spec.selector, targetRef: spec.targetRef, targetRefs: spec.targetRefs, spec: specPath,
            into: &context)

        if action == .CUSTOM {
            if spec.rules == nil {
                context.error(specPath("rules"),
                    "a CUSTOM policy without rules is never triggered; add rules, or an empty rule {} to check every request")
            }
            if spec.provider == nil {
                context.error(specPath("provider"),
                    "action CUSTOM needs provider.name naming an extension provider of MeshConfig")
            } else if (spec.provider?.name ?? "").isEmpty {
                context.error(specPath("provider")("name"),
                    "provider.name must name an extension provider of MeshConfig (meshConfig.extensionProviders[].name)")
            }
        } else if spec.provider != nil {
            context.error(specPath("provider"),
                "provider is only used with action CUSTOM, found action \(action.rawValue); set action: CUSTOM or remove provider")
        }
        if action == .DENY && spec.rules == nil {
            context.error(specPath("rules"),
                "a DENY policy without rules is never triggered; add rules, or an empty rule {} to deny every request")
        }

        guard let rules = spec.rules else { return }
        if rules.count > 512 {
            context.error(specPath("rules"), "at most 512 rules are allowed, found \(rules.count)")
        }
        for (i, rule) in rules.enumerated() {
            validateRule(rule, action: action, at: specPath("rules")[i], into: &context)
        }
    }

    static func validateRule(_ rule: Policy.Rule, action: Policy.Action, at path: FieldPath, into context: inout ValidationContext) {
        var fromExists = false
        var tcpInFrom = false
        var toExists = false
        var tcpInTo = false

        if let from = rule.from {
            if from.isEmpty {
                context.error(path("from"), "from must not be an empty list; remove it to match any source")
            } else if from.count > 512 {
                context.error(path("from"), "at most 512 from entries are allowed, found \(from.count)")
            }
            for (j, entry) in from.enumerated() {
                let sourcePath = path("from")[j]("source")
                guard let source = entry.source else {
                    context.error(sourcePath, "required field is missing: each from entry needs a source")
                    continue
                }
                fromExists = true
                validateSource(source, action: action, at: sourcePath, into: &context)
                if source.fields.contains(where: { tcpSourceFields.contains($0.name) && $0.values != nil }) {
                    tcpInFrom = true
                }
            }
        }

        if let to = rule.to {
            if to.isEmpty {
                context.error(path("to"), "to must not be an empty list; remove it to match any operation")
            }
            for (j, entry) in to.enumerated() {
                let operationPath = path("to")[j]("operation")
                guard let operation = entry.operation else {
                    context.error(operationPath, "required field is missing: each to entry needs an operation")
                    continue
                }
                toExists = true
                validateOperation(operation, at: operationPath, into: &context)
                if operation.ports != nil || operation.notPorts != nil { tcpInTo = true }
            }
        }

        for (k, condition) in (rule.when ?? []).enumerated() {
            validateCondition(condition, action: action, at: path("when")[k], into: &context)
        }

        if action == .DENY && ((fromExists && !toExists && !tcpInFrom) || (toExists && !tcpInTo)) {
            context.warning(path,
                "this DENY rule uses only HTTP attributes, so it denies all traffic to TCP ports in the policy's scope; add ports to the operation to limit it")
        }
    }

    static func validateSource(_ source: Policy.Source, action: Policy.Action, at path: FieldPath, into context: inout ValidationContext) {
        let fields = source.fields
        if fields.allSatisfy({ ($0.values ?? []).isEmpty }) {
            context.error(path, "source must set at least one field, e.g. principals, namespaces or ipBlocks; remove the from entry to match any source")
        }
        let hasIdentity = !((source.principals ?? []) + (source.notPrincipals ?? []) + (source.namespaces ?? [])
            + (source.notNamespaces ?? [])).isEmpty
        let saField = !(source.serviceAccounts ?? []).isEmpty ? "serviceAccounts" : "notServiceAccounts"
        if hasIdentity && !((source.serviceAccounts ?? []) + (source.notServiceAccounts ?? [])).isEmpty {
            context.error(path(saField), "serviceAccounts cannot be set together with principals or namespaces; use one or the other")
        }
        for (name, values) in fields {
            guard let values else { continue }
            let fieldPath = path(name)
            if action == .CUSTOM && customUnsupportedSourceFields.contains(name) && !values.isEmpty {
                context.error(fieldPath, "\(name) is not supported with action CUSTOM; use ipBlocks, remoteIpBlocks, operations or conditions the external authorizer can check")
            }
            switch name {
            case "serviceAccounts", "notServiceAccounts":
                if values.count > 16 {
                    context.error(fieldPath, "at most 16 service accounts are allowed, found \(values.count)")
                }
                for (n, value) in values.enumerated() {
                    if let problem = SecurityRules.serviceAccountProblem(value) { context.error(fieldPath[n], problem) }
                }
            case "trustDomains", "notTrustDomains":
                for (n, value) in values.enumerated() {
                    if let problem = SecurityRules.trustDomainProblem(value) { context.error(fieldPath[n], problem) }
                }
            case "ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks":
                for (n, value) in values.enumerated() {
                    if let problem = SecurityRules.ipBlockProblem(value) { context.error(fieldPath[n], problem) }
                }
            default:
                for (n, value) in values.enumerated() where value.isEmpty {
                    context.error(fieldPath[n], "empty value is not allowed in \(name); use \"*\" to match any value")
                }
            }
        }
    }

    static func validateOperation(_ operation: Policy.Operation, at path: FieldPath, into context: inout ValidationContext) {
        let fields = operation.fields
        if fields.allSatisfy({ ($0.values ?? []).isEmpty }) {
            context.error(path, "operation must set at least one field, e.g. ports, methods or paths; remove the to entry to match any operation")
        }
        for (name, values) in fields {
            guard let values else { continue }
            let fieldPath = path(name)
            for (n, value) in values.enumerated() {
                if value.isEmpty {
                    context.error(fieldPath[n], "empty value is not allowed in \(name); use \"*\" to match any value")
                    continue
                }
                switch name {
                case "ports", "notPorts":
                    if let problem = SecurityRules.portProblem(value) { context.error(fieldPath[n], problem) }
                case "paths", "notPaths":
                    if let problem = SecurityRules.pathTemplateProblem(value) {
                        context.error(fieldPath[n], problem)
                    } else if !value.hasPrefix("/") && !value.hasPrefix("*") {
                        context.warning(fieldPath[n],
                            "request paths always start with '/', so \"\(value)\" never matches; use \"/\(value)\"")
                    }
                case "methods", "notMethods":
                    if value != "*" && value.contains(where: { $0.isLowercase }) {
                        context.warning(fieldPath[n],
                            "methods match case-sensitively and requests carry uppercase methods, so \"\(value)\" never matches; use \"\(value.uppercased())\"")
                    }
                default:
                    break
                }
            }
        }
    }

    static func validateCondition(
        _ condition: Policy.Condition, action: Policy.Action, at path: FieldPath, into context: inout ValidationContext
    ) {
        let key = condition.key
        if key.isEmpty {
            context.error(path("key"), "key must not be empty; use an attribute such as request.auth.claims[groups] or source.ip")
            return
        }
        if let problem = SecurityRules.conditionKeyProblem(key) {
            context.error(path("key"), problem)
        } else if action == .CUSTOM
            && (["source.namespace", "source.serviceAccount", "source.trustDomain", "source.principal"].contains(key)
                || key.hasPrefix("request.auth."))
        {
            context.error(path("key"), "\(key) is not supported with action CUSTOM")
        }
        if (condition.values ?? []).isEmpty && (condition.notValues ?? []).isEmpty {
            context.error(path("values"), "at least one of values or notValues must be set for key \(key)")
            return
        }
        for field in ["values", "notValues"] {
            let values = (field == "values" ? condition.values : condition.notValues) ?? []
            for (n, value) in values.enumerated() {
                if let problem = valueProblem(value, key: key) { context.error(path(field)[n], problem) }
            }
        }
    }

    /// What is wrong with one value of a condition on `key`, checked as Istio checks it.
    static func valueProblem(_ value: String, key: String) -> String? {
        if value.isEmpty { return "empty value is not allowed for key \(key); use \"*\" to match any value" }
        switch key {
        case "source.ip", "remote.ip", "destination.ip": return SecurityRules.ipBlockProblem(value)
        case "destination.port": return SecurityRules.portProblem(value)
        case "source.serviceAccount": return SecurityRules.serviceAccountProblem(value)
        case "source.trustDomain": return SecurityRules.wildcardProblem(value)
        default: return nil
        }
    }
}
