import Foundation
import Testing
@testable import MeshAPI

/// Real-world security manifests, in the style of Istio's documentation and samples, load in
/// strict mode with no diagnostics at all and decode field by field.
@Suite struct SecurityManifestTests {
    let strict = ManifestLoader(options: .init(strict: true))

    static let authorizationPolicies = """
        # From the authorization docs: allow GET from sleep or the dev namespace with a Google token.
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata:
          name: httpbin
          namespace: foo
        spec:
          selector:
            matchLabels:
              app: httpbin
              version: v1
          action: ALLOW
          rules:
          - from:
            - source:
                principals: ["cluster.local/ns/default/sa/sleep"]
            - source:
                namespaces: ["dev"]
            to:
            - operation:
                methods: ["GET"]
            when:
            - key: request.auth.claims[iss]
              values: ["https://accounts.google.com"]
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata:
          name: deny-other-namespaces
          namespace: foo
        spec:
          selector:
            matchLabels:
              app: httpbin
          action: DENY
          rules:
          - from:
            - source:
                notNamespaces: ["foo"]
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata:
          name: allow-nothing
          namespace: default
        spec: {}
        ---
        apiVersion: security.istio.io/v1beta1
        kind: AuthorizationPolicy
        metadata:
          name: allow-all
          namespace: default
        spec:
          rules:
          - {}
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata:
          name: "productpage-viewer"
          namespace: default
        spec:
          selector:
            matchLabels:
              app: productpage
          action: ALLOW
          rules:
          - to:
            - operation:
                methods: ["GET"]
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata:
          name: productpage-waypoint
          namespace: default
        spec:
          targetRefs:
          - kind: Service
            group: ""
            name: productpage
          action: ALLOW
          rules:
          - from:
            - source:
                principals:
                - cluster.local/ns/default/sa/bookinfo-gateway-istio
            to:
            - operation:
                methods: ["GET"]
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata:
          name: ext-authz
          namespace: foo
        spec:
          selector:
            matchLabels:
              app: httpbin
          action: CUSTOM
          provider:
            name: sample-ext-authz-grpc
          rules:
          - to:
            - operation:
                paths: ["/headers"]
        """

    @Test func authorizationPoliciesFromTheDocs() throws {
        let result = strict.load(text: Self.authorizationPolicies, file: "authz.yaml")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let policies = result.all(AuthorizationPolicy.self)
        try #require(policies.count == 7)

        let httpbin = policies[0]
        #expect(httpbin.apiVersion == "security.istio.io/v1")
        #expect(httpbin.qualifiedName == "foo/httpbin")
        let spec = try #require(httpbin.spec)
        #expect(spec.selector?.matchLabels == ["app": "httpbin", "version": "v1"])
        #expect(spec.selector?.matches(["app": "httpbin", "version": "v1", "extra": "x"]) == true)
        #expect(spec.selector?.matches(["app": "httpbin"]) == false)
        #expect(spec.action == .ALLOW)
        #expect(spec.targetRefs == nil && spec.provider == nil)
        let rule = try #require(spec.rules?.first)
        #expect(rule.from?.count == 2)
        #expect(rule.from?[0].source?.principals == ["cluster.local/ns/default/sa/sleep"])
        #expect(rule.from?[0].source?.namespaces == nil)
        #expect(rule.from?[1].source?.namespaces == ["dev"])
        #expect(rule.to?[0].operation?.methods == ["GET"])
        #expect(rule.when == [AuthorizationPolicy.Condition(key: "request.auth.claims[iss]", values: ["https://accounts.google.com"])])

        let deny = policies[1]
        #expect(deny.spec?.effectiveAction == .DENY)
        #expect(deny.spec?.rules?[0].from?[0].source?.notNamespaces == ["foo"])
        #expect(deny.spec?.rules?[0].to == nil)

        let nothing = policies[2]
        #expect(nothing.spec == AuthorizationPolicy.Spec())
        #expect(nothing.spec?.rules == nil)
        #expect(nothing.spec?.effectiveAction == .ALLOW)

        let all = policies[3]
        #expect(all.apiVersion == "security.istio.io/v1beta1")
        #expect(all.spec?.rules == [AuthorizationPolicy.Rule()])

        #expect(policies[4].metadata.name == "productpage-viewer")
        #expect(policies[4].spec?.rules?[0].from == nil)

        let waypoint = policies[5]
        #expect(waypoint.spec?.selector == nil)
        #expect(waypoint.spec?.targetRefs == [IstioType.PolicyTargetReference(group: "", kind: "Service", name: "productpage")])
        #expect(waypoint.spec?.targetRefs?[0].canonicalGroup == "")
        #expect(waypoint.spec?.rules?[0].from?[0].source?.principals == ["cluster.local/ns/default/sa/bookinfo-gateway-istio"])

        let custom = policies[6]
        #expect(custom.spec?.action == .CUSTOM)
        #expect(custom.spec?.provider?.name == "sample-ext-authz-grpc")
        #expect(custom.spec?.rules?[0].to?[0].operation?.paths == ["/headers"])
    }

