import Foundation
import Testing
@testable import MeshAPI

/// Broken Gateway and HTTPRoute manifests: each gives exactly one diagnostic, at the expected
/// path, line (the line of the case's text marked `#<`) and severity, with a message that
/// says what would be valid.
@Suite struct GatewayAPIBrokenManifestTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: String
        var path: String
        var severity: Diagnostic.Severity
        var message: String
        var testDescription: String { name }

        init(_ name: String, _ yaml: String, path: String, _ severity: Diagnostic.Severity = .error, message: String) {
            self.name = name
            self.yaml = yaml
            self.path = path
            self.severity = severity
            self.message = message
        }

        /// 1-based line of the `#<` marker.
        var markedLine: Int? {
            yaml.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("#<") }.map { $0 + 1 }
        }
    }

    static func gateway(_ spec: String, labels: String = "") -> String {
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: broken
          namespace: bookinfo\(labels)
        spec:

        """ + spec
    }

    static func route(markSpec: Bool = false, _ spec: String) -> String {
        """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: broken
          namespace: bookinfo
        spec:\(markSpec ? "  #<" : "")

        """ + spec
    }

    static let gatewayCases: [Case] = [
        Case("listener port out of range", gateway("""
              gatewayClassName: istio
              listeners:
              - name: http
                port: 70000  #<
                protocol: HTTP
            """), path: "spec.listeners[0].port", message: "port 70000 is out of range: use 1-65535"),
        Case("duplicate listener names", gateway("""
              gatewayClassName: istio
              listeners:
              - name: http
                port: 80
                protocol: HTTP
              - name: http  #<
                port: 8080
                protocol: HTTP
            """), path: "spec.listeners[1].name", message: "already used by listeners[0]"),
        Case("missing gatewayClassName", """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata:
              name: broken
            spec:
              listeners:  #<
              - name: http
                port: 80
                protocol: HTTP
            """, path: "spec.gatewayClassName", message: "required field is missing"),
        Case("no listeners", gateway("""
              gatewayClassName: istio
              listeners: []  #<
            """), path: "spec.listeners", message: "at least one listener"),
        Case("invalid listener hostname", gateway("""
              gatewayClassName: istio
              listeners:
              - name: http
                hostname: Bookinfo_Example.com  #<
                port: 80
                protocol: HTTP
            """), path: "spec.listeners[0].hostname", message: "use lowercase letters, digits"),
        Case("same port, protocol and hostname twice", gateway("""
              gatewayClassName: istio
              listeners:
              - name: a
                port: 80
                protocol: HTTP
              - name: b  #<
                port: 80
                protocol: HTTP
            """), path: "spec.listeners[1]", message: "distinct port, protocol or hostname"),
        Case("waypoint listener on another port", gateway("""
              gatewayClassName: istio-waypoint
              listeners:
              - name: mesh
                port: 15009  #<
                protocol: HBONE
            """), path: "spec.listeners[0].port", .warning, message: "port 15008 with protocol \"HBONE\""),
        Case("waypoint listener with another protocol", gateway("""
              gatewayClassName: istio-waypoint
              listeners:
              - name: mesh
                port: 15008
                protocol: HTTP  #<
            """), path: "spec.listeners[0].protocol", .warning, message: "{name: mesh, port: 15008, protocol: HBONE}"),
        Case("unknown istio.io/waypoint-for", gateway("""
              gatewayClassName: istio-waypoint
              listeners:
              - name: mesh
                port: 15008
                protocol: HBONE
            """, labels: "\n  labels:\n    istio.io/waypoint-for: services  #<"),
            path: "metadata.labels.istio.io/waypoint-for", .warning, message: "use service, workload, all or none"),
        Case("HBONE on an ingress gateway", gateway("""
              gatewayClassName: istio
              listeners:
              - name: mesh
                port: 15008
                protocol: HBONE  #<
            """), path: "spec.listeners[0].protocol", .warning, message: "HBONE only on waypoints"),
        Case("lowercase protocol on an Istio gateway", gateway("""
              gatewayClassName: istio
              listeners:
              - name: http
                port: 80
                protocol: http  #<
            """), path: "spec.listeners[0].protocol", .warning, message: "\"HTTP\" in uppercase is supported"),
        Case("tls on an HTTP listener", gateway("""
              gatewayClassName: istio
              listeners:
              - name: http
                port: 80
                protocol: HTTP
                tls:  #<
                  mode: Passthrough
            """), path: "spec.listeners[0].tls", message: "use HTTPS or TLS"),
        Case("TLS listener without a mode", gateway("""
              gatewayClassName: istio
              listeners:
              - name: tls  #<
                port: 443
                protocol: TLS
            """), path: "spec.listeners[0].tls.mode", message: "Terminate or Passthrough"),
        Case("unknown TLS mode", gateway("""
              gatewayClassName: istio
              listeners:
              - name: tls
                port: 443
                protocol: TLS
                tls:
                  mode: Reencrypt  #<
            """), path: "spec.listeners[0].tls.mode", message: "use one of Terminate, Passthrough"),
        Case("terminating HTTPS without certificates", gateway("""
              gatewayClassName: istio
              listeners:
              - name: https
                port: 443
                protocol: HTTPS
                tls:  #<
                  mode: Terminate
            """), path: "spec.listeners[0].tls.certificateRefs", message: "the certificate Secret(s) to serve"),
        Case("IPAddress that is not an IP", gateway("""
              gatewayClassName: istio
              addresses:
              - type: IPAddress
                value: 10.0.0.256  #<
              listeners:
              - name: http
                port: 80
                protocol: HTTP
            """), path: "spec.addresses[0].value", message: "is not an IP address"),
        Case("routes from no namespace", gateway("""
              gatewayClassName: istio
              listeners:
              - name: http
                port: 80
                protocol: HTTP
                allowedRoutes:
                  namespaces:
                    from: None  #<
            """), path: "spec.listeners[0].allowedRoutes.namespaces.from", message: "use All, Same or Selector"),
        Case("selector expression In without values", gateway("""
              gatewayClassName: istio
              listeners:
              - name: http
                port: 80
                protocol: HTTP
                allowedRoutes:
                  namespaces:
                    from: Selector
                    selector:
                      matchExpressions:
                      - key: team  #<
                        operator: In
            """), path: "spec.listeners[0].allowedRoutes.namespaces.selector.matchExpressions[0].values",
            message: "operator In needs at least one value"),
        Case("hostname on a TCP listener", gateway("""
              gatewayClassName: istio
              listeners:
              - name: mysql
                hostname: db.example.com  #<
                port: 3306
                protocol: TCP
            """), path: "spec.listeners[0].hostname", message: "TCP has no host to match"),
        Case("HTTPS listener in Passthrough mode", gateway("""
              gatewayClassName: istio
              listeners:
              - name: https
                port: 443
                protocol: HTTPS
                tls:
                  mode: Passthrough  #<
            """), path: "spec.listeners[0].tls.mode", message: "use protocol TLS for Passthrough"),
        Case("protocol name with a space", gateway("""
              gatewayClassName: example
              listeners:
              - name: web
                port: 80
                protocol: "HTTP 2"  #<
            """), path: "spec.listeners[0].protocol", message: "use HTTP, HTTPS, TLS, TCP, UDP"),
        Case("too many infrastructure labels", gateway("""
              gatewayClassName: istio
              infrastructure:
                labels: {a: "1", b: "2", c: "3", d: "4", e: "5", f: "6", g: "7", h: "8", i: "9"}  #<
              listeners:
              - name: http
                port: 80
                protocol: HTTP
            """), path: "spec.infrastructure.labels", message: "at most 8 infrastructure labels, found 9"),
        Case("listener hostname that is an IP", gateway("""
              gatewayClassName: istio
              listeners:
              - name: http
                hostname: 10.1.2.3  #<
                port: 80
                protocol: HTTP
            """), path: "spec.listeners[0].hostname", .warning, message: "matches host names only"),
    ]

    static let routeCases: [Case] = [
        Case("no parentRefs", route(markSpec: true, """
              rules:
              - backendRefs:
                - name: reviews
                  port: 9080
            """), path: "spec.parentRefs", .warning, message: "attaches to no Gateway, waypoint or Service"),
        Case("PathPrefix without a leading slash", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - matches:
                - path:
                    type: PathPrefix
                    value: reviews  #<
            """), path: "spec.rules[0].matches[0].path.value", message: "must be an absolute path starting with '/'"),
        Case("Exact path with a double slash", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - matches:
                - path:
                    type: Exact
                    value: /reviews//1  #<
            """), path: "spec.rules[0].matches[0].path.value", message: "must not contain '//'"),
        Case("regular expression that does not compile", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - matches:
                - path:
                    type: RegularExpression
                    value: "/reviews/([0-9]+"  #<
            """), path: "spec.rules[0].matches[0].path.value", message: "does not compile"),
        Case("look-around regex in a header match", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - matches:
                - headers:
                  - type: RegularExpression
                    name: user-agent
                    value: "^(?!curl).*"  #<
            """), path: "spec.rules[0].matches[0].headers[0].value", message: "RE2"),
        Case("weight below zero", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - backendRefs:
                - name: reviews-v1
                  port: 9080
                  weight: -1  #<
            """), path: "spec.rules[0].backendRefs[0].weight", message: "use 0-1000000"),
        Case("weight above a million", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - backendRefs:
                - name: reviews-v1
                  port: 9080
                  weight: 1000001  #<
            """), path: "spec.rules[0].backendRefs[0].weight", message: "weight 1000001 is out of range"),
        Case("backend port out of range", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - backendRefs:
                - name: reviews
                  port: 0  #<
            """), path: "spec.rules[0].backendRefs[0].port", message: "port 0 is out of range: use 1-65535"),
        Case("Service backend without a port", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - backendRefs:
                - name: reviews  #<
            """), path: "spec.rules[0].backendRefs[0].port", message: "needs the Service port"),
        Case("parentRef port out of range", route("""
              parentRefs:
              - group: ""
                kind: Service
                name: reviews
                port: 65536  #<
            """), path: "spec.parentRefs[0].port", message: "use 1-65535"),
        Case("same parent twice without sectionName", route("""
              parentRefs:
              - name: bookinfo-gateway
                sectionName: http
              - name: bookinfo-gateway  #<
            """), path: "spec.parentRefs[1]", message: "every entry needs its own sectionName or port"),
        Case("wildcard hostname without a dot", route("""
              parentRefs: [{name: bookinfo-gateway}]
              hostnames:
              - "*bookinfo.com"  #<
            """), path: "spec.hostnames[0]", message: "optionally starting with a \"*.\" wildcard label"),
        Case("RequestRedirect with URLRewrite", route("""
              parentRefs: [{name: bookinfo-gateway}]
              rules:
              - filters:
                - type: RequestRedirect
                  requestRedirect: {scheme: https}
                - type: URLRewrite  #<
                  urlRewrite: {hostname: new.example.com}
            """), path: "spec.rules[0].filters[1].type", message: "URLRewrite cannot be combined with the RequestRedirect filter"),
        Case("RequestRedirect with backendRefs", route("""
              parentRefs: [{name: bookinfo-gateway}]
              rules:
              - filters:
                - type: RequestRedirect
                  requestRedirect: {scheme: https}
                backendRefs:  #<
                - name: productpage
                  port: 9080
            """), path: "spec.rules[0].backendRefs", message: "RequestRedirect filter must not be used together with backendRefs"),
        Case("RequestHeaderModifier without its configuration", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - filters:
                - type: RequestHeaderModifier  #<
            """), path: "spec.rules[0].filters[0].requestHeaderModifier", message: "required for type RequestHeaderModifier"),
        Case("configuration of another filter type", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - filters:
                - type: RequestHeaderModifier
                  requestHeaderModifier: {remove: [x-debug]}
                  urlRewrite:  #<
                    hostname: reviews.example.com
            """), path: "spec.rules[0].filters[0].urlRewrite", message: "must be unset for a RequestHeaderModifier filter"),
        Case("RequestHeaderModifier repeated", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - filters:
                - type: RequestHeaderModifier
                  requestHeaderModifier: {remove: [x-a]}
                - type: RequestHeaderModifier  #<
                  requestHeaderModifier: {remove: [x-b]}
            """), path: "spec.rules[0].filters[1].type", message: "cannot be repeated"),
        Case("unknown filter type", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - filters:
                - type: Rewrite  #<
            """), path: "spec.rules[0].filters[0].type", message: "use one of RequestHeaderModifier"),
        Case("header match name with a space", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - matches:
                - headers:
                  - name: end user  #<
                    value: jason
            """), path: "spec.rules[0].matches[0].headers[0].name", message: "header name \"end user\" is invalid"),
        Case("same header matched twice", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - matches:
                - headers:
                  - name: end-user
                    value: jason
                  - name: end-user  #<
                    value: alice
            """), path: "spec.rules[0].matches[0].headers[1].name", message: "each name may appear once"),
        Case("pseudo-header in a header modifier", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - filters:
                - type: RequestHeaderModifier
                  requestHeaderModifier:
                    set:
                    - name: ":authority"  #<
                      value: reviews
            """), path: "spec.rules[0].filters[0].requestHeaderModifier.set[0].name", message: "no ':' pseudo-headers"),
        Case("redirect status code", route("""
              parentRefs: [{name: bookinfo-gateway}]
              rules:
              - filters:
                - type: RequestRedirect
                  requestRedirect:
                    statusCode: 305  #<
            """), path: "spec.rules[0].filters[0].requestRedirect.statusCode", message: "use 301, 302 (default), 303, 307 or 308"),
        Case("ReplacePrefixMatch with an Exact match", route("""
              parentRefs: [{name: bookinfo-gateway}]
              rules:
              - matches:
                - path: {type: Exact, value: /v1/reviews}
                filters:
                - type: URLRewrite
                  urlRewrite:
                    path:
                      type: ReplacePrefixMatch
                      replacePrefixMatch: /reviews  #<
                backendRefs:
                - name: reviews
                  port: 9080
            """), path: "spec.rules[0].filters[0].urlRewrite.path.replacePrefixMatch", message: "exactly one PathPrefix match"),
        Case("mirror with percent and fraction", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - filters:
                - type: RequestMirror
                  requestMirror:
                    backendRef: {name: reviews-v2, port: 9080}
                    percent: 10
                    fraction:  #<
                      numerator: 1
            """), path: "spec.rules[0].filters[0].requestMirror.fraction", message: "only one of percent or fraction"),
        Case("CORS wildcard among origins", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - filters:
                - type: CORS
                  cors:
                    allowOrigins: ["*", "https://example.com"]  #<
            """), path: "spec.rules[0].filters[0].cors.allowOrigins", message: "cannot contain '*' alongside other origins"),
        Case("backend timeout longer than the request timeout", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - timeouts:
                  request: 5s
                  backendRequest: 10s  #<
            """), path: "spec.rules[0].timeouts.backendRequest", message: "cannot be longer than the request timeout"),
        Case("Go duration the Gateway API does not take", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - timeouts:
                  request: 1.5s  #<
            """), path: "spec.rules[0].timeouts.request", message: "e.g. 10s, 1h30m, 500ms"),
        Case("retry status code outside 400-599", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - retry:
                  codes: [503, 302]  #<
            """), path: "spec.rules[0].retry.codes[1]", message: "use 400-599"),
        Case("header both set and removed", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - filters:
                - type: RequestHeaderModifier
                  requestHeaderModifier:
                    set: [{name: x-env, value: prod}]
                    remove: [X-Env]  #<
            """), path: "spec.rules[0].filters[0].requestHeaderModifier.remove[0]", .warning, message: "only one action per header name"),
        Case("header removed twice", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - filters:
                - type: ResponseHeaderModifier
                  responseHeaderModifier:
                    remove:
                    - x-debug
                    - x-debug  #<
            """), path: "spec.rules[0].filters[0].responseHeaderModifier.remove[1]", message: "listed twice"),
        Case("ReplaceFullPath without the path", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - filters:
                - type: URLRewrite
                  urlRewrite:
                    path:  #<
                      type: ReplaceFullPath
            """), path: "spec.rules[0].filters[0].urlRewrite.path.replaceFullPath", message: "required when type is ReplaceFullPath"),
        Case("CORS method that does not exist", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - filters:
                - type: CORS
                  cors:
                    allowMethods: [GET, FETCH]  #<
            """), path: "spec.rules[0].filters[0].cors.allowMethods[1]", message: "use one of GET, HEAD, POST"),
        Case("CORS origin without a scheme", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - filters:
                - type: CORS
                  cors:
                    allowOrigins:
                    - www.example.com  #<
            """), path: "spec.rules[0].filters[0].cors.allowOrigins[0]", message: "scheme://host[:port]"),
        Case("GRPC external auth without grpc settings", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - filters:
                - type: ExternalAuth
                  externalAuth:  #<
                    protocol: GRPC
                    backendRef: {name: ext-authz, port: 9000}
            """), path: "spec.rules[0].filters[0].externalAuth.grpc", message: "required when protocol is GRPC"),
        Case("mirror fraction above one", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - filters:
                - type: RequestMirror
                  requestMirror:
                    backendRef: {name: reviews-v2, port: 9080}
                    fraction:
                      numerator: 5  #<
                      denominator: 4
            """), path: "spec.rules[0].filters[0].requestMirror.fraction.numerator", message: "less than or equal to the denominator 4"),
        Case("header session persistence without the header", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - sessionPersistence:  #<
                  type: Header
            """), path: "spec.rules[0].sessionPersistence.header", message: "required when type is Header"),
        Case("duplicate rule names", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - name: first
              - name: first  #<
            """), path: "spec.rules[1].name", message: "rule names must be unique"),
        Case("same parent and section twice", route("""
              parentRefs:
              - name: bookinfo-gateway
                sectionName: http
              - name: bookinfo-gateway  #<
                sectionName: http
            """), path: "spec.parentRefs[1]", message: "same sectionName and port"),
        Case("parentRef kind starting with a digit", route("""
              parentRefs:
              - kind: 1Gateway  #<
                name: bookinfo-gateway
            """), path: "spec.parentRefs[0].kind", message: "must start with a letter"),
        Case("rewrite hostname with a wildcard", route("""
              parentRefs: [{name: waypoint}]
              rules:
              - filters:
                - type: URLRewrite
                  urlRewrite:
                    hostname: "*.example.com"  #<
            """), path: "spec.rules[0].filters[0].urlRewrite.hostname", message: "may not be a wildcard here"),
    ]

    static func load(_ yaml: String) -> LoadResult {
        ManifestLoader(options: .init(strict: true)).load(text: yaml, file: "broken.yaml")
    }

    static func check(_ c: Case) {
        #expect(c.markedLine != nil, "case \(c.name) has no #< marker")
        let result = load(c.yaml)
        #expect(result.diagnostics.count == 1, "\(result.diagnostics.map(\.description))")
        guard let d = result.diagnostics.first else { return }
        #expect(d.path == c.path)
        #expect(d.line == c.markedLine, "\(d)")
        #expect(d.severity == c.severity)
        #expect(d.message.contains(c.message), "\(d.message)")
        #expect(d.file == "broken.yaml")
        #expect(result.resources.count == (c.severity == .error ? 0 : 1))
    }

    @Test(arguments: gatewayCases) func brokenGateway(_ c: Case) { Self.check(c) }

    @Test(arguments: routeCases) func brokenHTTPRoute(_ c: Case) { Self.check(c) }

    @Test func tooManyRulesAndMatches() {
        let backend = "    backendRefs: [{name: reviews, port: 9080}]\n"
        // 17 rules.
        var rules = "  parentRefs: [{name: waypoint}]\n  rules:  #<\n"
        for _ in 0..<17 { rules += "  - matches: [{path: {value: /a}}]\n" + backend }
        var result = Self.load(Self.route(rules))
        #expect(result.errors.map(\.path) == ["spec.rules"])
        #expect(result.errors.first?.line == 8)
        #expect(result.errors.first?.message.contains("at most 16 rules") == true)

        // 65 matches in one rule.
        var matches = "  parentRefs: [{name: waypoint}]\n  rules:\n  - matches:  #<\n"
        for i in 0..<65 { matches += "    - path: {value: /m\(i)}\n" }
        result = Self.load(Self.route(matches + backend))
        #expect(result.errors.map(\.path) == ["spec.rules[0].matches"])
        #expect(result.errors.first?.line == 9)
        #expect(result.errors.first?.message.contains("at most 64 matches") == true)

        // 3 rules of 43 matches: 129 in all.
        var total = "  parentRefs: [{name: waypoint}]\n  rules:  #<\n"
        for r in 0..<3 {
            total += "  - matches:\n"
            for i in 0..<43 { total += "    - path: {value: /r\(r)/\(i)}\n" }
            total += backend
        }
        result = Self.load(Self.route(total))
        #expect(result.errors.map(\.path) == ["spec.rules"])
        #expect(result.errors.first?.message.contains("at most 128 matches across all rules, found 129") == true)

        // 128 in all is fine.
        var exact = "  parentRefs: [{name: waypoint}]\n  rules:\n"
        for r in 0..<2 {
            exact += "  - matches:\n"
            for i in 0..<64 { exact += "    - path: {value: /r\(r)/\(i)}\n" }
            exact += backend
        }
        #expect(Self.load(Self.route(exact)).diagnostics.isEmpty)
    }

    @Test func severalFindingsInOneGateway() {
        let result = Self.load(Self.gateway("""
              gatewayClassName: istio-waypoint
              listeners:
              - name: mesh
                port: 15008
                protocol: HBONE
              - name: mesh
                port: 80
                protocol: HTTP
            """))
        #expect(result.diagnostics.map(\.path) == ["spec.listeners[1].name", "spec.listeners[1].port"])
        #expect(result.diagnostics.map(\.severity) == [.error, .warning])
        #expect(result.diagnostics.map(\.line) == [12, 13])
    }

    @Test func hugeAndHostileNumbersNeverCrash() {
        let result = Self.load(Self.route("""
              parentRefs: [{name: waypoint, port: 9223372036854775807}]
              rules:
              - backendRefs:
                - name: reviews
                  port: -9223372036854775808
                  weight: 9223372036854775807
                timeouts: {request: 99999h99999m99999s99999ms}
            """))
        #expect(result.hasErrors)
        #expect(Set(result.errors.map(\.path)) == [
            "spec.parentRefs[0].port", "spec.rules[0].backendRefs[0].port", "spec.rules[0].backendRefs[0].weight",
        ])
    }
}
