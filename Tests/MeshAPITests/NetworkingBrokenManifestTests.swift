import Testing

@testable import MeshAPI

/// Broken traffic manifests: each must produce a diagnostic at the exact path and line, with
/// the expected severity and a message saying what is wrong.
///
/// In each manifest the expected line is the one marked with `# <-`.
@Suite struct NetworkingBrokenManifestTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var yaml: String
        var path: String
        var message: String
        var severity: Diagnostic.Severity = .error
        var strict = false
        /// The expected line when it cannot be marked (a missing field reported at `spec:`, line 6).
        var line: Int? = nil
        var testDescription: String { name }
    }

    static func vs(_ body: String, name: String = "vs") -> String {
        """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: \(name)
          namespace: default
        spec:
        \(body)
        """
    }

    static func dr(_ body: String) -> String {
        """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata:
          name: dr
          namespace: default
        spec:
        \(body)
        """
    }

    static func se(_ body: String) -> String {
        """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata:
          name: se
          namespace: default
        spec:
        \(body)
        """
    }

    static func we(_ body: String) -> String {
        """
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata:
          name: vm
          namespace: default
        spec:
        \(body)
        """
    }

    static let cases: [Case] = [
        // MARK: VirtualService
        Case(name: "negative weight", yaml: vs("""
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews, subset: v1}
                  weight: 110
                - destination: {host: reviews, subset: v2}
                  weight: -10  # <-
            """), path: "spec.http[0].route[1].weight", message: "weight -10 is negative"),
        Case(name: "weights adding up to zero", yaml: vs("""
              hosts: [reviews]
              http:
              - route:  # <-
                - destination: {host: reviews, subset: v1}
                  weight: 0
                - destination: {host: reviews, subset: v2}
            """), path: "spec.http[0].route", message: "add up to 0"),
        Case(name: "invalid host", yaml: vs("""
              hosts:
              - reviews
              - reviews_v2.default  # <-
              http:
              - route:
                - destination: {host: reviews}
            """), path: "spec.hosts[1]", message: "label \"reviews_v2\" must be"),
        Case(name: "wildcard host on the mesh", yaml: vs("""
              hosts:
              - "*"  # <-
              http:
              - route:
                - destination: {host: reviews}
            """), path: "spec.hosts[0]", message: "wildcard host * is not allowed"),
        Case(name: "duplicate hosts", yaml: vs("""
              hosts:
              - "*.example.com"
              - api.example.com  # <-
              http:
              - route:
                - destination: {host: reviews}
            """), path: "spec.hosts[1]", message: "duplicate host"),
        Case(name: "invalid destination host", yaml: vs("""
              hosts: [reviews]
              http:
              - route:
                - destination:
                    host: reviews..default  # <-
            """), path: "spec.http[0].route[0].destination.host", message: "not a valid DNS name"),
        Case(name: "missing destination host", yaml: vs("""
              hosts: [reviews]
              http:
              - route:
                - destination:
                    subset: v1  # <-
            """), path: "spec.http[0].route[0].destination.host", message: "required field is missing"),
        Case(name: "no routes at all", yaml: vs("""
              hosts: [reviews]
            """), path: "spec.http", message: "needs at least one route", line: 6),
        Case(name: "http rule without action", yaml: vs("""
              hosts: [reviews]
              http:
              - match:  # <-
                - uri: {prefix: /api}
                timeout: 5s
            """), path: "spec.http[0].route", message: "needs an action"),
        Case(name: "redirect together with route", yaml: vs("""
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews}
                redirect:  # <-
                  uri: /v2
            """), path: "spec.http[0].redirect", message: "both route and redirect"),
        Case(name: "delegate VirtualService with gateways", yaml: vs("""
              gateways:  # <-
              - bookinfo-gateway
              http:
              - route:
                - destination: {host: reviews}
            """), path: "spec.gateways", message: "delegate VirtualService"),
        Case(name: "delegate inside a delegate", yaml: vs("""
              http:
              - delegate:  # <-
                  name: other
            """), path: "spec.http[0].delegate", message: "one level deep"),
        Case(name: "destination port out of range", yaml: vs("""
              hosts: [reviews]
              http:
              - route:
                - destination:
                    host: reviews
                    port:
                      number: 70000  # <-
            """), path: "spec.http[0].route[0].destination.port.number", message: "1..65535"),
        Case(name: "match port out of range", yaml: vs("""
              hosts: [reviews]
              http:
              - match:
                - port: 65536  # <-
                route:
                - destination: {host: reviews}
            """), path: "spec.http[0].match[0].port", message: "1..65535"),
        Case(name: "negative port does not decode", yaml: vs("""
              hosts: [reviews]
              http:
              - match:
                - port: -1  # <-
                route:
                - destination: {host: reviews}
            """), path: "spec.http[0].match[0].port", message: "out of range"),
        Case(name: "malformed timeout", yaml: vs("""
              hosts: [reviews]
              http:
              - timeout: 10 seconds  # <-
                route:
                - destination: {host: reviews}
            """), path: "spec.http[0].timeout", message: "not a valid duration"),
        Case(name: "zero timeout", yaml: vs("""
              hosts: [reviews]
              http:
              - timeout: 0s  # <-
                route:
                - destination: {host: reviews}
            """), path: "spec.http[0].timeout", message: "at least 1ms"),
        Case(name: "sub-millisecond timeout", yaml: vs("""
              hosts: [reviews]
              http:
              - timeout: 500us  # <-
                route:
                - destination: {host: reviews}
            """), path: "spec.http[0].timeout", message: "at least 1ms"),
        Case(name: "malformed perTryTimeout", yaml: vs("""
              hosts: [reviews]
              http:
              - retries:
                  attempts: 3
                  perTryTimeout: 2x  # <-
                route:
                - destination: {host: reviews}
            """), path: "spec.http[0].retries.perTryTimeout", message: "not a valid duration"),
        Case(name: "fixedDelay finer than a millisecond", yaml: vs("""
              hosts: [ratings]
              http:
              - fault:
                  delay:
                    fixedDelay: 1.5ms  # <-
                    percentage: {value: 100}
                route:
                - destination: {host: ratings}
            """), path: "spec.http[0].fault.delay.fixedDelay", message: "whole milliseconds"),
        Case(name: "abort status outside HTTP range", yaml: vs("""
              hosts: [ratings]
              http:
              - fault:
                  abort:
                    httpStatus: 700  # <-
                    percentage: {value: 100}
                route:
                - destination: {host: ratings}
            """), path: "spec.http[0].fault.abort.httpStatus", message: "not in range 200-599"),
        Case(name: "fault percentage above 100", yaml: vs("""
              hosts: [ratings]
              http:
              - fault:
                  delay:
                    fixedDelay: 5s
                    percentage:
                      value: 150  # <-
                route:
                - destination: {host: ratings}
            """), path: "spec.http[0].fault.delay.percentage.value", message: "out of range"),
        Case(name: "abort without percentage aborts nothing", yaml: vs("""
              hosts: [ratings]
              http:
              - fault:
                  abort:  # <-
                    httpStatus: 503
                route:
                - destination: {host: ratings}
            """), path: "spec.http[0].fault.abort", message: "no request is aborted", severity: .warning),
        Case(name: "unknown gRPC status", yaml: vs("""
              hosts: [ratings]
              http:
              - fault:
                  abort:
                    grpcStatus: TEAPOT  # <-
                    percentage: {value: 1}
                route:
                - destination: {host: ratings}
            """), path: "spec.http[0].fault.abort.grpcStatus", message: "UNAVAILABLE"),
        Case(name: "uri regex that does not compile", yaml: vs("""
              hosts: [reviews]
              http:
              - match:
                - uri:
                    regex: /api/(v1|v2  # <-
                route:
                - destination: {host: reviews}
            """), path: "spec.http[0].match[0].uri.regex", message: "does not compile"),
        Case(name: "header regex with look-ahead", yaml: vs("""
              hosts: [reviews]
              http:
              - match:
                - headers:
                    end-user:
                      regex: "(?=admin).*"  # <-
                route:
                - destination: {host: reviews}
            """), path: "spec.http[0].match[0].headers.end-user.regex", message: "RE2"),
        Case(name: "possessive quantifier is not RE2", yaml: vs("""
              hosts: [reviews]
              http:
              - match:
                - uri:
                    regex: "/a++"  # <-
                route:
                - destination: {host: reviews}
            """), path: "spec.http[0].match[0].uri.regex", message: "nested repetition"),
        Case(name: "string match with two kinds", yaml: vs("""
              hosts: [reviews]
              http:
              - match:
                - uri:
                    exact: /api
                    prefix: /api/  # <-
                route:
                - destination: {host: reviews}
            """), path: "spec.http[0].match[0].uri.prefix", message: "exactly one of exact, prefix or regex"),
        Case(name: "empty uri match", yaml: vs("""
              hosts: [reviews]
              http:
              - match:
                - uri: {}  # <-
                route:
                - destination: {host: reviews}
            """), path: "spec.http[0].match[0].uri", message: "matches every request", severity: .warning),
        Case(name: "empty header prefix", yaml: vs("""
              hosts: [reviews]
              http:
              - match:
                - headers:
                    x-version:
                      prefix: ""  # <-
                route:
                - destination: {host: reviews}
            """), path: "spec.http[0].match[0].headers.x-version.prefix", message: "must not be empty"),
        Case(name: "negative retry attempts", yaml: vs("""
              hosts: [reviews]
              http:
              - retries:
                  attempts: -1  # <-
                route:
                - destination: {host: reviews}
            """), path: "spec.http[0].retries.attempts", message: "negative"),
        Case(name: "retryOn without attempts", yaml: vs("""
              hosts: [reviews]
              http:
              - retries:
                  retryOn: 5xx  # <-
                route:
                - destination: {host: reviews}
            """), path: "spec.http[0].retries.retryOn", message: "set attempts"),
        Case(name: "retryOn with spaces", yaml: vs("""
              hosts: [reviews]
              http:
              - retries:
                  attempts: 2
                  retryOn: 5xx, reset  # <-
                route:
                - destination: {host: reviews}
            """), path: "spec.http[0].retries.retryOn", message: "\" reset\" is not a valid retryOn policy"),
        Case(name: "mirrorPercentage out of range", yaml: vs("""
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews}
                mirror: {host: reviews-shadow}
                mirrorPercentage:
                  value: 120  # <-
            """), path: "spec.http[0].mirrorPercentage.value", message: "from 0 to 100"),
        Case(name: "mirror together with mirrors", yaml: vs("""
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews}
                mirror: {host: a}
                mirrors:  # <-
                - destination: {host: b}
            """), path: "spec.http[0].mirrors", message: "both mirror and mirrors"),
        Case(name: "redirect code not 3xx", yaml: vs("""
              hosts: [reviews]
              http:
              - redirect:
                  uri: /v2
                  redirectCode: 200  # <-
            """), path: "spec.http[0].redirect.redirectCode", message: "3xx"),
        Case(name: "unknown derivePort", yaml: vs("""
              hosts: [reviews]
              http:
              - redirect:
                  derivePort: FROM_NOWHERE  # <-
            """), path: "spec.http[0].redirect.derivePort", message: "use one of FROM_PROTOCOL_DEFAULT, FROM_REQUEST_PORT"),
        Case(name: "rewrite uri with uriRegexRewrite", yaml: vs("""
              hosts: [reviews]
              http:
              - rewrite:
                  uri: /v2
                  uriRegexRewrite:  # <-
                    match: ^/v1/(.*)
                    rewrite: /v2/\\1
                route:
                - destination: {host: reviews}
            """), path: "spec.http[0].rewrite.uriRegexRewrite", message: "both uri and uriRegexRewrite"),
        Case(name: "setting a pseudo-header", yaml: vs("""
              hosts: [reviews]
              http:
              - headers:
                  request:
                    set:
                      ":path": /other  # <-
                route:
                - destination: {host: reviews}
            """), path: "spec.http[0].headers.request.set.:path", message: "reserved"),
        Case(name: "unsupported CORS method", yaml: vs("""
              hosts: [reviews]
              http:
              - corsPolicy:
                  allowOrigins:
                  - exact: https://example.com
                  allowMethods:
                  - GET
                  - fetch  # <-
                route:
                - destination: {host: reviews}
            """), path: "spec.http[0].corsPolicy.allowMethods[1]", message: "not a supported HTTP method"),
        Case(name: "exportTo to no one", yaml: vs("""
              hosts: [reviews]
              exportTo:
              - "~"  # <-
              http:
              - route:
                - destination: {host: reviews}
            """), path: "spec.exportTo[0]", message: "only for ServiceEntry"),
        Case(name: "tcp destination subnet", yaml: vs("""
              hosts: [mongo]
              tcp:
              - match:
                - destinationSubnets:
                  - 10.0.0.0/33  # <-
                route:
                - destination: {host: mongo}
            """), path: "spec.tcp[0].match[0].destinationSubnets[0]", message: "not a valid CIDR"),
        Case(name: "SNI host not covered by hosts", yaml: vs("""
              hosts: ["*.bookinfo.com"]
              gateways: [istio-system/passthrough]
              tls:
              - match:
                - sniHosts:
                  - login.example.com  # <-
                route:
                - destination: {host: login}
            """), path: "spec.tls[0].match[0].sniHosts[0]", message: "not covered"),
        Case(name: "rule after a catch-all is unreachable", yaml: vs("""
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews, subset: v1}
              - match:  # <-
                - uri: {prefix: /v2}
                route:
                - destination: {host: reviews, subset: v2}
            """), path: "spec.http[1]", message: "never used", severity: .warning),
        Case(name: "misspelled field in strict mode", yaml: vs("""
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews}
                  weigth: 100  # <-
            """), path: "spec.http[0].route[0].weigth", message: "unknown field \"weigth\"", strict: true),

        // MARK: DestinationRule
        Case(name: "DestinationRule without host", yaml: dr("""
              subsets:  # <-
              - name: v1
            """), path: "spec.host", message: "required field is missing"),
        Case(name: "invalid DestinationRule host", yaml: dr("""
              host: -reviews  # <-
            """), path: "spec.host", message: "not a valid DNS name"),
        Case(name: "duplicate subset names", yaml: dr("""
              host: reviews
              subsets:
              - name: v1
                labels: {version: v1}
              - name: v1  # <-
                labels: {version: v2}
            """), path: "spec.subsets[1].name", message: "duplicate subset name"),
        Case(name: "subset without name", yaml: dr("""
              host: reviews
              subsets:
              - labels: {version: v1}  # <-
            """), path: "spec.subsets[0].name", message: "required field is missing"),
        Case(name: "invalid subset name", yaml: dr("""
              host: reviews
              subsets:
              - name: V1.0  # <-
            """), path: "spec.subsets[0].name", message: "RFC 1123 label"),
        Case(name: "unknown load balancer", yaml: dr("""
              host: reviews
              trafficPolicy:
                loadBalancer:
                  simple: FASTEST  # <-
            """), path: "spec.trafficPolicy.loadBalancer.simple", message: "use one of UNSPECIFIED, LEAST_CONN"),
        Case(name: "empty traffic policy", yaml: dr("""
              host: reviews
              trafficPolicy: {}  # <-
            """), path: "spec.trafficPolicy", message: "at least one of"),
        Case(name: "malformed baseEjectionTime", yaml: dr("""
              host: reviews
              trafficPolicy:
                outlierDetection:
                  consecutive5xxErrors: 5
                  baseEjectionTime: thirty seconds  # <-
            """), path: "spec.trafficPolicy.outlierDetection.baseEjectionTime", message: "not a valid duration"),
        Case(name: "outlier interval too short", yaml: dr("""
              host: reviews
              trafficPolicy:
                outlierDetection:
                  interval: 100us  # <-
            """), path: "spec.trafficPolicy.outlierDetection.interval", message: "at least 1ms"),
        Case(name: "maxEjectionPercent above 100", yaml: dr("""
              host: reviews
              trafficPolicy:
                outlierDetection:
                  maxEjectionPercent: 150  # <-
            """), path: "spec.trafficPolicy.outlierDetection.maxEjectionPercent", message: "0..100"),
        Case(name: "mutual TLS without certificates", yaml: dr("""
              host: reviews
              trafficPolicy:
                tls:  # <-
                  mode: MUTUAL
            """), path: "spec.trafficPolicy.tls.clientCertificate", message: "needs clientCertificate"),
        Case(name: "maglev table size not prime", yaml: dr("""
              host: reviews
              trafficPolicy:
                loadBalancer:
                  consistentHash:
                    useSourceIp: true
                    maglev:
                      tableSize: 1000  # <-
            """), path: "spec.trafficPolicy.loadBalancer.consistentHash.maglev.tableSize", message: "prime"),
        Case(name: "port-level policy port out of range", yaml: dr("""
              host: reviews
              trafficPolicy:
                portLevelSettings:
                - port:
                    number: 0  # <-
                  tls: {mode: ISTIO_MUTUAL}
            """), path: "spec.trafficPolicy.portLevelSettings[0].port.number", message: "1..65535"),
        Case(name: "locality weights not adding up to 100", yaml: dr("""
              host: reviews
              trafficPolicy:
                loadBalancer:
                  localityLbSetting:
                    distribute:
                    - from: us-west/*
                      to:  # <-
                        us-west/*: 60
                        us-east/*: 30
            """), path: "spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to", message: "add up to 90"),
        Case(name: "workload selector exported everywhere", yaml: dr("""
              host: reviews
              workloadSelector:
                matchLabels: {app: web}
              exportTo:  # <-
              - "*"
            """), path: "spec.exportTo", message: "cannot be exported beyond its own namespace"),

        // MARK: ServiceEntry
        Case(name: "ServiceEntry without hosts", yaml: se("""
              hosts: []  # <-
              ports:
              - {number: 443, name: https, protocol: TLS}
              resolution: DNS
            """), path: "spec.hosts", message: "at least one host"),
        Case(name: "ServiceEntry with hosts missing", yaml: se("""
              ports:  # <-
              - {number: 443, name: https, protocol: TLS}
            """), path: "spec.hosts", message: "required field is missing"),
        Case(name: "ServiceEntry wildcard host", yaml: se("""
              hosts:
              - "*"  # <-
              resolution: NONE
            """), path: "spec.hosts[0]", message: "not allowed in a ServiceEntry"),
        Case(name: "duplicate port numbers", yaml: se("""
              hosts: [api.example.com]
              resolution: DNS
              ports:
              - number: 443
                name: https
                protocol: TLS
              - number: 443  # <-
                name: grpc
                protocol: TLS
            """), path: "spec.ports[1].number", message: "already defined"),
        Case(name: "port zero", yaml: se("""
              hosts: [api.example.com]
              resolution: DNS
              ports:
              - number: 0  # <-
                name: http
                protocol: HTTP
            """), path: "spec.ports[0].number", message: "1..65535"),
        Case(name: "unknown protocol", yaml: se("""
              hosts: [api.example.com]
              resolution: DNS
              ports:
              - number: 443
                name: h3
                protocol: QUIC  # <-
            """), path: "spec.ports[0].protocol", message: "unsupported protocol"),
        Case(name: "resolution NONE with endpoints", yaml: se("""
              hosts: [db.internal]
              addresses: [10.0.0.10]
              ports:
              - {number: 5432, name: tcp-postgres, protocol: TCP}
              resolution: NONE
              endpoints:  # <-
              - address: 10.0.0.11
            """), path: "spec.endpoints", message: "cannot have endpoints"),
        Case(name: "STATIC endpoint with a host name", yaml: se("""
              hosts: [db.internal]
              addresses: [10.0.0.10]
              ports:
              - {number: 5432, name: tcp-postgres, protocol: TCP}
              resolution: STATIC
              endpoints:
              - address: db1.internal  # <-
            """), path: "spec.endpoints[0].address", message: "STATIC resolution needs IPs"),
        Case(name: "endpoints with workloadSelector", yaml: se("""
              hosts: [db.internal]
              ports:
              - {number: 80, name: http, protocol: HTTP}
              resolution: STATIC
              workloadSelector:  # <-
                labels: {app: db}
              endpoints:
              - address: 10.0.0.11
            """), path: "spec.workloadSelector", message: "only one of endpoints and workloadSelector"),
        Case(name: "DNS_ROUND_ROBIN with two endpoints", yaml: se("""
              hosts: [api.example.com]
              ports:
              - {number: 443, name: https, protocol: TLS}
              resolution: DNS_ROUND_ROBIN
              endpoints:  # <-
              - address: a.example.com
              - address: b.example.com
            """), path: "spec.endpoints", message: "at most 1 endpoint"),
        Case(name: "CIDR address with DNS resolution", yaml: se("""
              hosts: [api.example.com]
              addresses: [10.0.0.0/24]
              ports:
              - {number: 443, name: https, protocol: TLS}
              resolution: DNS  # <-
            """), path: "spec.resolution", message: "only with resolution NONE or STATIC"),
        Case(name: "endpoint port not defined by the service", yaml: se("""
              hosts: [api.example.com]
              ports:
              - {number: 443, name: https, protocol: TLS}
              resolution: DNS
              endpoints:
              - address: a.example.com
                ports:
                  http: 8080  # <-
            """), path: "spec.endpoints[0].ports.http", message: "not defined by the ServiceEntry's ports"),
        Case(name: "unknown resolution", yaml: se("""
              hosts: [api.example.com]
              resolution: MAGIC  # <-
            """), path: "spec.resolution", message: "use one of NONE, STATIC, DNS, DNS_ROUND_ROBIN, DYNAMIC_DNS"),

        // MARK: WorkloadEntry
        Case(name: "invalid WorkloadEntry address", yaml: we("""
              address: 10.0.0.300  # <-
            """), path: "spec.address", message: "not a valid IP address or DNS name"),
        Case(name: "WorkloadEntry without address or network", yaml: we("""
              labels: {app: vm}
            """), path: "spec.address", message: "address is required", line: 6),
        Case(name: "unix socket with ports", yaml: we("""
              address: unix:///var/run/app.sock
              ports:  # <-
                http: 8080
            """), path: "spec.ports", message: "must not include ports"),
        Case(name: "relative unix socket path", yaml: we("""
              address: unix://var/run/app.sock  # <-
            """), path: "spec.address", message: "absolute path"),
        Case(name: "WorkloadEntry port out of range", yaml: we("""
              address: 10.0.0.5
              ports:
                http: 70000  # <-
            """), path: "spec.ports.http", message: "1..65535"),
    ]

    @Test(arguments: cases)
    func brokenManifest(_ testCase: Case) throws {
        let result = ManifestLoader(options: .init(strict: testCase.strict)).load(text: testCase.yaml, file: "broken.yaml")
        let lines = testCase.yaml.split(separator: "\n", omittingEmptySubsequences: false)
        let marked = lines.firstIndex { $0.contains("# <-") }.map { $0 + 1 }
        let expectedLine = try #require(testCase.line ?? marked)
        let matching = result.diagnostics.filter { $0.path == testCase.path && $0.message.contains(testCase.message) }
        #expect(matching.count == 1, "expected one diagnostic at \(testCase.path) containing \"\(testCase.message)\"; got \(result.diagnostics)")
        guard let diagnostic = matching.first else { return }
        #expect(diagnostic.line == expectedLine, "\(diagnostic)")
        #expect(diagnostic.severity == testCase.severity, "\(diagnostic)")
        #expect(diagnostic.file == "broken.yaml")
        if testCase.severity == .error {
            #expect(result.resources.isEmpty, "a resource with an error must be left out")
        }
    }

    @Test func delegateWithoutHostsIsValid() {
        let result = ManifestLoader(options: .init(strict: true)).load(text: Self.vs("""
              http:
              - match:
                - uri: {prefix: /reviews}
                route:
                - destination: {host: reviews}
            """))
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(result.all(VirtualService.self).count == 1)
    }

    @Test func staticServiceEntryWithoutEndpointsIsValid() {
        // Istio accepts STATIC without endpoints (endpoints may come from WorkloadEntries).
        let result = ManifestLoader(options: .init(strict: true)).load(text: Self.se("""
              hosts: [db.internal]
              addresses: [10.0.0.10]
              ports:
              - {number: 5432, name: tcp-postgres, protocol: TCP}
              resolution: STATIC
            """))
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
    }

    @Test func relativeWeightsNeedNotAddUpTo100() {
        let result = ManifestLoader(options: .init(strict: true)).load(text: Self.vs("""
              hosts: [reviews]
              http:
              - route:
                - destination: {host: reviews, subset: v1}
                  weight: 3
                - destination: {host: reviews, subset: v2}
                  weight: 0
                - destination: {host: reviews, subset: v3}
                  weight: 1
            """))
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
    }

    @Test func re2Syntax() {
        let valid = ["^/api/v[0-9]+/.*$", "(?i)admin", "(?P<id>[a-z]+)", "a*?b", "x{2,5}", "[[:alpha:]]+", "\\d+\\.\\d+",
            "\\Qa.b\\E", "(?U)a+", "\\p{Greek}"]
        for pattern in valid {
            #expect(NetworkingRules.re2Problem(pattern) == nil, "\(pattern): \(NetworkingRules.re2Problem(pattern) ?? "")")
        }
        let invalid = ["(?=a)", "(?<!a)b", "(a)\\1", "a++", "a**", "(?>a)", "a{1001}", "*a", "\\Z", "(", "[a-", "a{3,2}"]
        for pattern in invalid {
            #expect(NetworkingRules.re2Problem(pattern) != nil, "\(pattern) should be rejected")
        }
        #expect(NetworkingRules.re2Problem(String(repeating: "a", count: 1025)) != nil)
    }

    @Test func durations() {
        func errors(_ text: String, zero: Bool = false) -> Int {
            var context = ValidationContext()
            NetworkingRules.checkDuration(text, at: "spec.x", into: &context, zeroDisables: zero)
            return context.findings.count
        }
        for ok in ["1ms", "10s", "1h30m", "1.5s", "0.001s", "2562047h"] { #expect(errors(ok) == 0, "\(ok)") }
        for bad in ["", "10", "5 s", "1.5ms", "0s", "-1s", "999us", "1d", "99999999999999999h"] {
            #expect(errors(bad) == 1, "\(bad)")
        }
        #expect(errors("0s", zero: true) == 0)
    }

    @Test func headerValues() {
        for ok in ["plain", "%DOWNSTREAM_REMOTE_ADDRESS%", "100%%", "a %START_TIME(%s)% b", "%REQ([\"x-a\"])%"] {
            #expect(NetworkingRules.headerValueProblem(ok) == nil, "\(ok)")
        }
        for bad in ["50%", "abc%123", "%START_TIME", "a\u{01}b"] {
            #expect(NetworkingRules.headerValueProblem(bad) != nil, "\(bad)")
        }
    }

    @Test func hostNames() {
        for ok in ["reviews", "reviews.default.svc.cluster.local", "*.example.com", "*", "*bar.com", "*-foo.example.com",
            "Example.COM", "istio.io."]
        {
            #expect(NetworkingRules.wildcardDomainProblem(ok) == nil, "\(ok)")
        }
        for bad in ["", "a..b", "-a.com", "foo.*.com", "example.123", "a_b.com", String(repeating: "a", count: 64)] {
            #expect(NetworkingRules.wildcardDomainProblem(bad) != nil, "\(bad)")
        }
    }

    /// Nothing crashes on hostile input.
    @Test func hostileInputDoesNotCrash() {
        let yaml = Self.vs("""
              hosts: ["\(String(repeating: "a.", count: 200))com", "*"]
              http:
              - route:
                - destination: {host: "", port: {number: 4294967295}}
                  weight: 2147483647
                - destination: {host: x}
                  weight: 2147483647
                timeout: 99999999999999999999999h
                retries: {attempts: 2147483647, retryOn: ",,,"}
                match:
                - uri: {regex: "((((((((((a"}
                  headers: {"": {}}
                fault:
                  delay: {percentage: {value: .nan}, fixedDelay: "-9223372036854775808ns"}
                  abort: {httpStatus: -2147483648, percentage: {value: .inf}}
            """)
        let result = ManifestLoader().load(text: yaml)
        #expect(result.hasErrors)
    }
}