    static let everyAuthorizationField = """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata:
          name: reviews-audit
          namespace: bookinfo
          annotations:
            istio.io/dry-run: "true"
        spec:
          selector:
            matchLabels:
              app: reviews
          action: DENY
          rules:
          - from:
            - source:
                principals: ["cluster.local/ns/bookinfo/sa/*", "*-productpage"]
                notPrincipals: ["cluster.local/ns/bookinfo/sa/ratings"]
                requestPrincipals: ["https://accounts.example.com/*"]
                notRequestPrincipals: ["https://evil.example.com/*"]
                ipBlocks: ["10.0.0.0/8", "192.168.1.7", "2001:db8::/32"]
                notIpBlocks: ["10.1.0.0/16"]
                remoteIpBlocks: ["203.0.113.0/24"]
                notRemoteIpBlocks: ["203.0.113.9"]
                trustDomains: ["cluster.local", "*.example.org"]
                notTrustDomains: ["old.local"]
            - source:
                serviceAccounts: ["bookinfo/productpage", "reviews"]
                notServiceAccounts: ["other/bad"]
            to:
            - operation:
                hosts: ["reviews.bookinfo.svc.cluster.local", "*.example.com"]
                notHosts: ["admin.example.com"]
                ports: ["9080", "0"]
                notPorts: ["15021"]
                methods: ["GET", "POST"]
                notMethods: ["DELETE"]
                paths: ["/reviews/*", "/api/{*}/ratings/{**}", "*/info", "/grpc.health.v1.Health/Check"]
                notPaths: ["/admin/{**}"]
            when:
            - key: request.headers[X-Tenant]
              values: ["acme", "acme-*"]
              notValues: ["acme-test"]
            - key: source.ip
              values: ["10.0.0.0/8"]
            - key: remote.ip
              notValues: ["198.51.100.1"]
            - key: destination.port
              values: ["9080"]
            - key: destination.ip
              values: ["10.10.10.10", "192.168.10.0/24"]
            - key: connection.sni
              values: ["reviews.bookinfo.svc.cluster.local"]
            - key: source.namespace
              values: ["bookinfo"]
            - key: source.serviceAccount
              values: ["bookinfo/productpage"]
            - key: source.principal
              values: ["cluster.local/ns/bookinfo/sa/productpage"]
            - key: source.trustDomain
              values: ["cluster.local"]
            - key: request.auth.principal
              values: ["https://accounts.example.com/alice"]
            - key: request.auth.audiences
              values: ["bookinfo"]
            - key: request.auth.presenter
              values: ["web-client"]
            - key: request.auth.claims[groups][admins]
              values: ["[true]"]
            - key: experimental.envoy.filters.network.mysql_proxy[db.table]
              values: ["[update]"]
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata:
          name: gateway-audit
          namespace: istio-ingress
        spec:
          targetRef:
            group: gateway.networking.k8s.io
            kind: Gateway
            name: bookinfo-gateway
          action: AUDIT
          rules:
          - to:
            - operation:
                paths: ["/login"]
                ports: ["8080"]
        """

