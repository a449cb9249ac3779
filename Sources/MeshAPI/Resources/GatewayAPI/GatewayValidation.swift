import Foundation

/// Gateway validation: the Gateway API CRD schema and its CEL rules (what the apiserver
/// rejects, as errors), and how Istio treats the listeners of its own classes (what Istio
/// marks not accepted in the Gateway's status, as warnings).
extension Gateway {
    public func validate(into context: inout ValidationContext) {
        let path = FieldPath.root("spec")
        if spec.gatewayClassName.isEmpty || spec.gatewayClassName.utf8.count > 253 {
            context.error(path("gatewayClassName"), "gatewayClassName must name a GatewayClass (1-253 characters), e.g. istio or istio-waypoint")
        }
        validateListeners(at: path("listeners"), into: &context)
        validateAddresses(at: path("addresses"), into: &context)
        if let infrastructure = spec.infrastructure {
            validateInfrastructure(infrastructure, at: path("infrastructure"), into: &context)
        }
        if let selector = spec.allowedListeners?.namespaces?.selector {
            selector.validate(at: path("allowedListeners")("namespaces")("selector"), into: &context)
        }
        if let scope = spec.defaultScope, scope != "All" && scope != "None" {
            context.error(path("defaultScope"), "defaultScope \"\(scope)\" is not valid; use All or None")
        }
        if let ref = spec.tls?.backend?.clientCertificateRef {
            GatewayAPI.validate(ref, at: path("tls")("backend")("clientCertificateRef"), into: &context)
        }
        if let ports = spec.tls?.frontend?.perPort {
            var seen: [Int: Int] = [:]
            for (i, entry) in ports.enumerated() {
                let at = path("tls")("frontend")("perPort")[i]
                GatewayAPI.validatePort(entry.port, at: at("port"), into: &context)
                if let first = seen[entry.port] {
                    context.error(at("port"), "port \(entry.port) already has TLS settings in perPort[\(first)]; each port may appear once")
                } else {
                    seen[entry.port] = i
                }
            }
        }
        validateWaypointLabel(into: &context)
    }

    private func validateListeners(at path: FieldPath, into context: inout ValidationContext) {
        let listeners = spec.listeners
        if listeners.isEmpty {
            context.error(path, "a Gateway needs at least one listener; a waypoint's is {name: mesh, port: 15008, protocol: HBONE}")
            return
        }
        if listeners.count > 64 {
            context.error(path, "a Gateway has at most 64 listeners, found \(listeners.count)")
        }
        var names: [String: Int] = [:]
        var combinations: [String: Int] = [:]
        for (i, listener) in listeners.enumerated() {
            let at = path[i]
            if let problem = GatewayAPI.sectionNameProblem(listener.name) {
                context.error(at("name"), "listener " + problem)
            } else if let first = names[listener.name] {
                context.error(at("name"), "listener name \"\(listener.name)\" is already used by listeners[\(first)]; listener names must be unique within the Gateway")
            } else {
                names[listener.name] = i
            }
            let key = "\(listener.port)/\(listener.protocol)/\(listener.hostname ?? "")"
            if let first = combinations[key] {
                context.error(at, "listeners[\(first)] already has port \(listener.port), protocol \(listener.protocol) and the same hostname; give each listener a distinct port, protocol or hostname")
            } else {
                combinations[key] = i
            }
            validateListener(listener, at: at, into: &context)
        }
    }

