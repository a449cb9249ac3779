import Foundation
import Testing
@testable import MeshAPI

/// Real-world Gateway API manifests, in the style of Istio's documentation and samples:
/// they load with no diagnostics at all in strict mode, and decode field by field.
@Suite struct GatewayAPIManifestTests {
    let strict = ManifestLoader(options: .init(strict: true))

    /// Loads text in strict mode, expecting no diagnostics.
    func loadClean(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> LoadResult {
        let result = strict.load(text: text, file: "sample.yaml")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.description))", sourceLocation: sourceLocation)
        return result
    }

    @Test func bookinfoIngressGatewayAndRoute() throws {
        // samples/bookinfo/gateway-api/bookinfo-gateway.yaml
        let result = loadClean("""
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata:
              name: bookinfo-gateway
            spec:
              gatewayClassName: istio
              listeners:
              - name: http
                port: 80
                protocol: HTTP
                allowedRoutes:
                  namespaces:
                    from: Same
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata:
              name: bookinfo
            spec:
              parentRefs:
              - name: bookinfo-gateway
              rules:
              - matches:
                - path:
                    type: Exact
                    value: /productpage
                - path:
                    type: PathPrefix
                    value: /static
                - path:
                    type: Exact
                    value: /login
                - path:
                    type: Exact
                    value: /logout
                - path:
                    type: PathPrefix
                    value: /api/v1/products
                backendRefs:
                - name: productpage
                  port: 9080
            """)
        let gateway = try #require(result.all(Gateway.self).first)
        #expect(gateway.metadata.name == "bookinfo-gateway")
        #expect(gateway.spec.gatewayClassName == "istio")
        #expect(!gateway.isWaypoint)
        #expect(gateway.spec.listeners == [
            Gateway.Listener(name: "http", port: 80, protocol: "HTTP",
                allowedRoutes: Gateway.AllowedRoutes(namespaces: Gateway.RouteNamespaces(from: .Same))),
        ])
        let route = try #require(result.all(HTTPRoute.self).first)
        #expect(route.spec.parentRefs == [GatewayAPI.ParentReference(name: "bookinfo-gateway")])
        #expect(route.spec.parentRefs?.first?.effectiveKind == "Gateway")
        #expect(route.spec.parentRefs?.first?.effectiveGroup == "gateway.networking.k8s.io")
        let rule = try #require(route.spec.rules?.first)
        #expect(rule.matches?.map { $0.path?.type } == [.Exact, .PathPrefix, .Exact, .Exact, .PathPrefix])
        #expect(rule.matches?.map { $0.path?.value } == ["/productpage", "/static", "/login", "/logout", "/api/v1/products"])
        #expect(rule.backendRefs == [HTTPRoute.BackendRef(name: "productpage", port: 9080)])
        #expect(rule.backendRefs?.first?.effectiveWeight == 1)
        #expect(rule.backendRefs?.first?.objectReference.effectiveKind == "Service")
    }

    @Test func waypointAsIstioctlGeneratesItWithStatus() throws {
        // `istioctl waypoint apply -n bookinfo`, then `kubectl get gateway waypoint -o yaml`.
        let result = loadClean("""
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata:
              labels:
                istio.io/waypoint-for: service
              name: waypoint
              namespace: bookinfo
              generation: 1
              resourceVersion: "5231"
              uid: 3b5a8f4e-6f8f-4a40-9c3f-2d7b5f3e8a11
              creationTimestamp: "2025-01-14T10:21:07Z"
            spec:
              gatewayClassName: istio-waypoint
              listeners:
              - allowedRoutes:
                  namespaces:
                    from: Same
                name: mesh
                port: 15008
                protocol: HBONE
            status:
              addresses:
              - type: IPAddress
                value: 10.96.14.203
              conditions:
              - lastTransitionTime: "2025-01-14T10:21:09Z"
                message: Resource accepted
                observedGeneration: 1
                reason: Accepted
                status: "True"
                type: Accepted
              - lastTransitionTime: "2025-01-14T10:21:12Z"
                message: Resource programmed, assigned to service(s) waypoint.bookinfo.svc.cluster.local:15008
                observedGeneration: 1
                reason: Programmed
                status: "True"
                type: Programmed
              listeners:
              - attachedRoutes: 0
                conditions:
                - lastTransitionTime: "2025-01-14T10:21:09Z"
                  message: No errors found
                  observedGeneration: 1
                  reason: Accepted
                  status: "True"
                  type: Accepted
                - lastTransitionTime: "2025-01-14T10:21:09Z"
                  message: No errors found
                  observedGeneration: 1
                  reason: Programmed
                  status: "True"
                  type: Programmed
                name: mesh
                supportedKinds: []
            """)
        let waypoint = try #require(result.all(Gateway.self).first)
        #expect(waypoint.isWaypoint)
        #expect(waypoint.waypointFor == .service)
        #expect(waypoint.waypointFor?.handlesServiceTraffic == true)
        #expect(waypoint.waypointFor?.handlesWorkloadTraffic == false)
        #expect(waypoint.hboneListener?.name == "mesh")
        #expect(waypoint.hboneListener?.port == Gateway.hbonePort)
        #expect(waypoint.listener(named: "mesh")?.protocol == "HBONE")
        #expect(waypoint.status?.addresses == [Gateway.Address(type: "IPAddress", value: "10.96.14.203")])
        #expect(waypoint.status?.conditions?.map(\.type) == ["Accepted", "Programmed"])
        #expect(waypoint.status?.conditions?.allSatisfy(\.isTrue) == true)
        #expect(waypoint.status?.conditions?.first?.observedGeneration == 1)
        #expect(waypoint.status?.listeners?.first?.attachedRoutes == 0)
        #expect(waypoint.status?.listeners?.first?.supportedKinds == [])
    }

    @Test func waypointForValues() throws {
        func waypoint(_ label: String?) -> Gateway {
            Gateway(metadata: ObjectMeta(name: "w", labels: label.map { [MeshLabels.waypointFor: $0] }),
                spec: Gateway.Spec(gatewayClassName: Gateway.waypointClassName,
                    listeners: [Gateway.Listener(name: "mesh", port: 15008, protocol: "HBONE")]))
        }
        #expect(waypoint(nil).waypointFor == .service)
        #expect(waypoint("workload").waypointFor == .workload)
        #expect(waypoint("all").waypointFor?.handlesWorkloadTraffic == true)
        #expect(waypoint("all").waypointFor?.handlesServiceTraffic == true)
        #expect(waypoint("none").waypointFor == .noTraffic)
        #expect(waypoint("Service").waypointFor == nil)
        var context = ValidationContext()
        waypoint("all").validate(into: &context)
        #expect(context.findings.isEmpty, "\(context.findings)")
    }

    @Test func httpsGatewayWithSharedAccessAndInfrastructure() throws {
        let result = loadClean("""
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata:
              name: shared-gateway
              namespace: istio-ingress
            spec:
              gatewayClassName: istio
              addresses:
              - value: istio-ingressgateway.istio-system.svc.cluster.local
                type: Hostname
              infrastructure:
                labels:
                  team: platform
                annotations:
                  service.beta.kubernetes.io/aws-load-balancer-type: nlb
              listeners:
              - name: http
                hostname: "*.example.com"
                port: 80
                protocol: HTTP
                allowedRoutes:
                  namespaces:
                    from: All
              - name: https
                hostname: bookinfo.example.com
                port: 443
                protocol: HTTPS
                tls:
                  mode: Terminate
                  certificateRefs:
                  - kind: Secret
                    group: ""
                    name: bookinfo-credential
                allowedRoutes:
                  namespaces:
                    from: Selector
                    selector:
                      matchLabels:
                        shared-gateway-access: "true"
                      matchExpressions:
                      - key: kubernetes.io/metadata.name
                        operator: In
                        values: [bookinfo, httpbin]
                  kinds:
                  - kind: HTTPRoute
              - name: tls-passthrough
                hostname: legacy.example.com
                port: 8443
                protocol: TLS
                tls:
                  mode: Passthrough
              - name: mysql
                port: 3306
                protocol: TCP
            """)
        let gateway = try #require(result.all(Gateway.self).first)
        #expect(gateway.spec.addresses == [Gateway.Address(type: "Hostname", value: "istio-ingressgateway.istio-system.svc.cluster.local")])
        #expect(gateway.spec.infrastructure?.labels == ["team": "platform"])
        #expect(gateway.spec.infrastructure?.annotations?["service.beta.kubernetes.io/aws-load-balancer-type"] == "nlb")
        #expect(gateway.spec.listeners.map(\.name) == ["http", "https", "tls-passthrough", "mysql"])
        #expect(gateway.spec.listeners.map(\.port) == [80, 443, 8443, 3306])
        #expect(gateway.spec.listeners[0].hostname == "*.example.com")
        #expect(gateway.spec.listeners[0].allowedRoutes?.namespaces?.from == .All)
        let https = gateway.spec.listeners[1]
        #expect(https.tls?.mode == .Terminate)
        #expect(https.tls?.certificateRefs == [GatewayAPI.SecretObjectReference(group: "", kind: "Secret", name: "bookinfo-credential")])
        let selector = try #require(https.allowedRoutes?.namespaces?.selector)
        #expect(https.allowedRoutes?.namespaces?.from == .Selector)
        #expect(selector.matchLabels == ["shared-gateway-access": "true"])
        #expect(selector.matchExpressions == [
            Kubernetes.LabelSelector.Requirement(key: "kubernetes.io/metadata.name", operator: .In, values: ["bookinfo", "httpbin"]),
        ])
        #expect(selector.matches(["shared-gateway-access": "true", "kubernetes.io/metadata.name": "bookinfo"]))
        #expect(!selector.matches(["shared-gateway-access": "true", "kubernetes.io/metadata.name": "default"]))
        #expect(!selector.matches(nil))
        #expect(https.allowedRoutes?.kinds == [Gateway.RouteGroupKind(kind: "HTTPRoute")])
        #expect(gateway.spec.listeners[2].tls?.mode == .Passthrough)
        #expect(gateway.spec.listeners[3].tls == nil)
    }

    @Test func ambientTrafficShiftingRoutesOnAService() throws {
        // Istio docs, ambient "Traffic management": GAMMA routes attached to the reviews Service.
        let result = loadClean("""
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata:
              name: reviews
              namespace: bookinfo
            spec:
              parentRefs:
              - group: ""
                kind: Service
                name: reviews
                port: 9080
              rules:
              - matches:
                - headers:
                  - name: end-user
                    value: jason
                backendRefs:
                - name: reviews-v2
                  port: 9080
              - backendRefs:
                - name: reviews-v1
                  port: 9080
                  weight: 90
                - name: reviews-v3
                  port: 9080
                  weight: 10
            ---
            apiVersion: gateway.networking.k8s.io/v1beta1
            kind: HTTPRoute
            metadata:
              name: ratings
              namespace: bookinfo
            spec:
              parentRefs:
              - group: gateway.networking.k8s.io
                kind: Gateway
                name: waypoint
                sectionName: mesh
              hostnames:
              - ratings.bookinfo.svc.cluster.local
              rules:
              - name: slow-ratings
                matches:
                - path:
                    type: PathPrefix
                    value: /ratings
                  method: GET
                  queryParams:
                  - type: RegularExpression
                    name: user
                    value: "^[a-z]+$"
                timeouts:
                  request: 10s
                  backendRequest: 2s
                backendRefs:
                - name: ratings
                  port: 9080
            """)
        let routes = result.all(HTTPRoute.self)
        #expect(routes.count == 2)
        let reviews = routes[0]
        let parent = try #require(reviews.spec.parentRefs?.first)
        #expect(parent.isService)
        #expect(parent.port == 9080)
        let rules = try #require(reviews.spec.rules)
        #expect(rules[0].matches?.first?.headers == [HTTPRoute.HeaderMatch(name: "end-user", value: "jason")])
        #expect(rules[0].backendRefs?.map(\.name) == ["reviews-v2"])
        #expect(rules[1].matches == nil)
        #expect(rules[1].backendRefs?.map(\.effectiveWeight) == [90, 10])
        let ratings = routes[1]
        #expect(ratings.apiVersion == "gateway.networking.k8s.io/v1beta1")
        #expect(ratings.spec.parentRefs?.first?.sectionName == "mesh")
        #expect(ratings.spec.hostnames == ["ratings.bookinfo.svc.cluster.local"])
        let rule = try #require(ratings.spec.rules?.first)
        #expect(rule.name == "slow-ratings")
        #expect(rule.matches?.first?.method == .GET)
        #expect(rule.matches?.first?.queryParams == [HTTPRoute.QueryParamMatch(type: .RegularExpression, name: "user", value: "^[a-z]+$")])
        #expect(rule.timeouts == HTTPRoute.Timeouts(request: "10s", backendRequest: "2s"))
    }

    @Test func everyFilterKind() throws {
        let result = loadClean("""
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata:
              name: httpbin
              namespace: httpbin
            spec:
              parentRefs:
              - name: httpbin-gateway
                namespace: istio-ingress
                sectionName: http
              hostnames: ["httpbin.example.com"]
              rules:
              - matches:
                - path:
                    type: PathPrefix
                    value: /get
                filters:
                - type: RequestHeaderModifier
                  requestHeaderModifier:
                    set:
                    - name: x-env
                      value: prod
                    add:
                    - name: x-trace
                      value: "on"
                    remove: ["x-debug"]
                - type: ResponseHeaderModifier
                  responseHeaderModifier:
                    add:
                    - name: cache-control
                      value: no-store
                - type: URLRewrite
                  urlRewrite:
                    hostname: httpbin.httpbin.svc.cluster.local
                    path:
                      type: ReplacePrefixMatch
                      replacePrefixMatch: /anything
                - type: RequestMirror
                  requestMirror:
                    backendRef:
                      name: httpbin-v2
                      port: 8000
                    percent: 25
                - type: CORS
                  cors:
                    allowOrigins: ["https://www.example.com", "https://*.example.org:8443"]
                    allowMethods: [GET, POST]
                    allowHeaders: [content-type, authorization]
                    exposeHeaders: [x-request-id]
                    allowCredentials: true
                    maxAge: 600
                - type: ExtensionRef
                  extensionRef:
                    group: networking.istio.io
                    kind: EnvoyFilter
                    name: custom
                backendRefs:
                - name: httpbin
                  port: 8000
                  filters:
                  - type: RequestMirror
                    requestMirror:
                      backendRef:
                        group: networking.istio.io
                        kind: ServiceEntry
                        name: shadow
                      fraction:
                        numerator: 1
                        denominator: 1000
                retry:
                  codes: [502, 503]
                  attempts: 3
                  backoff: 100ms
                sessionPersistence:
                  sessionName: httpbin-session
                  type: Cookie
                  absoluteTimeout: 1h
                  cookieConfig:
                    lifetimeType: Permanent
              - matches:
                - path:
                    type: Exact
                    value: /old
                filters:
                - type: RequestRedirect
                  requestRedirect:
                    scheme: https
                    hostname: new.example.com
                    port: 443
                    statusCode: 301
                    path:
                      type: ReplaceFullPath
                      replaceFullPath: /new
            """)
        let route = try #require(result.all(HTTPRoute.self).first)
        let rules = try #require(route.spec.rules)
        let filters = try #require(rules[0].filters)
        #expect(filters.map(\.type) == [.RequestHeaderModifier, .ResponseHeaderModifier, .URLRewrite, .RequestMirror, .CORS, .ExtensionRef])
        #expect(filters[0].requestHeaderModifier == HTTPRoute.HeaderFilter(
            set: [HTTPRoute.Header(name: "x-env", value: "prod")], add: [HTTPRoute.Header(name: "x-trace", value: "on")],
            remove: ["x-debug"]))
        #expect(filters[1].responseHeaderModifier?.add?.first?.name == "cache-control")
        #expect(filters[2].urlRewrite?.path == HTTPRoute.PathModifier(type: .ReplacePrefixMatch, replacePrefixMatch: "/anything"))
        #expect(filters[3].requestMirror?.backendRef == GatewayAPI.BackendObjectReference(name: "httpbin-v2", port: 8000))
        #expect(filters[3].requestMirror?.percent == 25)
        #expect(filters[4].cors?.allowOrigins?.count == 2)
        #expect(filters[4].cors?.allowCredentials == true)
        #expect(filters[4].cors?.maxAge == 600)
        #expect(filters[5].extensionRef == GatewayAPI.LocalObjectReference(group: "networking.istio.io", kind: "EnvoyFilter", name: "custom"))
        let mirror = try #require(rules[0].backendRefs?.first?.filters?.first?.requestMirror)
        #expect(mirror.backendRef.effectiveKind == "ServiceEntry")
        #expect(mirror.fraction == GatewayAPI.Fraction(numerator: 1, denominator: 1000))
        #expect(rules[0].retry == HTTPRoute.Retry(codes: [502, 503], attempts: 3, backoff: "100ms"))
        #expect(rules[0].sessionPersistence?.cookieConfig?.lifetimeType == .Permanent)
        let redirect = try #require(rules[1].filters?.first?.requestRedirect)
        #expect(redirect.scheme == .https)
        #expect(redirect.statusCode == 301)
        #expect(redirect.path?.replaceFullPath == "/new")
        #expect(rules[1].backendRefs == nil)
    }

    @Test func routeWithoutRulesGetsTheDefaultRule() throws {
        let result = loadClean("""
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: catch-all, namespace: bookinfo}
            spec:
              parentRefs: [{name: waypoint}]
            """)
        let route = try #require(result.all(HTTPRoute.self).first)
        #expect(route.spec.rules == nil)
        #expect(route.effectiveRules.count == 1)
        #expect(route.effectiveRules[0].matches?.first?.path?.effectiveType == .PathPrefix)
        #expect(route.effectiveRules[0].matches?.first?.path?.effectiveValue == "/")
    }

    @Test func valuesBuiltInCodeValidate() {
        let route = HTTPRoute(
            metadata: ObjectMeta(name: "reviews", namespace: "bookinfo"),
            spec: HTTPRoute.Spec(
                parentRefs: [GatewayAPI.ParentReference(group: "", kind: "Service", name: "reviews", port: 9080)],
                rules: [
                    HTTPRoute.Rule(
                        matches: [HTTPRoute.Match(path: HTTPRoute.PathMatch(type: .PathPrefix, value: "/reviews"))],
                        backendRefs: [HTTPRoute.BackendRef(name: "reviews-v1", port: 9080, weight: 0),
                                      HTTPRoute.BackendRef(name: "reviews-v2", port: 9080, weight: 1_000_000)]),
                ]))
        var context = ValidationContext()
        route.validate(into: &context)
        #expect(context.findings.isEmpty, "\(context.findings)")

        var broken = route
        broken.spec.rules?[0].backendRefs?[0].weight = -1
        broken.spec.rules?[0].matches?[0].path?.value = "reviews"
        context = ValidationContext()
        broken.validate(into: &context)
        #expect(context.findings.map(\.path.description) == [
            "spec.rules[0].matches[0].path.value", "spec.rules[0].backendRefs[0].weight",
        ])
    }

    @Test func gatewayDurations() {
        #expect(KubernetesRules.parseGatewayDuration("10s") == 10)
        #expect(KubernetesRules.parseGatewayDuration("1h30m") == 5400)
        #expect(KubernetesRules.parseGatewayDuration("500ms") == 0.5)
        #expect(KubernetesRules.parseGatewayDuration("0s") == 0)
        #expect(KubernetesRules.parseGatewayDuration("1h1m1s1ms") != nil)
        #expect(KubernetesRules.parseGatewayDuration("1h1m1s1ms1s") == nil)
        #expect(KubernetesRules.parseGatewayDuration("1.5s") == nil)
        #expect(KubernetesRules.parseGatewayDuration("123456s") == nil)
        #expect(KubernetesRules.parseGatewayDuration("10") == nil)
        #expect(KubernetesRules.parseGatewayDuration("") == nil)
        #expect(KubernetesRules.parseGatewayDuration("1d") == nil)
    }
}