    @Test func everyAuthorizationFieldDecodes() throws {
        let result = strict.load(text: Self.everyAuthorizationField)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let policies = result.all(AuthorizationPolicy.self)
        try #require(policies.count == 2)
        let policy = policies[0]
        #expect(policy.metadata.annotation("istio.io/dry-run") == "true")
        let rule = try #require(policy.spec?.rules?.first)
        let source = try #require(rule.from?[0].source)
        #expect(source.principals == ["cluster.local/ns/bookinfo/sa/*", "*-productpage"])
        #expect(source.notPrincipals == ["cluster.local/ns/bookinfo/sa/ratings"])
        #expect(source.requestPrincipals == ["https://accounts.example.com/*"])
        #expect(source.notRequestPrincipals == ["https://evil.example.com/*"])
        #expect(source.ipBlocks == ["10.0.0.0/8", "192.168.1.7", "2001:db8::/32"])
        #expect(source.notIpBlocks == ["10.1.0.0/16"])
        #expect(source.remoteIpBlocks == ["203.0.113.0/24"])
        #expect(source.notRemoteIpBlocks == ["203.0.113.9"])
        #expect(source.trustDomains == ["cluster.local", "*.example.org"])
        #expect(source.notTrustDomains == ["old.local"])
        let second = try #require(rule.from?[1].source)
        #expect(second.serviceAccounts == ["bookinfo/productpage", "reviews"])
        #expect(second.notServiceAccounts == ["other/bad"])
        let operation = try #require(rule.to?[0].operation)
        #expect(operation.hosts == ["reviews.bookinfo.svc.cluster.local", "*.example.com"])
        #expect(operation.notHosts == ["admin.example.com"])
        #expect(operation.ports == ["9080", "0"])
        #expect(operation.notPorts == ["15021"])
        #expect(operation.methods == ["GET", "POST"])
        #expect(operation.notMethods == ["DELETE"])
        #expect(operation.paths == ["/reviews/*", "/api/{*}/ratings/{**}", "*/info", "/grpc.health.v1.Health/Check"])
        #expect(operation.notPaths == ["/admin/{**}"])
        let when = try #require(rule.when)
        #expect(when.count == 15)
        #expect(when[0] == .init(key: "request.headers[X-Tenant]", values: ["acme", "acme-*"], notValues: ["acme-test"]))
        #expect(when[2].values == nil && when[2].notValues == ["198.51.100.1"])
        #expect(when[14].key == "experimental.envoy.filters.network.mysql_proxy[db.table]")

        let gateway = policies[1]
        #expect(gateway.spec?.action == .AUDIT)
        #expect(gateway.spec?.targetRef == .init(group: "gateway.networking.k8s.io", kind: "Gateway", name: "bookinfo-gateway"))
        #expect(gateway.spec?.rules?[0].to?[0].operation?.ports == ["8080"])
    }

    static let peerAuthentications = """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata:
          name: default
          namespace: istio-system
        spec:
          mtls:
            mode: STRICT
        ---
        apiVersion: security.istio.io/v1beta1
        kind: PeerAuthentication
        metadata:
          name: finance
          namespace: foo
        spec:
          selector:
            matchLabels:
              app: finance
          mtls:
            mode: STRICT
          portLevelMtls:
            8080:
              mode: DISABLE
            "9090":
              mode: PERMISSIVE
            15021: {}
        ---
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata:
          name: inherit
          namespace: bar
        spec:
          mtls:
            mode: UNSET
        """

