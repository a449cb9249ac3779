import Foundation
import Testing
@testable import MeshAPI

/// Broken Kubernetes manifests: each gives exactly one diagnostic, at the expected path,
/// line (the line of the case's text marked `#<`) and severity, with a message that says
/// what would be valid.
@Suite struct KubernetesBrokenManifestTests {
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

        var markedLine: Int? {
            yaml.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("#<") }.map { $0 + 1 }
        }
    }

    static func service(markSpec: Bool = false, _ spec: String) -> String {
        """
        apiVersion: v1
        kind: Service
        metadata:
          name: reviews
          namespace: bookinfo
        spec:\(markSpec ? "  #<" : "")

        """ + spec
    }

    static func pod(_ rest: String) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata:
          name: reviews-v1
          namespace: bookinfo

        """ + rest
    }

    static func slice(_ rest: String) -> String {
        """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: reviews-abcde
          namespace: bookinfo
          labels: {kubernetes.io/service-name: reviews}

        """ + rest
    }

    static let serviceCases: [Case] = [
        Case("port out of range", service("""
              ports:
              - port: 70000  #<
            """), path: "spec.ports[0].port", message: "port 70000 is out of range: use 1-65535"),
        Case("same port and protocol twice", service("""
              ports:
              - name: http
                port: 9080
              - name: http-alt  #<
                port: 9080
                protocol: TCP
            """), path: "spec.ports[1]", message: "each port and protocol pair must be unique"),
        Case("numeric targetPort out of range", service("""
              ports:
              - port: 80
                targetPort: 80800  #<
            """), path: "spec.ports[0].targetPort", message: "use 1-65535, or name a container port"),
        Case("named targetPort that is no port name", service("""
              ports:
              - port: 80
                targetPort: HTTP_web  #<
            """), path: "spec.ports[0].targetPort", message: "1-15 lowercase letters, digits and '-'"),
        Case("quoted number as targetPort (a port name to Kubernetes)", service("""
              ports:
              - port: 80
                targetPort: "8080"  #<
            """), path: "spec.ports[0].targetPort", message: "contain a letter"),
        Case("second port without a name", service("""
              ports:
              - name: http
                port: 9080
              - port: 9443  #<
            """), path: "spec.ports[1].name", message: "every port needs a name when a Service has more than one port"),
        Case("duplicate port names", service("""
              ports:
              - name: http
                port: 9080
              - name: http  #<
                port: 9443
            """), path: "spec.ports[1].name", message: "already used by spec.ports[0]"),
        Case("invalid appProtocol", service("""
              ports:
              - port: 80
                appProtocol: -http  #<
            """), path: "spec.ports[0].appProtocol", message: "appProtocol \"-http\" is invalid"),
        Case("protocol HTTP", service("""
              ports:
              - port: 80
                protocol: HTTP  #<
            """), path: "spec.ports[0].protocol", message: "use one of TCP, UDP, SCTP"),
        Case("targetPort of the wrong type", service("""
              ports:
              - port: 80
                targetPort: [8080]  #<
            """), path: "spec.ports[0].targetPort", message: "expected an integer (a port number such as 8080) or a string"),
        Case("no ports", service(markSpec: true, """
              selector:
                app: reviews
            """), path: "spec.ports", message: "a Service needs at least one port"),
        Case("cluster IP that is not an IP", service("""
              clusterIP: 10.96.0.300  #<
              ports:
              - port: 80
            """), path: "spec.clusterIP", message: "must be empty (allocate one), None (headless) or an IP address"),
        Case("ExternalName without a name", service(markSpec: true, """
              type: ExternalName
            """), path: "spec.externalName", message: "required for type ExternalName"),
        Case("nodePort on a ClusterIP Service", service("""
              ports:
              - port: 80
                nodePort: 30080  #<
            """), path: "spec.ports[0].nodePort", message: "use type NodePort or LoadBalancer"),
        Case("session affinity config without ClientIP", service("""
              ports:
              - port: 80
              sessionAffinityConfig:  #<
                clientIP: {timeoutSeconds: 60}
            """), path: "spec.sessionAffinityConfig", message: "only be set with sessionAffinity: ClientIP"),
        Case("externalTrafficPolicy on an internal Service", service("""
              externalTrafficPolicy: Local  #<
              ports:
              - port: 80
            """), path: "spec.externalTrafficPolicy", message: "only be set for externally-accessible Services"),
        Case("clusterIPs disagreeing with clusterIP", service("""
              clusterIP: 10.96.0.10
              clusterIPs:
              - 10.96.0.11  #<
              ports:
              - port: 80
            """), path: "spec.clusterIPs[0]", message: "must equal clusterIP \"10.96.0.10\""),
        Case("one IP family twice", service("""
              ipFamilies:
              - IPv4
              - IPv4  #<
              ipFamilyPolicy: RequireDualStack
              ports:
              - port: 80
            """), path: "spec.ipFamilies[1]", message: "use IPv4 and IPv6 once each"),
        Case("source ranges on a NodePort Service", service("""
              type: NodePort
              loadBalancerSourceRanges: [10.0.0.0/8]  #<
              ports:
              - port: 80
            """), path: "spec.loadBalancerSourceRanges", message: "only be used when type is LoadBalancer"),
        Case("health check port without externalTrafficPolicy Local", service("""
              type: LoadBalancer
              healthCheckNodePort: 31000  #<
              ports:
              - port: 80
            """), path: "spec.healthCheckNodePort", message: "externalTrafficPolicy: Local"),
        Case("ExternalName with a cluster IP", service("""
              type: ExternalName
              externalName: httpbin.org
              clusterIP: 10.96.0.10  #<
            """), path: "spec.clusterIP", message: "must be empty for ExternalName Services"),
        Case("ExternalName that is no DNS name", service("""
              type: ExternalName
              externalName: "https://httpbin.org"  #<
            """), path: "spec.externalName", message: "must be a lowercase DNS name"),
        Case("selector with an invalid label value", service("""
              ports:
              - port: 80
              selector:
                app: "reviews v1"  #<
            """), path: "spec.selector.app", message: "label value \"reviews v1\""),
        Case("node port outside the default range", service("""
              type: NodePort
              ports:
              - port: 80
                nodePort: 8080  #<
            """), path: "spec.ports[0].nodePort", .warning, message: "default node port range 30000-32767"),
        Case("Service name that starts with a digit", """
            apiVersion: v1
            kind: Service
            metadata:
              name: 9reviews  #<
            spec:
              ports:
              - port: 80
            """, path: "metadata.name", message: "must be an RFC 1035 label"),
        Case("unknown Service type", service("""
              type: Internal  #<
              ports:
              - port: 80
            """), path: "spec.type", message: "use one of ClusterIP, NodePort, LoadBalancer, ExternalName"),
        Case("use-waypoint that names nothing", """
            apiVersion: v1
            kind: Service
            metadata:
              name: reviews
              labels:
                istio.io/use-waypoint: Waypoint  #<
            spec:
              ports:
              - port: 80
            """, path: "metadata.labels.istio.io/use-waypoint", .warning, message: "use the waypoint Gateway's name"),
    ]

    static let podCases: [Case] = [
        Case("pod IP that is not an IP", pod("""
            spec:
              containers:
              - name: reviews
                image: docker.io/istio/examples-bookinfo-reviews-v1:1.20.3
            status:
              podIP: 10.244.1.700  #<
            """), path: "status.podIP", message: "is not an IP address"),
        Case("podIPs disagreeing with podIP", pod("""
            spec:
              containers:
              - name: reviews
                image: reviews
            status:
              podIP: 10.244.1.7
              podIPs:
              - ip: 10.244.1.8  #<
            """), path: "status.podIPs[0].ip", message: "must equal podIP \"10.244.1.7\""),
        Case("no containers", pod("""
            spec:
              containers: []  #<
            """), path: "spec.containers", message: "at least one container"),
        Case("no spec at all", """
            apiVersion: v1  #<
            kind: Pod
            metadata:
              name: reviews-v1
            """, path: "spec.containers", message: "a Pod needs spec.containers"),
        Case("container without an image", pod("""
            spec:
              containers:
              - name: reviews  #<
            """), path: "spec.containers[0].image", message: "required: the image the container runs"),
        Case("container port zero", pod("""
            spec:
              containers:
              - name: reviews
                image: reviews
                ports:
                - containerPort: 0  #<
            """), path: "spec.containers[0].ports[0].containerPort", message: "use 1-65535"),
        Case("two containers with one name", pod("""
            spec:
              initContainers:
              - name: app
                image: init
              containers:
              - name: app  #<
                image: reviews
            """), path: "spec.containers[0].name", message: "already used by spec.initContainers[0]"),
        Case("container port name too long", pod("""
            spec:
              containers:
              - name: reviews
                image: reviews
                ports:
                - containerPort: 9080
                  name: http-reviews-port  #<
            """), path: "spec.containers[0].ports[0].name", message: "1-15 lowercase letters"),
        Case("node name with capitals", pod("""
            spec:
              nodeName: Kind-Worker  #<
              containers:
              - name: reviews
                image: reviews
            """), path: "spec.nodeName", message: "node name \"Kind-Worker\""),
        Case("host port out of range", pod("""
            spec:
              containers:
              - name: reviews
                image: reviews
                ports:
                - containerPort: 9080
                  hostPort: 70000  #<
            """), path: "spec.containers[0].ports[0].hostPort", message: "use 1-65535 (or 0 for none)"),
        Case("unknown pod phase", pod("""
            spec:
              containers:
              - name: reviews
                image: reviews
            status:
              phase: Started  #<
            """), path: "status.phase", message: "use one of Pending, Running, Succeeded, Failed, Unknown"),
        Case("dataplane mode in capitals", """
            apiVersion: v1
            kind: Pod
            metadata:
              name: reviews-v1
              labels:
                istio.io/dataplane-mode: Ambient  #<
            spec:
              containers:
              - name: reviews
                image: reviews
            """, path: "metadata.labels.istio.io/dataplane-mode", .warning, message: "use \"ambient\""),
    ]

    static let otherCases: [Case] = [
        Case("deprecated addressType IP", slice("""
            addressType: IP  #<
            endpoints: []
            """), path: "addressType", message: "use one of IPv4, IPv6, FQDN"),
        Case("IPv6 address in an IPv4 slice", slice("""
            addressType: IPv4
            endpoints:
            - addresses:
              - "fd00:10:244::7"  #<
            """), path: "endpoints[0].addresses[0]", message: "put it in a slice with addressType IPv6"),
        Case("IPv4 address in an IPv6 slice", slice("""
            addressType: IPv6
            endpoints:
            - addresses: [10.244.1.7]  #<
            """), path: "endpoints[0].addresses[0]", message: "put it in a slice with addressType IPv4"),
        Case("FQDN that is no domain", slice("""
            addressType: FQDN
            endpoints:
            - addresses:
              - reviews_v1  #<
            """), path: "endpoints[0].addresses[0]", message: "is not a fully qualified domain name"),
        Case("endpoint without addresses", slice("""
            addressType: IPv4
            endpoints:
            - addresses: []  #<
            """), path: "endpoints[0].addresses", message: "at least one address"),
        Case("duplicate slice port names", slice("""
            addressType: IPv4
            endpoints: []
            ports:
            - {name: http, port: 9080}
            - {name: http, port: 9443}  #<
            """), path: "ports[1].name", message: "already used by ports[0]"),
        Case("endpoint hostname with a dot", slice("""
            addressType: IPv4
            endpoints:
            - addresses: [10.244.1.7]
              hostname: reviews.v1  #<
            """), path: "endpoints[0].hostname", message: "must be a lowercase RFC 1123 label"),
        Case("slice port out of range", slice("""
            addressType: IPv4
            endpoints: []
            ports:
            - name: http
              port: 0  #<
            """), path: "ports[0].port", .warning, message: "no endpoint can listen there"),
        Case("slice appProtocol with two slashes", slice("""
            addressType: IPv4
            endpoints: []
            ports:
            - name: http
              port: 9080
              appProtocol: a/b/c  #<
            """), path: "ports[0].appProtocol", message: "appProtocol \"a/b/c\" is invalid"),
        Case("namespace name with a dot", """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: book.info  #<
            """, path: "metadata.name", message: "must be a lowercase RFC 1123 label"),
        Case("namespace dataplane mode unknown", """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: bookinfo
              labels:
                istio.io/dataplane-mode: sidecar  #<
            """, path: "metadata.labels.istio.io/dataplane-mode", .warning, message: "or \"none\" to opt out"),
    ]

    static func check(_ c: Case) {
        #expect(c.markedLine != nil, "case \(c.name) has no #< marker")
        let result = ManifestLoader(options: .init(strict: true)).load(text: c.yaml, file: "broken.yaml")
        #expect(result.diagnostics.count == 1, "\(result.diagnostics.map(\.description))")
        guard let d = result.diagnostics.first else { return }
        #expect(d.path == c.path)
        #expect(d.line == c.markedLine, "\(d)")
        #expect(d.severity == c.severity)
        #expect(d.message.contains(c.message), "\(d.message)")
        #expect(result.resources.count == (c.severity == .error ? 0 : 1))
    }

    @Test(arguments: serviceCases) func brokenService(_ c: Case) { Self.check(c) }

    @Test(arguments: podCases) func brokenPod(_ c: Case) { Self.check(c) }

    @Test(arguments: otherCases) func brokenEndpointSliceAndNamespace(_ c: Case) { Self.check(c) }

    @Test func manyFindingsInOneService() {
        let result = ManifestLoader().load(text: Self.service("""
              type: LoadBalancer
              clusterIP: None
              ports:
              - name: http
                port: 0
                nodePort: 20000
              - name: Http
                port: 80
            """))
        #expect(result.diagnostics.map(\.path) == [
            "spec.clusterIP", "spec.ports[0].port", "spec.ports[0].nodePort", "spec.ports[1].name",
        ])
        #expect(result.diagnostics.map(\.severity) == [.error, .error, .warning, .error])
        #expect(result.resources.isEmpty)
    }
}