    private func validateListener(_ listener: Listener, at path: FieldPath, into context: inout ValidationContext) {
        let proto = listener.protocol
        if let hostname = listener.hostname {
            if ["TCP", "UDP"].contains(proto) {
                context.error(path("hostname"), "hostname must not be set for protocol \(proto): \(proto) has no host to match; remove it")
            } else if let problem = KubernetesRules.gatewayHostnameProblem(hostname) {
                context.error(path("hostname"), problem)
            } else if Rules.isIPv4(hostname) {
                context.warning(path("hostname"), "hostname \"\(hostname)\" is an IP address; the Gateway API matches host names only, so use a DNS name or remove it")
            }
        }
        if let problem = KubernetesRules.rangeProblem(listener.port, 1...65535, "port") {
            context.error(path("port"), problem)
        }
        if !Gateway.isValidProtocolName(proto) {
            context.error(path("protocol"), "protocol \"\(proto)\" is invalid: use HTTP, HTTPS, TLS, TCP, UDP or an implementation's protocol such as HBONE or example.com/proto")
        }
        if let tls = listener.tls {
            let tlsPath = path("tls")
            if ["HTTP", "TCP", "UDP"].contains(proto) {
                context.error(tlsPath, "tls must not be set for protocol \(proto); use HTTPS or TLS to serve TLS")
            }
            let mode = tls.mode ?? .Terminate
            if proto == "HTTPS" && mode != .Terminate {
                context.error(tlsPath("mode"), "tls mode must be Terminate for protocol HTTPS; use protocol TLS for Passthrough")
            }
            if proto == "TLS" && tls.mode == nil {
                context.error(tlsPath("mode"), "required for protocol TLS: Terminate or Passthrough")
            }
            if mode == .Terminate && (tls.certificateRefs ?? []).isEmpty && (tls.options ?? [:]).isEmpty {
                context.error(tlsPath("certificateRefs"), "required when tls mode is Terminate: the certificate Secret(s) to serve, e.g. [{name: bookinfo-cert}] (or implementation options)")
            }
            let refs = tls.certificateRefs ?? []
            if refs.count > 64 { context.error(tlsPath("certificateRefs"), "at most 64 certificateRefs, found \(refs.count)") }
            for (i, ref) in refs.enumerated() {
                GatewayAPI.validate(ref, at: tlsPath("certificateRefs")[i], into: &context)
            }
            if let options = tls.options {
                if options.count > 16 { context.error(tlsPath("options"), "at most 16 TLS options, found \(options.count)") }
                for key in options.keys.sorted() {
                    if let problem = KubernetesRules.qualifiedNameProblem(key, what: "option key") {
                        context.error(tlsPath("options")(key), problem)
                    }
                }
            }
        } else if proto == "TLS" {
            context.error(path("tls")("mode"), "required for protocol TLS: tls.mode Terminate or Passthrough")
        } else if proto == "HTTPS" && Gateway.istioClassNames.contains(spec.gatewayClassName) {
            context.warning(path("tls"), "an HTTPS listener without tls has no certificate: Istio skips it; add tls.certificateRefs")
        }
        if let allowed = listener.allowedRoutes {
            validateAllowedRoutes(allowed, at: path("allowedRoutes"), into: &context)
        }
        validateIstioListener(listener, at: path, into: &context)
    }

    private func validateAllowedRoutes(_ allowed: AllowedRoutes, at path: FieldPath, into context: inout ValidationContext) {
        if let namespaces = allowed.namespaces {
            if namespaces.from == .None {
                context.error(path("namespaces")("from"), "from None is not allowed for routes; use All, Same or Selector")
            }
            if namespaces.from == .Selector && namespaces.selector == nil {
                context.warning(path("namespaces")("selector"), "from: Selector without a selector admits routes from no namespace; add selector.matchLabels")
            }
            namespaces.selector?.validate(at: path("namespaces")("selector"), into: &context)
        }
        let kinds = allowed.kinds ?? []
        if kinds.count > 8 { context.error(path("kinds"), "at most 8 route kinds, found \(kinds.count)") }
        for (i, kind) in kinds.enumerated() {
            GatewayAPI.validateGroup(kind.group, at: path("kinds")[i]("group"), into: &context)
            GatewayAPI.validateKind(kind.kind, at: path("kinds")[i]("kind"), into: &context)
        }
    }

    /// What Istio's gateway controller marks not accepted (`UnsupportedProtocol`) on the
    /// listeners of its own classes (`pilot/pkg/config/kube/gateway/conversion.go`).
    private func validateIstioListener(_ listener: Listener, at path: FieldPath, into context: inout ValidationContext) {
        let className = spec.gatewayClassName
        guard Gateway.istioClassNames.contains(className) else { return }
        let proto = listener.protocol
        if className == Gateway.waypointClassName {
            if listener.port != Gateway.hbonePort {
                context.warning(path("port"), "Istio does not accept this waypoint listener: expected a single listener on port 15008 with protocol \"HBONE\" ({name: mesh, port: 15008, protocol: HBONE})")
            } else if proto != Gateway.hboneProtocol {
                context.warning(path("protocol"), "Istio does not accept this waypoint listener: expected a single listener on port 15008 with protocol \"HBONE\" ({name: mesh, port: 15008, protocol: HBONE})")
            }
            return
        }
        let supported: Set<String> = ["HTTP", "HTTPS", "TLS", "TCP", Gateway.hboneProtocol]
        if proto == Gateway.hboneProtocol {
            if className != Gateway.eastWestClassName {
                context.warning(path("protocol"), "Istio supports protocol HBONE only on waypoints (gatewayClassName istio-waypoint) and east-west gateways (istio-east-west); use HTTP, HTTPS, TLS or TCP")
            }
        } else if !supported.contains(proto) {
            let hint = supported.contains(proto.uppercased()) ? " (hint: \"\(proto.uppercased())\" in uppercase is supported)" : ""
            context.warning(path("protocol"), "Istio does not support protocol \"\(proto)\" and will not accept this listener\(hint); use HTTP, HTTPS, TLS or TCP")
        }
    }