    @Test func peerAuthenticationsFromTheDocs() throws {
        let result = strict.load(text: Self.peerAuthentications)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let policies = result.all(PeerAuthentication.self)
        try #require(policies.count == 3)
        #expect(policies[0].spec?.mtls?.mode == .STRICT)
        #expect(policies[0].spec?.selector == nil)
        #expect(policies[0].spec?.portLevelMtls == nil)
        let finance = try #require(policies[1].spec)
        #expect(finance.selector?.matchLabels == ["app": "finance"])
        #expect(finance.mtls == .init(mode: .STRICT))
        #expect(finance.portLevelMtls == ["8080": .init(mode: .DISABLE), "9090": .init(mode: .PERMISSIVE), "15021": .init()])
        #expect(finance.portLevelMtlsByPort[8080]?.mode == .DISABLE)
        #expect(finance.portLevelMtlsByPort[15021]?.mode == nil)
        #expect(policies[2].spec?.mtls?.mode == .UNSET)
    }

    static let requestAuthentications = """
        apiVersion: security.istio.io/v1
        kind: RequestAuthentication
        metadata:
          name: jwt-example
          namespace: istio-system
        spec:
          selector:
            matchLabels:
              istio: ingressgateway
          jwtRules:
          - issuer: "testing@secure.istio.io"
            jwksUri: "https://raw.githubusercontent.com/istio/istio/release-1.24/security/tools/jwt/samples/jwks.json"
        ---
        apiVersion: security.istio.io/v1
        kind: RequestAuthentication
        metadata:
          name: httpbin
          namespace: foo
        spec:
          targetRefs:
          - kind: Gateway
            group: gateway.networking.k8s.io
            name: httpbin-gateway
          jwtRules:
          - issuer: "https://accounts.example.com"
            audiences: ["httpbin", "bookinfo"]
            jwksUri: "https://accounts.example.com:8443/.well-known/jwks.json"
            fromHeaders:
            - name: x-jwt-assertion
              prefix: "Bearer "
            - name: x-goog-iap-jwt-assertion
            fromParams: ["my_token"]
            fromCookies: ["session"]
            outputPayloadToHeader: x-jwt-payload
            outputClaimToHeaders:
            - header: x-jwt-claim-sub
              claim: sub
            - header: x-jwt-groups
              claim: nested.groups
            forwardOriginalToken: true
            timeout: 10s
            spaceDelimitedClaims: ["custom_scope"]
          - issuer: "issuer-inline"
            jwks: |
              { "keys": [ { "kty": "RSA", "kid": "DHFbpoIUqrY8t2zpA2qXfCmr5VO5ZEr4RzHU_-envvQ", "e": "AQAB",
                "n": "xAE7eB6qugXyCAG3yhh7pkDkT65pHymX-P7KfIupjf59vsdo91bSP9C8H07pSAGQO1MV_xFj9VswgsCg4R6otmg5PV2He95lZdHtOcU5DXIg_pbhLdKXbi66GlVeK6ABZOUW3WYtnNHD-91gVuoeJT_DwtGGcp4ignkgXfkiEm4sw-4sfb4qdt5oLbyVpmW6x9cfa7vs2WTfURiCrBoUqgBo_-4WTiULmmHSGZHOjzwa8WtrtOQGsAFjIbno85jp6MnGGGZPYZbDAa_b3y5u-YpW7ypZrvD8BgtKVjgtQgZhLAGezMt0ua3DRrWnKqTZ0BJ_EyxOGuHJrLsn00fnMQ" } ] }
        """

