import Foundation
import Testing
@testable import MeshAPI

/// Broken security manifests: each gives exactly one diagnostic, at the expected path, line,
/// severity and with a message saying what would be valid.
///
/// The expected line is the line of the case's text marked with `#<`.
@Suite struct SecurityBrokenManifestTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: String
        var path: String
        var severity: Diagnostic.Severity = .error
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

    static func document(_ kind: String, markSpec: Bool = false, _ spec: String) -> String {
        """
        apiVersion: security.istio.io/v1
        kind: \(kind)
        metadata:
          name: broken
          namespace: bookinfo
        spec:\(markSpec ? "  #<" : "")

        """ + spec
    }

    static func ap(markSpec: Bool = false, _ spec: String) -> String { document("AuthorizationPolicy", markSpec: markSpec, spec) }
    static func pa(markSpec: Bool = false, _ spec: String) -> String { document("PeerAuthentication", markSpec: markSpec, spec) }
    static func ra(markSpec: Bool = false, _ spec: String) -> String { document("RequestAuthentication", markSpec: markSpec, spec) }

    static let authorizationCases: [Case] = [
        Case("CUSTOM without provider", ap(markSpec: true, """
              action: CUSTOM
              rules:
              - to:
                - operation:
                    paths: ["/admin"]
            """), path: "spec.provider", message: "action CUSTOM needs provider.name"),
        Case("CUSTOM with an empty provider name", ap("""
              action: CUSTOM
              provider:
                name: ""  #<
              rules:
              - {}
            """), path: "spec.provider.name", message: "extension provider of MeshConfig"),
        Case("provider with ALLOW", ap("""
              action: ALLOW
              provider:  #<
                name: ext-authz
              rules:
              - {}
            """), path: "spec.provider", message: "only used with action CUSTOM, found action ALLOW"),
        Case("provider without action (ALLOW by default)", ap("""
              provider: {name: ext-authz}  #<
              rules:
              - {}
            """), path: "spec.provider", message: "set action: CUSTOM or remove provider"),
        Case("CUSTOM without rules", ap(markSpec: true, """
              action: CUSTOM
              provider: {name: ext-authz}
            """), path: "spec.rules", message: "add rules, or an empty rule {} to check every request"),
        Case("DENY without rules", ap(markSpec: true, """
              selector:
                matchLabels: {app: reviews}
              action: DENY
            """), path: "spec.rules", message: "DENY policy without rules is never triggered"),
        Case("selector together with targetRefs", ap("""
              selector:
                matchLabels: {app: reviews}
              targetRefs:  #<
              - {kind: Service, group: "", name: reviews}
            """), path: "spec.targetRefs", message: "only one of selector, targetRef or targetRefs"),
        Case("targetRef together with targetRefs", ap("""
              targetRef: {kind: Gateway, group: gateway.networking.k8s.io, name: gw}
              targetRefs:  #<
              - {kind: Service, name: reviews}
            """), path: "spec.targetRefs", message: "remove targetRefs or targetRef"),
        Case("cross-namespace targetRef", ap("""
              targetRefs:
              - kind: Service
                name: reviews
                namespace: other  #<
            """), path: "spec.targetRefs[0].namespace", message: "cross-namespace references are not supported"),
        Case("targetRef to an unsupported kind", ap("""
              targetRefs:
              - group: apps
                kind: Deployment  #<
                name: reviews
            """), path: "spec.targetRefs[0].kind", message: "Service (group \"\"), ServiceEntry (group \"networking.istio.io\")"),
        Case("targetRef to a Service in the wrong group", ap("""
              targetRefs:
              - group: networking.istio.io  #<
                kind: Service
                name: reviews
            """), path: "spec.targetRefs[0].group", message: "found group \"networking.istio.io\" kind \"Service\""),
        Case("targetRef with an empty name", ap("""
              targetRefs:
              - kind: Service
                name: ""  #<
            """), path: "spec.targetRefs[0].name", message: "name must be set"),
        Case("wildcard in a selector value", ap("""
              selector:
                matchLabels:
                  app: "review*"  #<
            """), path: "spec.selector.matchLabels.app", message: "wildcards are not supported in selector label values"),
        Case("selector without labels", ap("""
              selector: {}  #<
              rules:
              - {}
            """), path: "spec.selector", .warning, message: "workload selector specified without labels"),
        Case("empty principal", ap("""
              rules:
              - from:
                - source:
                    principals: ["cluster.local/ns/bookinfo/sa/productpage", ""]  #<
            """), path: "spec.rules[0].from[0].source.principals[1]", message: "empty value is not allowed in principals"),
        Case("empty host in notHosts", ap("""
              rules:
              - to:
                - operation:
                    notHosts:
                    - admin.example.com
                    - ""  #<
            """), path: "spec.rules[0].to[0].operation.notHosts[1]", message: "empty value is not allowed in notHosts"),
        Case("invalid CIDR in ipBlocks", ap("""
              rules:
              - from:
                - source:
                    ipBlocks: ["10.0.0.0/33"]  #<
            """), path: "spec.rules[0].from[0].source.ipBlocks[0]", message: "an IPv4 prefix length is 0-32"),
        Case("invalid IP in notRemoteIpBlocks", ap("""
              rules:
              - from:
                - source:
                    remoteIpBlocks: ["203.0.113.0/24"]
                    notRemoteIpBlocks:
                    - 203.0.113.300  #<
            """), path: "spec.rules[0].from[0].source.notRemoteIpBlocks[0]", message: "is not a valid IP address or CIDR block"),
        Case("serviceAccounts with principals", ap("""
              rules:
              - from:
                - source:
                    principals: ["cluster.local/ns/bookinfo/sa/productpage"]
                    serviceAccounts: ["bookinfo/productpage"]  #<
            """), path: "spec.rules[0].from[0].source.serviceAccounts", message: "cannot be set together with principals or namespaces"),
        Case("wildcard service account", ap("""
              rules:
              - from:
                - source:
                    notServiceAccounts: ["bookinfo/*"]  #<
            """), path: "spec.rules[0].from[0].source.notServiceAccounts[0]", message: "wildcards are not allowed in service accounts"),
        Case("service account with two slashes", ap("""
              rules:
              - from:
                - source:
                    serviceAccounts: ["a/b/c"]  #<
            """), path: "spec.rules[0].from[0].source.serviceAccounts[0]", message: "expected <serviceAccount> or <namespace>/<serviceAccount>"),
        Case("trust domain with a slash", ap("""
              rules:
              - from:
                - source:
                    trustDomains: ["cluster.local/ns"]  #<
            """), path: "spec.rules[0].from[0].source.trustDomains[0]", message: "must not contain '/'"),
        Case("trust domain with a wildcard in the middle", ap("""
              rules:
              - from:
                - source:
                    trustDomains: ["foo.*.local"]  #<
            """), path: "spec.rules[0].from[0].source.trustDomains[0]", message: "only allowed at the start or the end"),
        Case("empty from list", ap("""
              rules:
              - from: []  #<
                to:
                - operation: {ports: ["9080"]}
            """), path: "spec.rules[0].from", message: "remove it to match any source"),
        Case("empty to list", ap("""
              rules:
              - to: []  #<
            """), path: "spec.rules[0].to", message: "remove it to match any operation"),
        Case("from entry without source", ap("""
              rules:
              - from:
                - {}  #<
            """), path: "spec.rules[0].from[0].source", message: "each from entry needs a source"),
        Case("empty source", ap("""
              rules:
              - from:
                - source: {}  #<
            """), path: "spec.rules[0].from[0].source", message: "source must set at least one field"),
        Case("to entry without operation", ap("""
              rules:
              - to:
                - operation:  #<
            """), path: "spec.rules[0].to[0].operation", message: "each to entry needs an operation"),
        Case("empty operation", ap("""
              rules:
              - to:
                - operation:  #<
                    methods: []
            """), path: "spec.rules[0].to[0].operation", message: "operation must set at least one field"),
        Case("port out of range", ap("""
              rules:
              - to:
                - operation:
                    ports: ["9080", "70000"]  #<
            """), path: "spec.rules[0].to[0].operation.ports[1]", message: "must be a decimal number in 0-65535"),
        Case("port that is not a number", ap("""
              rules:
              - to:
                - operation:
                    notPorts: ["http"]  #<
            """), path: "spec.rules[0].to[0].operation.notPorts[0]", message: "port \"http\" must be a decimal number"),
        Case("ports written as integers", ap("""
              rules:
              - to:
                - operation:
                    ports:
                    - 9080  #<
            """), path: "spec.rules[0].to[0].operation.ports[0]", message: "expected a string"),
        Case("operator after {**}", ap("""
              rules:
              - to:
                - operation:
                    paths: ["/api/{**}/v1/{*}"]  #<
            """), path: "spec.rules[0].to[0].operation.paths[0]", message: "{**} must be the last operator"),
        Case("named variable in a path", ap("""
              rules:
              - to:
                - operation:
                    notPaths: ["/files/{name}"]  #<
            """), path: "spec.rules[0].to[0].operation.notPaths[0]", message: "'{' or '}' outside the templates"),
        Case("glob beside a template", ap("""
              rules:
              - to:
                - operation:
                    paths: ["/files/{*}/*"]  #<
            """), path: "spec.rules[0].to[0].operation.paths[0]", message: "is not a plain literal"),
        Case("relative path never matches", ap("""
              rules:
              - to:
                - operation:
                    paths: ["api/v1"]  #<
            """), path: "spec.rules[0].to[0].operation.paths[0]", .warning, message: "use \"/api/v1\""),
        Case("lowercase method never matches", ap("""
              rules:
              - to:
                - operation:
                    methods: ["get"]  #<
            """), path: "spec.rules[0].to[0].operation.methods[0]", .warning, message: "use \"GET\""),
        Case("DENY with only HTTP attributes", ap("""
              action: DENY
              rules:
              - to:  #<
                - operation:
                    methods: ["DELETE"]
            """), path: "spec.rules[0]", .warning, message: "denies all traffic to TCP ports"),
        Case("unsupported when key", ap("""
              rules:
              - when:
                - key: request.method  #<
                  values: ["GET"]
            """), path: "spec.rules[0].when[0].key", message: "unknown attribute \"request.method\""),
        Case("header condition without a name", ap("""
              rules:
              - when:
                - key: request.headers  #<
                  values: ["x"]
            """), path: "spec.rules[0].when[0].key", message: "must have the form a[b]"),
        Case("claim condition with an empty name", ap("""
              rules:
              - when:
                - key: request.auth.claims[]  #<
                  values: ["x"]
            """), path: "spec.rules[0].when[0].key", message: "request.auth.claims[groups]"),
        Case("destination.labels condition", ap("""
              rules:
              - when:
                - key: destination.labels[app]  #<
                  values: ["reviews"]
            """), path: "spec.rules[0].when[0].key", message: "use spec.selector.matchLabels"),
        Case("when with neither values nor notValues", ap("""
              rules:
              - when:
                - key: source.namespace  #<
            """), path: "spec.rules[0].when[0].values", message: "at least one of values or notValues"),
        Case("when without key", ap("""
              rules:
              - when:
                - values: ["x"]  #<
            """), path: "spec.rules[0].when[0].key", message: "required field is missing"),
        Case("empty when key", ap("""
              rules:
              - when:
                - key: ""  #<
                  values: ["x"]
            """), path: "spec.rules[0].when[0].key", message: "key must not be empty"),
        Case("empty when value", ap("""
              rules:
              - when:
                - key: request.auth.claims[groups]
                  values:
                  - ""  #<
            """), path: "spec.rules[0].when[0].values[0]", message: "empty value is not allowed for key request.auth.claims[groups]"),
        Case("destination.port value out of range", ap("""
              rules:
              - when:
                - key: destination.port
                  values: ["99999"]  #<
            """), path: "spec.rules[0].when[0].values[0]", message: "0-65535"),
        Case("source.ip notValue that is not an IP", ap("""
              rules:
              - when:
                - key: source.ip
                  notValues: ["10.0.0.1", "not-an-ip"]  #<
            """), path: "spec.rules[0].when[0].notValues[1]", message: "\"not-an-ip\" is not a valid IP address"),
        Case("source.serviceAccount with an empty namespace", ap("""
              rules:
              - when:
                - key: source.serviceAccount
                  values: ["/productpage"]  #<
            """), path: "spec.rules[0].when[0].values[0]", message: "found an empty namespace"),
        Case("CUSTOM with principals", ap("""
              action: CUSTOM
              provider: {name: ext-authz}
              rules:
              - from:
                - source:
                    principals: ["cluster.local/ns/bookinfo/sa/productpage"]  #<
            """), path: "spec.rules[0].from[0].source.principals", message: "principals is not supported with action CUSTOM"),
        Case("CUSTOM with a JWT claim condition", ap("""
              action: CUSTOM
              provider: {name: ext-authz}
              rules:
              - when:
                - key: request.auth.claims[groups]  #<
                  values: ["admin"]
            """), path: "spec.rules[0].when[0].key", message: "not supported with action CUSTOM"),
        Case("unknown action", ap("""
              action: REJECT  #<
              rules:
              - {}
            """), path: "spec.action", message: "use one of ALLOW, DENY, AUDIT, CUSTOM"),
        Case("misspelled source field", ap("""
              rules:
              - from:
                - source:
                    principals: ["cluster.local/ns/bookinfo/sa/productpage"]
                    namespace: ["bookinfo"]  #<
            """), path: "spec.rules[0].from[0].source.namespace", message: "unknown field \"namespace\""),
        Case("dry-run annotation that is not a boolean", """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata:
              name: broken
              annotations:
                istio.io/dry-run: "maybe"  #<
            spec:
              rules:
              - {}
            """, path: "metadata.annotations.istio.io/dry-run", message: "must be \"true\" or \"false\", found \"maybe\""),
        Case("dry-run annotation on an AUDIT policy", """
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata:
              name: broken
              annotations:
                istio.io/dry-run: "true"  #<
            spec:
              action: AUDIT
              rules:
              - {}
            """, path: "metadata.annotations.istio.io/dry-run", message: "only supports action ALLOW or DENY, found AUDIT"),
    ]

    static let peerAuthenticationCases: [Case] = [
        Case("portLevelMtls without a selector", pa("""
              mtls: {mode: STRICT}
              portLevelMtls:  #<
                8080: {mode: DISABLE}
            """), path: "spec.portLevelMtls", message: "portLevelMtls needs a selector"),
        Case("port key out of range", pa("""
              selector:
                matchLabels: {app: finance}
              portLevelMtls:
                8080: {mode: DISABLE}
                70000: {mode: STRICT}  #<
            """), path: "spec.portLevelMtls.70000", message: "must be a workload port number in 1-65535"),
        Case("port key zero", pa("""
              selector:
                matchLabels: {app: finance}
              portLevelMtls:
                0:  #<
                  mode: STRICT
            """), path: "spec.portLevelMtls.0", message: "port \"0\""),
        Case("port key that is not a number", pa("""
              selector:
                matchLabels: {app: finance}
              portLevelMtls:
                http: {mode: STRICT}  #<
            """), path: "spec.portLevelMtls.http", message: "port \"http\""),
        Case("empty portLevelMtls", pa("""
              selector:
                matchLabels: {app: finance}
              portLevelMtls: {}  #<
            """), path: "spec.portLevelMtls", message: "must have at least one port"),
        Case("unknown mode", pa("""
              mtls:
                mode: ENABLED  #<
            """), path: "spec.mtls.mode", message: "use one of UNSET, DISABLE, PERMISSIVE, STRICT"),
        Case("dry-run annotation on a PeerAuthentication", """
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata:
              name: broken
              annotations: {istio.io/dry-run: "true"}  #<
            spec:
              mtls: {mode: STRICT}
            """, path: "metadata.annotations.istio.io/dry-run", message: "PeerAuthentication does not support the annotation"),
    ]

    static let requestAuthenticationCases: [Case] = [
        Case("jwtRule with neither issuer nor jwksUri", ra("""
              jwtRules:
              - audiences: ["bookinfo"]  #<
            """), path: "spec.jwtRules[0].issuer", message: "set issuer (the token's iss) or jwksUri"),
        Case("empty issuer", ra("""
              jwtRules:
              - issuer: ""  #<
                jwksUri: https://example.com/jwks.json
            """), path: "spec.jwtRules[0].issuer", message: "issuer must not be empty"),
        Case("jwks and jwksUri both set", ra("""
              jwtRules:
              - issuer: https://example.com
                jwksUri: https://example.com/jwks.json
                jwks: '{"keys": []}'  #<
            """), path: "spec.jwtRules[0].jwks", message: "only one of jwks or jwksUri"),
        Case("jwksUri and jwks_uri both set", ra("""
              jwtRules:
              - issuer: https://example.com
                jwksUri: https://example.com/jwks.json
                jwks_uri: https://example.com/jwks.json  #<
            """), path: "spec.jwtRules[0].jwks_uri", message: "set only one of them"),
        Case("jwksUri with an unsupported scheme", ra("""
              jwtRules:
              - issuer: https://example.com
                jwksUri: ftp://example.com/jwks.json  #<
            """), path: "spec.jwtRules[0].jwksUri", message: "scheme \"ftp\" is not supported; use http:// or https://"),
        Case("jwksUri that is not a URL", ra("""
              jwtRules:
              - issuer: https://example.com
                jwksUri: example.com/jwks.json  #<
            """), path: "spec.jwtRules[0].jwksUri", message: "must be an absolute URL"),
        Case("jwksUri without a host", ra("""
              jwtRules:
              - issuer: https://example.com
                jwksUri: https:///jwks.json  #<
            """), path: "spec.jwtRules[0].jwksUri", .warning, message: "has no host"),
        Case("jwksUri with a port out of range", ra("""
              jwtRules:
              - issuer: https://example.com
                jwksUri: https://example.com:99999/jwks.json  #<
            """), path: "spec.jwtRules[0].jwksUri", .warning, message: "outside 1-65535"),
        Case("jwksUri with a port that is not a number", ra("""
              jwtRules:
              - issuer: https://example.com
                jwksUri: https://example.com:https/jwks.json  #<
            """), path: "spec.jwtRules[0].jwksUri", message: "invalid port \"https\""),
        Case("jwks that is not JSON", ra("""
              jwtRules:
              - issuer: https://example.com
                jwks: "not json"  #<
            """), path: "spec.jwtRules[0].jwks", message: "jwks is not valid JSON"),
        Case("jwks key without kty", ra("""
              jwtRules:
              - issuer: https://example.com
                jwks: '{"keys": [{"n": "abc", "e": "AQAB"}]}'  #<
            """), path: "spec.jwtRules[0].jwks", message: "key at index 0 has no \"kty\""),
        Case("jwks with private key material", ra("""
              jwtRules:
              - issuer: https://example.com
                jwks: '{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}'  #<
            """), path: "spec.jwtRules[0].jwks", .warning, message: "contains private key material"),
        Case("empty audience", ra("""
              jwtRules:
              - issuer: https://example.com
                audiences:
                - bookinfo
                - ""  #<
            """), path: "spec.jwtRules[0].audiences[1]", message: "audience must be a non-empty string"),
        Case("fromHeaders with an empty name", ra("""
              jwtRules:
              - issuer: https://example.com
                fromHeaders:
                - name: ""  #<
                  prefix: "Bearer "
            """), path: "spec.jwtRules[0].fromHeaders[0].name", message: "header name must be a non-empty string"),
        Case("fromHeaders without a name", ra("""
              jwtRules:
              - issuer: https://example.com
                fromHeaders:
                - prefix: "Bearer "  #<
            """), path: "spec.jwtRules[0].fromHeaders[0].name", message: "required field is missing"),
        Case("empty fromParams entry", ra("""
              jwtRules:
              - issuer: https://example.com
                fromParams: [""]  #<
            """), path: "spec.jwtRules[0].fromParams[0]", message: "query parameter must be a non-empty string"),
        Case("empty fromCookies entry", ra("""
              jwtRules:
              - issuer: https://example.com
                fromCookies: ["session", ""]  #<
            """), path: "spec.jwtRules[0].fromCookies[1]", message: "cookie name must be a non-empty string"),
        Case("outputClaimToHeaders with an invalid header name", ra("""
              jwtRules:
              - issuer: https://example.com
                outputClaimToHeaders:
                - header: "x-jwt:sub"  #<
                  claim: sub
            """), path: "spec.jwtRules[0].outputClaimToHeaders[0].header", message: "use only letters, digits, '-' and '_'"),
        Case("outputClaimToHeaders with an empty claim", ra("""
              jwtRules:
              - issuer: https://example.com
                outputClaimToHeaders:
                - header: x-jwt-sub
                  claim: ""  #<
            """), path: "spec.jwtRules[0].outputClaimToHeaders[0].claim", message: "claim must be a non-empty claim name"),
        Case("timeout that is not a duration", ra("""
              jwtRules:
              - issuer: https://example.com
                timeout: 5 seconds  #<
            """), path: "spec.jwtRules[0].timeout", message: "is not a duration; use e.g. 5s"),
        Case("timeout below 1ms", ra("""
              jwtRules:
              - issuer: https://example.com
                timeout: 500us  #<
            """), path: "spec.jwtRules[0].timeout", message: "at least 1ms"),
        Case("timeout finer than milliseconds", ra("""
              jwtRules:
              - issuer: https://example.com
                timeout: 1.5ms  #<
            """), path: "spec.jwtRules[0].timeout", message: "whole number of milliseconds"),
        Case("empty spaceDelimitedClaims entry", ra("""
              jwtRules:
              - issuer: https://example.com
                spaceDelimitedClaims: [""]  #<
            """), path: "spec.jwtRules[0].spaceDelimitedClaims[0]", message: "claim name must be a non-empty string"),
        Case("selector together with targetRef", ra("""
              selector:
                matchLabels: {app: httpbin}
              targetRef:  #<
                kind: Gateway
                group: gateway.networking.k8s.io
                name: httpbin-gateway
              jwtRules:
              - issuer: https://example.com
            """), path: "spec.targetRef", message: "remove targetRef or selector"),
        Case("forwardOriginalToken that is not a boolean", ra("""
              jwtRules:
              - issuer: https://example.com
                forwardOriginalToken: "yes please"  #<
            """), path: "spec.jwtRules[0].forwardOriginalToken", message: "expected a boolean"),
    ]

    static let cases = authorizationCases + peerAuthenticationCases + requestAuthenticationCases

    @Test func thereAreEnoughCases() {
        #expect(Self.cases.count >= 14)
        #expect(Set(Self.cases.map(\.name)).count == Self.cases.count)
        for c in Self.cases { #expect(c.markedLine != nil, "\(c.name) has no #< marker") }
    }

    @Test(arguments: cases)
    func brokenManifest(_ c: Case) throws {
        let result = ManifestLoader(options: .init(strict: true)).load(text: c.yaml, file: "broken.yaml")
        try #require(result.diagnostics.count == 1, "\(c.name): \(result.diagnostics)")
        let d = result.diagnostics[0]
        #expect(d.path == c.path, "\(c.name): \(d)")
        #expect(d.line == c.markedLine, "\(c.name): \(d)")
        #expect(d.severity == c.severity, "\(c.name): \(d)")
        #expect(d.message.contains(c.message), "\(c.name): \(d.message)")
        #expect(d.file == "broken.yaml" && d.document == 1)
        // A resource with an error is left out; a warning keeps it.
        #expect(result.resources.count == (c.severity == .error ? 0 : 1), "\(c.name)")
    }

    @Test func errorsInLaterDocumentsCarryFileLines() {
        let text = """
            apiVersion: security.istio.io/v1
            kind: PeerAuthentication
            metadata: {name: default, namespace: istio-system}
            spec:
              mtls: {mode: STRICT}
            ---
            apiVersion: security.istio.io/v1
            kind: AuthorizationPolicy
            metadata: {name: ratings, namespace: bookinfo}
            spec:
              rules:
              - from:
                - source:
                    principals: ["cluster.local/ns/bookinfo/sa/reviews", ""]
            ---
            apiVersion: v1
            kind: List
            items:
            - apiVersion: security.istio.io/v1
              kind: RequestAuthentication
              metadata: {name: jwt, namespace: bookinfo}
              spec:
                jwtRules:
                - issuer: https://example.com
                  jwksUri: ftp://example.com/jwks
            """
        let result = ManifestLoader().load(text: text, file: "mesh.yaml")
        #expect(result.resources.map(\.resource.kind) == ["PeerAuthentication"])
        #expect(result.diagnostics.map(\.description) == [
            "mesh.yaml:14:62: document 2: spec.rules[0].from[0].source.principals[1]: error: empty value is not allowed in principals; use \"*\" to match any value",
            "mesh.yaml:25:16: document 3: items[0].spec.jwtRules[0].jwksUri: error: jwksUri scheme \"ftp\" is not supported; use http:// or https://",
        ])
    }

    @Test func severalProblemsAreAllReported() {
        let result = ManifestLoader().load(text: Self.ap("""
              action: CUSTOM
              targetRefs:
              - {kind: Service, name: reviews, namespace: other}
              selector:
                matchLabels: {app: reviews}
              rules:
              - from:
                - source:
                    ipBlocks: ["1.2.3.4/x", "::1"]
                    namespaces: ["", "bookinfo"]
                to:
                - operation:
                    ports: ["-1"]
            """))
        #expect(result.errors.map(\.path) == [
            "spec.targetRefs",
            "spec.targetRefs[0].namespace",
            "spec.provider",
            "spec.rules[0].from[0].source.namespaces",
            "spec.rules[0].from[0].source.namespaces[0]",
            "spec.rules[0].from[0].source.ipBlocks[0]",
            "spec.rules[0].to[0].operation.ports[0]",
        ])
    }
}