    private func validateAddresses(at path: FieldPath, into context: inout ValidationContext) {
        let addresses = spec.addresses ?? []
        if addresses.count > 16 { context.error(path, "at most 16 addresses, found \(addresses.count)") }
        var seen: [String: Int] = [:]
        for (i, address) in addresses.enumerated() {
            let at = path[i]
            let type = address.type ?? "IPAddress"
            if !["IPAddress", "Hostname", "NamedAddress"].contains(type) && !Gateway.isDomainPrefixedName(type) {
                context.error(at("type"), "address type \"\(type)\" is invalid; use IPAddress, Hostname, NamedAddress or a domain-prefixed type such as example.com/custom")
                continue
            }
            guard let value = address.value, !value.isEmpty else { continue }
            if value.utf8.count > 253 { context.error(at("value"), "an address is at most 253 characters") }
            if type == "IPAddress" && !Rules.isIPAddress(value) {
                context.error(at("value"), "\"\(value)\" is not an IP address (type IPAddress); use an IP such as 10.96.0.10, or type Hostname")
            } else if type == "Hostname", let problem = KubernetesRules.gatewayHostnameProblem(value) {
                context.error(at("value"), problem)
            }
            let key = "\(type)/\(value)"
            if type == "IPAddress" || type == "Hostname" {
                if let first = seen[key] {
                    context.error(at("value"), "\(type) \"\(value)\" is already requested by addresses[\(first)]; values must be unique")
                } else {
                    seen[key] = i
                }
            }
        }
    }

    private func validateInfrastructure(_ infrastructure: Infrastructure, at path: FieldPath, into context: inout ValidationContext) {
        let labels = infrastructure.labels ?? [:]
        if labels.count > 8 { context.error(path("labels"), "at most 8 infrastructure labels, found \(labels.count)") }
        Rules.validateLabels(infrastructure.labels, at: path("labels"), into: &context)
        let annotations = infrastructure.annotations ?? [:]
        if annotations.count > 16 { context.error(path("annotations"), "at most 16 infrastructure annotations, found \(annotations.count)") }
        for key in annotations.keys.sorted() {
            if let problem = Rules.labelKeyProblem(key) {
                context.error(path("annotations")(key), problem.replacingOccurrences(of: "label key", with: "annotation key"))
            }
        }
        if let ref = infrastructure.parametersRef {
            GatewayAPI.validateGroup(ref.group, at: path("parametersRef")("group"), into: &context)
            GatewayAPI.validateKind(ref.kind, at: path("parametersRef")("kind"), into: &context)
            GatewayAPI.validateName(ref.name, at: path("parametersRef")("name"), into: &context)
        }
    }

    /// `istio.io/waypoint-for` must be a value Istio knows, or the waypoint gets no traffic.
    private func validateWaypointLabel(into context: inout ValidationContext) {
        guard let value = metadata.label(MeshLabels.waypointFor), WaypointTrafficType(rawValue: value) == nil else { return }
        context.warning(FieldPath.root("metadata")("labels")(MeshLabels.waypointFor),
            "\(MeshLabels.waypointFor)=\"\(value)\" is not a traffic type Istio knows, so this waypoint receives no traffic; use service, workload, all or none")
    }

    /// `ProtocolType`: an RFC 1123-style name (`HTTP`, `HBONE`) or a domain-prefixed one
    /// (`example.com/proto`), at most 255 characters.
    static func isValidProtocolName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 255 else { return false }
        if isDomainPrefixedName(name) { return true }
        let bytes = Array(name.utf8)
        func alnum(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) }
        return alnum(bytes[0]) && alnum(bytes[bytes.count - 1]) && bytes.allSatisfy { alnum($0) || $0 == 0x2D }
    }

    /// `domain/name` with a lowercase DNS domain and an alphanumeric name.
    static func isDomainPrefixedName(_ name: String) -> Bool {
        guard let slash = name.firstIndex(of: "/") else { return false }
        let domain = String(name[..<slash])
        let rest = name[name.index(after: slash)...]
        return Rules.isDNS1123Subdomain(domain) && !rest.isEmpty
            && rest.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) }
    }
}