    @Test func requestAuthenticationsFromTheDocs() throws {
        let result = strict.load(text: Self.requestAuthentications)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let policies = result.all(RequestAuthentication.self)
        try #require(policies.count == 2)
        let example = try #require(policies[0].spec)
        #expect(example.selector?.matchLabels == ["istio": "ingressgateway"])
        #expect(example.jwtRules == [.init(issuer: "testing@secure.istio.io",
            jwksUri: "https://raw.githubusercontent.com/istio/istio/release-1.24/security/tools/jwt/samples/jwks.json")])
        #expect(example.jwtRules?[0].timeoutSeconds == 5)

        let httpbin = try #require(policies[1].spec)
        #expect(httpbin.targetRefs?[0].kind == "Gateway")
        #expect(httpbin.targetRefs?[0].group == "gateway.networking.k8s.io")
        #expect(httpbin.targetRefs?[0].name == "httpbin-gateway")
        let rule = try #require(httpbin.jwtRules?.first)
        #expect(rule.issuer == "https://accounts.example.com")
        #expect(rule.audiences == ["httpbin", "bookinfo"])
        #expect(rule.effectiveJwksUri == "https://accounts.example.com:8443/.well-known/jwks.json")
        #expect(rule.jwks == nil)
        #expect(rule.fromHeaders == [.init(name: "x-jwt-assertion", prefix: "Bearer "), .init(name: "x-goog-iap-jwt-assertion")])
        #expect(rule.fromParams == ["my_token"])
        #expect(rule.fromCookies == ["session"])
        #expect(rule.outputPayloadToHeader == "x-jwt-payload")
        #expect(rule.outputClaimToHeaders == [.init(header: "x-jwt-claim-sub", claim: "sub"), .init(header: "x-jwt-groups", claim: "nested.groups")])
        #expect(rule.forwardOriginalToken == true)
        #expect(rule.timeout == "10s")
        #expect(rule.timeoutSeconds == 10)
        #expect(rule.spaceDelimitedClaims == ["custom_scope"])
        let inline = try #require(httpbin.jwtRules?.last)
        #expect(inline.issuer == "issuer-inline")
        #expect(inline.jwks?.contains("\"kty\": \"RSA\"") == true)
        #expect(inline.jwksUri == nil && inline.jwks_uri == nil)
    }

    @Test func snakeCaseJwksUriAliasIsAccepted() throws {
        let result = strict.load(text: """
            apiVersion: security.istio.io/v1
            kind: RequestAuthentication
            metadata: {name: legacy, namespace: foo}
            spec:
              jwtRules:
              - jwks_uri: https://example.com/jwks.json
            """)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let rule = try #require(result.all(RequestAuthentication.self).first?.spec?.jwtRules?.first)
        #expect(rule.issuer == nil)
        #expect(rule.effectiveJwksUri == "https://example.com/jwks.json")
    }

    @Test func valuesBuiltInCodeValidateAndRoundTrip() throws {
        let policy = AuthorizationPolicy(
            metadata: ObjectMeta(name: "ratings", namespace: "bookinfo"),
            spec: .init(
                selector: .init(matchLabels: ["app": "ratings"]),
                rules: [
                    .init(
                        from: [.init(source: .init(principals: ["cluster.local/ns/bookinfo/sa/reviews"]))],
                        to: [.init(operation: .init(ports: ["9080"], methods: ["GET"]))])
                ],
                action: .ALLOW))
        var context = ValidationContext()
        policy.validate(into: &context)
        #expect(context.findings.isEmpty, "\(context.findings)")

        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(policy), as: UTF8.self)
        #expect(json.contains(#""principals":["cluster.local/ns/bookinfo/sa/reviews"]"#))
        let reloaded = strict.load(text: json)
        #expect(reloaded.diagnostics.isEmpty, "\(reloaded.diagnostics)")
        #expect(reloaded.all(AuthorizationPolicy.self).first == policy)

        var broken = policy
        broken.spec?.provider = .init(name: "ext")
        var brokenContext = ValidationContext()
        broken.validate(into: &brokenContext)
        #expect(brokenContext.findings.map(\.path.description) == ["spec.provider"])

        let peer = PeerAuthentication(
            metadata: ObjectMeta(name: "ratings", namespace: "bookinfo"),
            spec: .init(selector: .init(matchLabels: ["app": "ratings"]), mtls: .init(mode: .STRICT),
                portLevelMtls: ["9080": .init(mode: .PERMISSIVE)]))
        var peerContext = ValidationContext()
        peer.validate(into: &peerContext)
        #expect(peerContext.findings.isEmpty)

        let request = RequestAuthentication(
            metadata: ObjectMeta(name: "jwt", namespace: "bookinfo"),
            spec: .init(jwtRules: [.init(issuer: "https://accounts.example.com", jwksUri: "https://accounts.example.com/jwks")]))
        var requestContext = ValidationContext()
        request.validate(into: &requestContext)
        #expect(requestContext.findings.isEmpty)
    }
}
