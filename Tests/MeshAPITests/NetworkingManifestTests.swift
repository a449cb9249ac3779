import Testing

@testable import MeshAPI

/// Real-world traffic manifests, in the style of Istio's documentation and the bookinfo
/// sample, load in strict mode with no diagnostics and decode field by field.
@Suite struct NetworkingManifestTests {
    private func loadStrict(_ yaml: String) -> LoadResult {
        ManifestLoader(options: .init(strict: true)).load(text: yaml, file: "networking.yaml")
    }

    @Test func bookinfoVirtualServices() throws {
        let yaml = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: reviews
              namespace: bookinfo
            spec:
              hosts:
              - reviews
              http:
              - name: jason
                match:
                - headers:
                    end-user:
                      exact: jason
                route:
                - destination:
                    host: reviews
                    subset: v2
              - name: split
                route:
                - destination:
                    host: reviews
                    subset: v1
                  weight: 50
                - destination:
                    host: reviews
                    subset: v3
                  weight: 50
            ---
            apiVersion: networking.istio.io/v1beta1
            kind: VirtualService
            metadata:
              name: ratings
            spec:
              hosts:
              - ratings
              http:
              - match:
                - headers:
                    end-user:
                      exact: jason
                fault:
                  delay:
                    percentage:
                      value: 100.0
                    fixedDelay: 7s
                  abort:
                    percentage:
                      value: 10
                    httpStatus: 500
                route:
                - destination:
                    host: ratings
                    subset: v1
              - route:
                - destination:
                    host: ratings
                    subset: v1
            ---
            apiVersion: networking.istio.io/v1alpha3
            kind: VirtualService
            metadata:
              name: bookinfo
            spec:
              hosts:
              - "*"
              gateways:
              - bookinfo-gateway
              http:
              - match:
                - uri:
                    exact: /productpage
                - uri:
                    prefix: /static
                - uri:
                    exact: /login
                - uri:
                    regex: ^/api/v1/products(/[0-9]+)?$
                  method:
                    exact: GET
                route:
                - destination:
                    host: productpage
                    port:
                      number: 9080
            """
        let result = loadStrict(yaml)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let services = result.all(VirtualService.self)
        try #require(services.count == 3)

        let reviews = services[0]
        #expect(reviews.apiVersion == "networking.istio.io/v1")
        #expect(reviews.metadata.name == "reviews")
        #expect(reviews.metadata.namespace == "bookinfo")
        #expect(reviews.spec.hosts == ["reviews"])
        #expect(reviews.spec.gateways == nil)
        let jason = try #require(reviews.spec.http?[0])
        #expect(jason.name == "jason")
        #expect(jason.match?[0].headers?["end-user"] == .exact("jason"))
        #expect(jason.route == [.init(destination: .init(host: "reviews", subset: "v2"))])
        let split = try #require(reviews.spec.http?[1])
        #expect(split.match == nil)
        #expect(split.route?.map(\.weight) == [50, 50])
        #expect(split.route?.map(\.destination.subset) == ["v1", "v3"])

        let ratings = services[1]
        #expect(ratings.apiVersion == "networking.istio.io/v1beta1")
        let fault = try #require(ratings.spec.http?[0].fault)
        #expect(fault.delay?.fixedDelay == "7s")
        #expect(fault.delay?.percentage?.value == 100)
        #expect(fault.abort?.httpStatus == 500)
        #expect(fault.abort?.percentage?.value == 10)
        #expect(fault.abort?.grpcStatus == nil)
        #expect(ratings.spec.http?[1].route?[0].destination == .init(host: "ratings", subset: "v1"))

        let bookinfo = services[2]
        #expect(bookinfo.spec.hosts == ["*"])
        #expect(bookinfo.spec.gateways == ["bookinfo-gateway"])
        let matches = try #require(bookinfo.spec.http?[0].match)
        #expect(matches.count == 4)
        #expect(matches[0].uri == .exact("/productpage"))
        #expect(matches[1].uri == .prefix("/static"))
        #expect(matches[3].uri?.regex == "^/api/v1/products(/[0-9]+)?$")
        #expect(matches[3].method == .exact("GET"))
        #expect(bookinfo.spec.http?[0].route?[0].destination.port?.number == 9080)
    }

    @Test func virtualServiceWithEveryHTTPFeature() throws {
        let yaml = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: frontend
              namespace: shop
            spec:
              hosts:
              - frontend.shop.svc.cluster.local
              - shop.example.com
              gateways:
              - mesh
              - istio-system/public-gateway
              exportTo:
              - "."
              - istio-system
              http:
              - name: legacy-redirect
                match:
                - name: old-catalog
                  uri:
                    prefix: /catalog
                  ignoreUriCase: true
                  scheme:
                    exact: http
                  authority:
                    prefix: shop.example
                  port: 80
                  gateways:
                  - istio-system/public-gateway
                redirect:
                  prefixRewrite: /products
                  authority: www.example.com
                  derivePort: FROM_PROTOCOL_DEFAULT
                  scheme: https
                  redirectCode: 308
              - name: maintenance
                match:
                - uri:
                    exact: /maintenance
                directResponse:
                  status: 503
                  body:
                    string: "down for maintenance"
              - name: api
                match:
                - uri:
                    prefix: /api/v2/
                  queryParams:
                    debug:
                      exact: "true"
                  withoutHeaders:
                    x-skip:
                      exact: "1"
                  sourceLabels:
                    app: web
                    version: v2
                  sourceNamespace: shop
                  statPrefix: api-v2
                rewrite:
                  uriRegexRewrite:
                    match: ^/api/v2/(.*)$
                    rewrite: /\\1
                  authority: api.shop.svc.cluster.local
                timeout: 10s
                retries:
                  attempts: 3
                  perTryTimeout: 2s
                  retryOn: gateway-error,connect-failure,refused-stream,503
                  retryRemoteLocalities: true
                  retryIgnorePreviousHosts: false
                  backoff: 50ms
                mirrors:
                - destination:
                    host: api-shadow
                    port:
                      number: 8080
                  percentage:
                    value: 25.5
                corsPolicy:
                  allowOrigins:
                  - exact: https://example.com
                  - regex: https://.*\\.example\\.org
                  allowMethods:
                  - GET
                  - POST
                  allowHeaders:
                  - x-custom-header
                  exposeHeaders:
                  - x-request-id
                  maxAge: 24h
                  allowCredentials: true
                  unmatchedPreflights: IGNORE
                headers:
                  request:
                    set:
                      x-forwarded-client: "%DOWNSTREAM_REMOTE_ADDRESS%"
                    add:
                      x-shop-route: api
                    remove:
                    - x-internal-debug
                  response:
                    remove:
                    - server
                route:
                - destination:
                    host: api.shop.svc.cluster.local
                    subset: v2
                    port:
                      number: 8080
                  weight: 90
                  headers:
                    response:
                      set:
                        x-served-by: v2
                - destination:
                    host: api.shop.svc.cluster.local
                    subset: v1
                    port:
                      number: 8080
                  weight: 10
              - name: default
                mirror:
                  host: web-canary
                  subset: canary
                mirrorPercentage:
                  value: 5
                fault:
                  abort:
                    grpcStatus: UNAVAILABLE
                    percentage:
                      value: 0.1
                route:
                - destination:
                    host: web
            """
        let result = loadStrict(yaml)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let vs = try #require(result.all(VirtualService.self).first)
        #expect(vs.spec.hosts == ["frontend.shop.svc.cluster.local", "shop.example.com"])
        #expect(vs.spec.gateways == ["mesh", "istio-system/public-gateway"])
        #expect(vs.spec.exportTo == [".", "istio-system"])
        let http = try #require(vs.spec.http)
        #expect(http.map(\.name) == ["legacy-redirect", "maintenance", "api", "default"])

        let redirectMatch = try #require(http[0].match?.first)
        #expect(redirectMatch.name == "old-catalog")
        #expect(redirectMatch.uri == .prefix("/catalog"))
        #expect(redirectMatch.ignoreUriCase == true)
        #expect(redirectMatch.scheme == .exact("http"))
        #expect(redirectMatch.authority == .prefix("shop.example"))
        #expect(redirectMatch.port == 80)
        #expect(redirectMatch.gateways == ["istio-system/public-gateway"])
        #expect(http[0].redirect == VirtualService.HTTPRedirect(
            authority: "www.example.com", derivePort: .FROM_PROTOCOL_DEFAULT, scheme: "https", redirectCode: 308,
            prefixRewrite: "/products"))

        #expect(http[1].directResponse == .init(status: 503, body: .init(string: "down for maintenance")))

        let api = http[2]
        let apiMatch = try #require(api.match?.first)
        #expect(apiMatch.queryParams?["debug"] == .exact("true"))
        #expect(apiMatch.withoutHeaders?["x-skip"] == .exact("1"))
        #expect(apiMatch.sourceLabels == ["app": "web", "version": "v2"])
        #expect(apiMatch.sourceNamespace == "shop")
        #expect(apiMatch.statPrefix == "api-v2")
        #expect(api.rewrite?.uriRegexRewrite == .init(match: "^/api/v2/(.*)$", rewrite: "/\\1"))
        #expect(api.rewrite?.authority == "api.shop.svc.cluster.local")
        #expect(api.timeout == "10s")
        #expect(api.retries == .init(attempts: 3, perTryTimeout: "2s",
            retryOn: "gateway-error,connect-failure,refused-stream,503", retryRemoteLocalities: true,
            retryIgnorePreviousHosts: false, backoff: "50ms"))
        #expect(api.mirrors == [.init(destination: .init(host: "api-shadow", port: .init(number: 8080)),
            percentage: .init(value: 25.5))])
        let cors = try #require(api.corsPolicy)
        #expect(cors.allowOrigins == [.exact("https://example.com"), .regex("https://.*\\.example\\.org")])
        #expect(cors.allowMethods == ["GET", "POST"])
        #expect(cors.allowHeaders == ["x-custom-header"])
        #expect(cors.exposeHeaders == ["x-request-id"])
        #expect(cors.maxAge == "24h")
        #expect(cors.allowCredentials == true)
        #expect(cors.unmatchedPreflights == .IGNORE)
        #expect(api.headers?.request?.set == ["x-forwarded-client": "%DOWNSTREAM_REMOTE_ADDRESS%"])
        #expect(api.headers?.request?.add == ["x-shop-route": "api"])
        #expect(api.headers?.request?.remove == ["x-internal-debug"])
        #expect(api.headers?.response?.remove == ["server"])
        #expect(api.route?.count == 2)
        #expect(api.route?[0].weight == 90)
        #expect(api.route?[0].headers?.response?.set == ["x-served-by": "v2"])
        #expect(api.route?[1].destination == .init(host: "api.shop.svc.cluster.local", subset: "v1",
            port: .init(number: 8080)))

        let fallback = http[3]
        #expect(fallback.mirror == .init(host: "web-canary", subset: "canary"))
        #expect(fallback.mirrorPercentage?.value == 5)
        #expect(fallback.fault?.abort?.grpcStatus == "UNAVAILABLE")
        #expect(fallback.fault?.abort?.percentage?.value == 0.1)
        #expect(fallback.match == nil)
    }

    @Test func tcpTLSAndDelegateVirtualServices() throws {
        let yaml = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: mongo
            spec:
              hosts:
              - mongo.prod.svc.cluster.local
              tcp:
              - match:
                - port: 27017
                  destinationSubnets:
                  - 10.1.0.0/16
                  sourceLabels:
                    app: reporting
                  sourceNamespace: analytics
                route:
                - destination:
                    host: mongo.backup.svc.cluster.local
                    port:
                      number: 5555
                  weight: 100
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: tls-passthrough
            spec:
              hosts:
              - "*.bookinfo.com"
              gateways:
              - istio-system/passthrough-gateway
              tls:
              - match:
                - port: 443
                  sniHosts:
                  - login.bookinfo.com
                route:
                - destination:
                    host: login.prod.svc.cluster.local
              - match:
                - port: 443
                  sniHosts:
                  - reviews.bookinfo.com
                route:
                - destination:
                    host: reviews.prod.svc.cluster.local
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: root
              namespace: istio-system
            spec:
              hosts:
              - bookinfo.example.com
              gateways:
              - bookinfo-gateway
              http:
              - match:
                - uri:
                    prefix: /productpage
                delegate:
                  name: productpage
                  namespace: bookinfo
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: productpage
              namespace: bookinfo
            spec:
              http:
              - match:
                - uri:
                    exact: /productpage/v1
                route:
                - destination:
                    host: productpage-v1.bookinfo.svc.cluster.local
              - route:
                - destination:
                    host: productpage.bookinfo.svc.cluster.local
            """
        let result = loadStrict(yaml)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let services = result.all(VirtualService.self)
        try #require(services.count == 4)

        let tcp = try #require(services[0].spec.tcp?.first)
        #expect(tcp.match == [.init(destinationSubnets: ["10.1.0.0/16"], port: 27017, sourceLabels: ["app": "reporting"],
            sourceNamespace: "analytics")])
        #expect(tcp.route == [.init(destination: .init(host: "mongo.backup.svc.cluster.local", port: .init(number: 5555)),
            weight: 100)])

        let tls = try #require(services[1].spec.tls)
        #expect(tls.count == 2)
        #expect(tls[0].match == [.init(sniHosts: ["login.bookinfo.com"], port: 443)])
        #expect(tls[1].route?.first?.destination.host == "reviews.prod.svc.cluster.local")

        #expect(services[2].spec.http?.first?.delegate == .init(name: "productpage", namespace: "bookinfo"))
        #expect(services[2].spec.http?.first?.route == nil)
        // A VirtualService without hosts is a valid delegate.
        #expect(services[3].spec.hosts == nil)
        #expect(services[3].spec.http?.count == 2)
    }

    @Test func bookinfoDestinationRules() throws {
        let yaml = """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: reviews
            spec:
              host: reviews
              trafficPolicy:
                tls:
                  mode: ISTIO_MUTUAL
              subsets:
              - name: v1
                labels:
                  version: v1
              - name: v2
                labels:
                  version: v2
              - name: v3
                labels:
                  version: v3
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: ratings
              namespace: prod
            spec:
              host: ratings.prod.svc.cluster.local
              exportTo:
              - "*"
              trafficPolicy:
                loadBalancer:
                  simple: LEAST_REQUEST
                  localityLbSetting:
                    enabled: true
                    distribute:
                    - from: us-west/zone1/*
                      to:
                        "us-west/zone1/*": 80
                        "us-west/zone2/*": 20
                  warmup:
                    duration: 60s
                    minimumPercent: 10
                    aggression: 1.5
                connectionPool:
                  tcp:
                    maxConnections: 100
                    connectTimeout: 30ms
                    maxConnectionDuration: 1h
                    idleTimeout: 0s
                    tcpKeepalive:
                      probes: 5
                      time: 7200s
                      interval: 75s
                  http:
                    http1MaxPendingRequests: 1024
                    http2MaxRequests: 1024
                    maxRequestsPerConnection: 10
                    maxRetries: 3
                    idleTimeout: 30s
                    h2UpgradePolicy: UPGRADE
                    maxConcurrentStreams: 100
                    http2KeepAlive:
                      interval: 30s
                      timeout: 5s
                outlierDetection:
                  consecutive5xxErrors: 7
                  consecutiveGatewayErrors: 3
                  splitExternalLocalOriginErrors: true
                  consecutiveLocalOriginFailures: 4
                  interval: 5m
                  baseEjectionTime: 15m
                  maxEjectionPercent: 50
                  minHealthPercent: 30
                  outlierDetectionHttpErrorCodes:
                  - 500
                  - 503
                portLevelSettings:
                - port:
                    number: 9080
                  loadBalancer:
                    consistentHash:
                      httpCookie:
                        name: user
                        path: /
                        ttl: 0s
                        attributes:
                        - name: SameSite
                          value: Strict
                      ringHash:
                        minimumRingSize: 2048
                - port:
                    number: 9443
                  tls:
                    mode: SIMPLE
                    sni: ratings.example.com
                    subjectAltNames:
                    - spiffe://cluster.local/ns/prod/sa/ratings
                    caCertificates: /etc/certs/ca.pem
                retryBudget:
                  percent: 25
                  minRetryConcurrency: 5
              subsets:
              - name: testversion
                labels:
                  version: v3
                trafficPolicy:
                  loadBalancer:
                    consistentHash:
                      maglev:
                        tableSize: 65537
                      useSourceIp: true
            ---
            apiVersion: networking.istio.io/v1alpha3
            kind: DestinationRule
            metadata:
              name: external-api
              namespace: egress
            spec:
              host: api.external.com
              workloadSelector:
                matchLabels:
                  app: egress-client
              exportTo:
              - "."
              trafficPolicy:
                tls:
                  mode: MUTUAL
                  credentialName: client-credential
                  sni: api.external.com
                  insecureSkipVerify: false
                proxyProtocol:
                  version: V2
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: tunneled
            spec:
              host: db.external.com
              trafficPolicy:
                loadBalancer:
                  simple: ROUND_ROBIN
                  zoneAwareLbSetting:
                    enabled: true
                    minClusterSize: 3
                tunnel:
                  protocol: CONNECT
                  targetHost: 192.168.1.2
                  targetPort: 5432
            """
        let result = loadStrict(yaml)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let rules = result.all(DestinationRule.self)
        try #require(rules.count == 4)

        let reviews = rules[0]
        #expect(reviews.spec.host == "reviews")
        #expect(reviews.spec.trafficPolicy?.tls?.mode == .ISTIO_MUTUAL)
        #expect(reviews.spec.subsets?.map(\.name) == ["v1", "v2", "v3"])
        #expect(reviews.spec.subsets?[2].labels == ["version": "v3"])

        let ratings = rules[1]
        #expect(ratings.spec.exportTo == ["*"])
        let policy = try #require(ratings.spec.trafficPolicy)
        let lb = try #require(policy.loadBalancer)
        #expect(lb.simple == .LEAST_REQUEST)
        #expect(lb.localityLbSetting?.enabled == true)
        #expect(lb.localityLbSetting?.distribute?.first?.from == "us-west/zone1/*")
        #expect(lb.localityLbSetting?.distribute?.first?.to == ["us-west/zone1/*": 80, "us-west/zone2/*": 20])
        #expect(lb.warmup == .init(duration: "60s", minimumPercent: 10, aggression: 1.5))
        let tcp = try #require(policy.connectionPool?.tcp)
        #expect(tcp.maxConnections == 100)
        #expect(tcp.connectTimeout == "30ms")
        #expect(tcp.maxConnectionDuration == "1h")
        #expect(tcp.idleTimeout == "0s")
        #expect(tcp.tcpKeepalive == .init(probes: 5, time: "7200s", interval: "75s"))
        let http = try #require(policy.connectionPool?.http)
        #expect(http.http1MaxPendingRequests == 1024)
        #expect(http.http2MaxRequests == 1024)
        #expect(http.maxRequestsPerConnection == 10)
        #expect(http.maxRetries == 3)
        #expect(http.idleTimeout == "30s")
        #expect(http.h2UpgradePolicy == .UPGRADE)
        #expect(http.maxConcurrentStreams == 100)
        #expect(http.http2KeepAlive == .init(interval: "30s", timeout: "5s"))
        let outlier = try #require(policy.outlierDetection)
        #expect(outlier.consecutive5xxErrors == 7)
        #expect(outlier.consecutiveGatewayErrors == 3)
        #expect(outlier.splitExternalLocalOriginErrors == true)
        #expect(outlier.consecutiveLocalOriginFailures == 4)
        #expect(outlier.interval == "5m")
        #expect(outlier.baseEjectionTime == "15m")
        #expect(outlier.maxEjectionPercent == 50)
        #expect(outlier.minHealthPercent == 30)
        #expect(outlier.outlierDetectionHttpErrorCodes == [500, 503])
        let ports = try #require(policy.portLevelSettings)
        #expect(ports.count == 2)
        #expect(ports[0].port?.number == 9080)
        let cookie = try #require(ports[0].loadBalancer?.consistentHash?.httpCookie)
        #expect(cookie.name == "user")
        #expect(cookie.path == "/")
        #expect(cookie.ttl == "0s")
        #expect(cookie.attributes == [.init(name: "SameSite", value: "Strict")])
        #expect(ports[0].loadBalancer?.consistentHash?.ringHash?.minimumRingSize == 2048)
        #expect(ports[1].tls == .init(mode: .SIMPLE, caCertificates: "/etc/certs/ca.pem",
            subjectAltNames: ["spiffe://cluster.local/ns/prod/sa/ratings"], sni: "ratings.example.com"))
        #expect(policy.retryBudget == .init(percent: 25, minRetryConcurrency: 5))
        let subsetHash = try #require(ratings.spec.subsets?.first?.trafficPolicy?.loadBalancer?.consistentHash)
        #expect(subsetHash.maglev?.tableSize == 65537)
        #expect(subsetHash.useSourceIp == true)

        let external = rules[2]
        #expect(external.spec.workloadSelector?.matchLabels == ["app": "egress-client"])
        #expect(external.spec.trafficPolicy?.tls == .init(mode: .MUTUAL, credentialName: "client-credential",
            sni: "api.external.com", insecureSkipVerify: false))
        #expect(external.spec.trafficPolicy?.proxyProtocol?.version == .V2)

        let tunneled = rules[3]
        #expect(tunneled.spec.trafficPolicy?.loadBalancer?.zoneAwareLbSetting == .init(enabled: true, minClusterSize: 3))
        #expect(tunneled.spec.trafficPolicy?.tunnel == .init(protocol: "CONNECT", targetHost: "192.168.1.2", targetPort: 5432))
    }

    @Test func serviceEntriesAndWorkloadEntries() throws {
        let yaml = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: external-svc-https
            spec:
              hosts:
              - api.dropboxapi.com
              - www.googleapis.com
              - api.facebook.com
              location: MESH_EXTERNAL
              ports:
              - number: 443
                name: https
                protocol: TLS
              resolution: DNS
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: external-svc-mongocluster
            spec:
              hosts:
              - mymongodb.somedomain
              addresses:
              - 192.192.192.192/24
              ports:
              - number: 27018
                name: mongodb
                protocol: MONGO
              location: MESH_INTERNAL
              resolution: STATIC
              endpoints:
              - address: 2.2.2.2
              - address: 3.3.3.3
                ports:
                  mongodb: 27019
                labels:
                  instance: secondary
                locality: us-east1/us-east1-b
                weight: 20
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: details-svc
              namespace: bookinfo
            spec:
              hosts:
              - details.bookinfo.com
              location: MESH_INTERNAL
              ports:
              - number: 80
                name: http
                protocol: HTTP
                targetPort: 8080
              resolution: STATIC
              workloadSelector:
                labels:
                  app: details-legacy
              subjectAltNames:
              - spiffe://cluster.local/ns/bookinfo/sa/details-legacy
              exportTo:
              - "."
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: unix-domain-socket-example
            spec:
              hosts:
              - example.unix.local
              location: MESH_EXTERNAL
              ports:
              - number: 80
                name: http
                protocol: HTTP
              resolution: STATIC
              endpoints:
              - address: unix:///var/run/example/socket
            ---
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: external-dns
            spec:
              hosts:
              - foo.bar.com
              location: MESH_EXTERNAL
              ports:
              - number: 443
                name: https
                protocol: HTTPS
              resolution: DNS
              endpoints:
              - address: us.foo.bar.com
                ports:
                  https: 8443
              - address: uk.foo.bar.com
                ports:
                  https: 9443
            ---
            apiVersion: networking.istio.io/v1
            kind: WorkloadEntry
            metadata:
              name: details-svc
              namespace: bookinfo
            spec:
              serviceAccount: details-legacy
              address: 2.2.2.2
              labels:
                app: details-legacy
                instance-id: vm1
              ports:
                http: 8080
              network: vm-network
              locality: us-central1/us-central1-a/rack1
              weight: 3
            """
        let result = loadStrict(yaml)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let entries = result.all(ServiceEntry.self)
        try #require(entries.count == 5)

        let https = entries[0]
        #expect(https.spec.hosts == ["api.dropboxapi.com", "www.googleapis.com", "api.facebook.com"])
        #expect(https.spec.location == .MESH_EXTERNAL)
        #expect(https.spec.ports == [.init(number: 443, protocol: "TLS", name: "https")])
        #expect(https.spec.resolution == .DNS)
        #expect(https.spec.endpoints == nil)

        let mongo = entries[1]
        #expect(mongo.spec.addresses == ["192.192.192.192/24"])
        #expect(mongo.spec.location == .MESH_INTERNAL)
        #expect(mongo.spec.resolution == .STATIC)
        #expect(mongo.spec.endpoints?.count == 2)
        #expect(mongo.spec.endpoints?[0] == .init(address: "2.2.2.2"))
        #expect(mongo.spec.endpoints?[1] == .init(address: "3.3.3.3", ports: ["mongodb": 27019],
            labels: ["instance": "secondary"], locality: "us-east1/us-east1-b", weight: 20))

        let details = entries[2]
        #expect(details.metadata.namespace == "bookinfo")
        #expect(details.spec.ports?.first?.targetPort == 8080)
        #expect(details.spec.workloadSelector?.labels == ["app": "details-legacy"])
        #expect(details.spec.subjectAltNames == ["spiffe://cluster.local/ns/bookinfo/sa/details-legacy"])
        #expect(details.spec.exportTo == ["."])

        #expect(entries[3].spec.endpoints?.first?.address == "unix:///var/run/example/socket")
        #expect(entries[4].spec.endpoints?.map(\.address) == ["us.foo.bar.com", "uk.foo.bar.com"])
        #expect(entries[4].spec.endpoints?[1].ports == ["https": 9443])

        let vm = try #require(result.all(WorkloadEntry.self).first)
        #expect(vm.metadata.name == "details-svc")
        #expect(vm.spec == .init(address: "2.2.2.2", ports: ["http": 8080],
            labels: ["app": "details-legacy", "instance-id": "vm1"], network: "vm-network",
            locality: "us-central1/us-central1-a/rack1", weight: 3, serviceAccount: "details-legacy"))
    }

    @Test func valuesBuiltInCodeValidate() {
        var context = ValidationContext()
        let vs = VirtualService(
            metadata: ObjectMeta(name: "reviews"),
            spec: .init(hosts: ["reviews"], http: [
                .init(route: [
                    .init(destination: .init(host: "reviews", subset: "v1"), weight: 3),
                    .init(destination: .init(host: "reviews", subset: "v2"), weight: 1),
                ])
            ]))
        vs.validate(into: &context)
        let dr = DestinationRule(metadata: ObjectMeta(name: "reviews"),
            spec: .init(host: "reviews", subsets: [.init(name: "v1", labels: ["version": "v1"])]))
        dr.validate(into: &context)
        let se = ServiceEntry(metadata: ObjectMeta(name: "ext"),
            spec: .init(hosts: ["api.example.com"], ports: [.init(number: 443, protocol: "TLS", name: "tls")],
                resolution: .DNS))
        se.validate(into: &context)
        WorkloadEntry(metadata: ObjectMeta(name: "vm"), spec: .init(address: "10.0.0.5")).validate(into: &context)
        #expect(context.findings.isEmpty, "\(context.findings)")
    }
}
