import Foundation
import Testing
@testable import MeshAPI

/// Real Kubernetes objects as `kubectl get -o yaml` prints them for Istio's bookinfo sample in
/// an ambient namespace: they load with no diagnostics at all in strict mode, and the fields
/// and conveniences the mesh reads come out right.
@Suite struct KubernetesManifestTests {
    let strict = ManifestLoader(options: .init(strict: true))

    func loadClean(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> LoadResult {
        let result = strict.load(text: text, file: "cluster.yaml")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.description))", sourceLocation: sourceLocation)
        return result
    }

    static let namespaceAndAccount = """
        apiVersion: v1
        kind: Namespace
        metadata:
          creationTimestamp: "2025-01-14T10:02:11Z"
          labels:
            istio.io/dataplane-mode: ambient
            istio.io/use-waypoint: waypoint
            kubernetes.io/metadata.name: bookinfo
            topology.istio.io/network: network1
          name: bookinfo
          resourceVersion: "1187"
          uid: 5b0f3c1e-0d0e-4f59-9d7e-5cc1c0a0e7a1
        spec:
          finalizers:
          - kubernetes
        status:
          phase: Active
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata:
          name: bookinfo-reviews
          namespace: bookinfo
          labels:
            account: reviews
        automountServiceAccountToken: false
        imagePullSecrets:
        - name: regcred
        secrets:
        - name: bookinfo-reviews-token
        """

    @Test func namespaceAndServiceAccount() throws {
        let result = loadClean(Self.namespaceAndAccount)
        let namespace = try #require(result.all(Namespace.self).first)
        #expect(namespace.isAmbient)
        #expect(namespace.dataplaneMode == .ambient)
        #expect(namespace.useWaypoint == .waypoint(name: "waypoint", namespace: "bookinfo"))
        #expect(namespace.network == "network1")
        #expect(namespace.spec?.finalizers == ["kubernetes"])
        #expect(namespace.status?.phase == "Active")
        let account = try #require(result.all(ServiceAccount.self).first)
        #expect(account.metadata.name == "bookinfo-reviews")
        #expect(account.automountServiceAccountToken == false)
        #expect(account.imagePullSecrets == [Kubernetes.LocalObjectReference(name: "regcred")])
        #expect(account.secrets == [Kubernetes.ObjectReference(name: "bookinfo-reviews-token")])
    }

    @Test func servicesAsTheClusterStoresThem() throws {
        let result = loadClean("""
            apiVersion: v1
            kind: Service
            metadata:
              labels:
                app: reviews
                service: reviews
                istio.io/use-waypoint: reviews-waypoint
                istio.io/use-waypoint-namespace: waypoints
              name: reviews
              namespace: bookinfo
            spec:
              clusterIP: 10.96.145.21
              clusterIPs:
              - 10.96.145.21
              internalTrafficPolicy: Cluster
              ipFamilies:
              - IPv4
              ipFamilyPolicy: SingleStack
              ports:
              - name: http
                port: 9080
                protocol: TCP
                targetPort: 9080
              selector:
                app: reviews
              sessionAffinity: None
              type: ClusterIP
            status:
              loadBalancer: {}
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: istio-ingressgateway
              namespace: istio-system
              annotations:
                service.beta.kubernetes.io/aws-load-balancer-type: nlb
            spec:
              allocateLoadBalancerNodePorts: true
              clusterIP: 10.96.20.4
              clusterIPs: [10.96.20.4, "fd00:10:96::2a"]
              externalTrafficPolicy: Local
              healthCheckNodePort: 31874
              ipFamilies: [IPv4, IPv6]
              ipFamilyPolicy: PreferDualStack
              loadBalancerSourceRanges: [10.0.0.0/8]
              ports:
              - name: status-port
                nodePort: 30621
                port: 15021
                protocol: TCP
                targetPort: 15021
              - name: http2
                nodePort: 31080
                port: 80
                protocol: TCP
                targetPort: 8080
                appProtocol: http2
              - name: https
                nodePort: 31443
                port: 443
                protocol: TCP
                targetPort: https-gw
                appProtocol: kubernetes.io/h2c
              selector:
                app: istio-ingressgateway
                istio: ingressgateway
              sessionAffinity: ClientIP
              sessionAffinityConfig:
                clientIP:
                  timeoutSeconds: 10800
              type: LoadBalancer
              trafficDistribution: PreferClose
            status:
              loadBalancer:
                ingress:
                - ip: 203.0.113.10
                  ipMode: VIP
                  ports:
                  - port: 80
                    protocol: TCP
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: httpbin-external, namespace: bookinfo}
            spec:
              type: ExternalName
              externalName: httpbin.org
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: ratings-headless, namespace: bookinfo}
            spec:
              clusterIP: None
              selector: {app: ratings}
            """)
        let services = result.all(Service.self)
        #expect(services.map { $0.metadata.name } == ["reviews", "istio-ingressgateway", "httpbin-external", "ratings-headless"])
        let reviews = services[0]
        #expect(reviews.clusterIPs == ["10.96.145.21"])
        #expect(reviews.hostname() == "reviews.bookinfo.svc.cluster.local")
        #expect(reviews.spec?.ports == [Service.Port(name: "http", protocol: .TCP, port: 9080, targetPort: 9080)])
        #expect(reviews.spec?.selector == ["app": "reviews"])
        #expect(reviews.spec?.effectiveType == .ClusterIP)
        #expect(reviews.spec?.ipFamilies == [.IPv4])
        #expect(reviews.spec?.ipFamilyPolicy == .SingleStack)
        #expect(reviews.spec?.internalTrafficPolicy == .Cluster)
        #expect(reviews.useWaypoint == .waypoint(name: "reviews-waypoint", namespace: "waypoints"))
        #expect(reviews.status?.loadBalancer == Service.LoadBalancerStatus())

        let ingress = services[1]
        #expect(ingress.clusterIPs == ["10.96.20.4", "fd00:10:96::2a"])
        #expect(ingress.spec?.effectiveType == .LoadBalancer)
        #expect(ingress.port(named: "http2")?.appProtocol == "http2")
        #expect(ingress.port(named: "http2")?.effectiveTargetPort == .int(8080))
        #expect(ingress.port(named: "https")?.targetPort == .string("https-gw"))
        #expect(ingress.port(named: "status-port")?.nodePort == 30621)
        #expect(ingress.spec?.sessionAffinityConfig?.clientIP?.timeoutSeconds == 10800)
        #expect(ingress.spec?.externalTrafficPolicy == .Local)
        #expect(ingress.status?.loadBalancer?.ingress?.first?.ip == "203.0.113.10")
        #expect(ingress.status?.loadBalancer?.ingress?.first?.ports?.first?.protocol == .TCP)
        #expect(ingress.useWaypoint == nil)

        #expect(services[2].spec?.externalName == "httpbin.org")
        #expect(services[2].clusterIPs.isEmpty)
        #expect(services[3].spec?.isHeadless == true)
        #expect(services[3].clusterIPs.isEmpty)
    }

    static let reviewsPod = """
        apiVersion: v1
        kind: Pod
        metadata:
          annotations:
            ambient.istio.io/redirection: enabled
            kubectl.kubernetes.io/restartedAt: "2025-01-14T10:20:00Z"
          creationTimestamp: "2025-01-14T10:20:03Z"
          generateName: reviews-v1-5fd6d4f8f8-
          labels:
            app: reviews
            pod-template-hash: 5fd6d4f8f8
            version: v1
          name: reviews-v1-5fd6d4f8f8-7xk2p
          namespace: bookinfo
          ownerReferences:
          - apiVersion: apps/v1
            blockOwnerDeletion: true
            controller: true
            kind: ReplicaSet
            name: reviews-v1-5fd6d4f8f8
            uid: 0b7c5e9e-3c57-4c55-8b55-3f1c25c0d9a2
          resourceVersion: "2231"
          uid: 7e0c6f5c-5a3f-4f0e-a1f4-5d0c9f8f2b13
        spec:
          containers:
          - env:
            - name: LOG_DIR
              value: /tmp/logs
            - name: POD_NAME
              valueFrom:
                fieldRef:
                  apiVersion: v1
                  fieldPath: metadata.name
            image: docker.io/istio/examples-bookinfo-reviews-v1:1.20.3
            imagePullPolicy: IfNotPresent
            name: reviews
            ports:
            - containerPort: 9080
              name: http
              protocol: TCP
            readinessProbe:
              httpGet:
                path: /health
                port: 9080
                scheme: HTTP
              periodSeconds: 10
            resources:
              requests:
                cpu: 10m
                memory: 64Mi
            securityContext:
              runAsUser: 1000
              allowPrivilegeEscalation: false
            terminationMessagePath: /dev/termination-log
            terminationMessagePolicy: File
            volumeMounts:
            - mountPath: /tmp
              name: tmp
            - mountPath: /opt/ibm/wlp/output
              name: wlp-output
            - mountPath: /var/run/secrets/kubernetes.io/serviceaccount
              name: kube-api-access-8fz5d
              readOnly: true
          dnsPolicy: ClusterFirst
          enableServiceLinks: true
          nodeName: kind-worker
          preemptionPolicy: PreemptLowerPriority
          priority: 0
          restartPolicy: Always
          schedulerName: default-scheduler
          securityContext: {}
          serviceAccount: bookinfo-reviews
          serviceAccountName: bookinfo-reviews
          terminationGracePeriodSeconds: 30
          tolerations:
          - effect: NoExecute
            key: node.kubernetes.io/not-ready
            operator: Exists
            tolerationSeconds: 300
          - effect: NoExecute
            key: node.kubernetes.io/unreachable
            operator: Exists
            tolerationSeconds: 300
          volumes:
          - emptyDir: {}
            name: wlp-output
          - emptyDir: {}
            name: tmp
          - name: kube-api-access-8fz5d
            projected:
              defaultMode: 420
              sources:
              - serviceAccountToken:
                  expirationSeconds: 3607
                  path: token
              - configMap:
                  items:
                  - key: ca.crt
                    path: ca.crt
                  name: kube-root-ca.crt
        status:
          conditions:
          - lastProbeTime: null
            lastTransitionTime: "2025-01-14T10:20:06Z"
            status: "True"
            type: PodReadyToStartContainers
          - lastProbeTime: null
            lastTransitionTime: "2025-01-14T10:20:03Z"
            status: "True"
            type: Initialized
          - lastProbeTime: null
            lastTransitionTime: "2025-01-14T10:20:15Z"
            status: "True"
            type: Ready
          - lastProbeTime: null
            lastTransitionTime: "2025-01-14T10:20:15Z"
            status: "True"
            type: ContainersReady
          - lastProbeTime: null
            lastTransitionTime: "2025-01-14T10:20:03Z"
            status: "True"
            type: PodScheduled
          containerStatuses:
          - containerID: containerd://4f1c0e
            image: docker.io/istio/examples-bookinfo-reviews-v1:1.20.3
            imageID: docker.io/istio/examples-bookinfo-reviews-v1@sha256:5c5e
            lastState: {}
            name: reviews
            ready: true
            restartCount: 0
            started: true
            state:
              running:
                startedAt: "2025-01-14T10:20:05Z"
          hostIP: 172.18.0.3
          hostIPs:
          - ip: 172.18.0.3
          phase: Running
          podIP: 10.244.1.7
          podIPs:
          - ip: 10.244.1.7
          - ip: fd00:10:244:1::7
          qosClass: Burstable
          startTime: "2025-01-14T10:20:03Z"
        """

    @Test func podAsKubectlPrintsIt() throws {
        let result = loadClean(Self.namespaceAndAccount + "\n---\n" + Self.reviewsPod)
        let namespace = try #require(result.all(Namespace.self).first)
        let pod = try #require(result.all(Pod.self).first)
        #expect(pod.isReady)
        #expect(pod.isAmbient(namespace: namespace))
        #expect(!pod.isAmbient(namespace: nil))
        #expect(pod.dataplaneMode == nil)
        #expect(pod.ips == ["10.244.1.7", "fd00:10:244:1::7"])
        #expect(pod.serviceAccountName == "bookinfo-reviews")
        #expect(pod.spec?.nodeName == "kind-worker")
        #expect(pod.spec?.hostNetwork == nil)
        #expect(pod.status?.phase == .Running)
        #expect(pod.status?.hostIP == "172.18.0.3")
        #expect(pod.status?.condition("Ready")?.lastProbeTime == nil)
        #expect(pod.status?.conditions?.count == 5)
        let canonical = pod.canonicalService()
        #expect(canonical.name == "reviews")
        #expect(canonical.revision == "v1")
        let container = try #require(pod.spec?.containers.first)
        #expect(container.name == "reviews")
        #expect(container.image == "docker.io/istio/examples-bookinfo-reviews-v1:1.20.3")
        #expect(container.port(named: "http") == Pod.ContainerPort(name: "http", containerPort: 9080, protocol: .TCP))
        #expect(container.env?.first == Pod.EnvVar(name: "LOG_DIR", value: "/tmp/logs"))
        #expect(container.env?.last?.valueFrom?["fieldRef"]?["fieldPath"] == .string("metadata.name"))
        #expect(container.resources?["requests"]?["memory"] == .string("64Mi"))
        #expect(pod.metadata.annotation(MeshLabels.ambientRedirection) == "enabled")
    }

    @Test func ambientEnrollmentFollowsIstioCNI() {
        let ambientNamespace = Namespace(metadata: ObjectMeta(name: "bookinfo", labels: [MeshLabels.dataplaneMode: "ambient"]))
        let plainNamespace = Namespace(metadata: ObjectMeta(name: "default"))
        func pod(labels: [String: String]? = nil, annotations: [String: String]? = nil, hostNetwork: Bool? = nil) -> Pod {
            Pod(metadata: ObjectMeta(name: "p", namespace: "bookinfo", labels: labels, annotations: annotations),
                spec: Pod.Spec(containers: [Pod.Container(name: "app", image: "app")], hostNetwork: hostNetwork))
        }
        #expect(pod().isAmbient(namespace: ambientNamespace))
        #expect(!pod().isAmbient(namespace: plainNamespace))
        #expect(pod(labels: [MeshLabels.dataplaneMode: "ambient"]).isAmbient(namespace: plainNamespace))
        #expect(!pod(labels: [MeshLabels.dataplaneMode: "none"]).isAmbient(namespace: ambientNamespace))
        #expect(pod(labels: [MeshLabels.dataplaneMode: "none"]).dataplaneMode == .disabled)
        #expect(!pod(annotations: [MeshLabels.sidecarStatus: "{}"]).isAmbient(namespace: ambientNamespace))
        #expect(!pod(hostNetwork: true).isAmbient(namespace: ambientNamespace))
        #expect(pod(labels: [MeshLabels.useWaypoint: "none"]).useWaypoint == .optedOut)
        #expect(pod().useWaypoint == nil)
        #expect(!pod().isReady)
        #expect(pod().serviceAccountName == "default")
        #expect(pod(labels: ["app.kubernetes.io/name": "ratings", "app": "x"]).canonicalService().name == "ratings")
        let fallback = pod().canonicalService(workloadName: "ratings-v1")
        #expect(fallback.name == "ratings-v1")
        #expect(fallback.revision == "latest")
        let explicit = MeshLabels.canonicalService(labels: ["service.istio.io/canonical-name": "a", "app": "b",
            "service.istio.io/canonical-revision": "r1", "version": "v9"], workloadName: "w")
        #expect(explicit.name == "a")
        #expect(explicit.revision == "r1")
    }

    @Test func endpointSliceAsTheControllerWritesIt() throws {
        let result = loadClean("""
            addressType: IPv4
            apiVersion: discovery.k8s.io/v1
            endpoints:
            - addresses:
              - 10.244.1.7
              conditions:
                ready: true
                serving: true
                terminating: false
              nodeName: kind-worker
              targetRef:
                kind: Pod
                name: reviews-v1-5fd6d4f8f8-7xk2p
                namespace: bookinfo
                uid: 7e0c6f5c-5a3f-4f0e-a1f4-5d0c9f8f2b13
              zone: us-east-1a
              hints:
                forZones:
                - name: us-east-1a
            - addresses:
              - 10.244.2.9
              conditions:
                ready: false
                serving: false
                terminating: true
              nodeName: kind-worker2
              targetRef:
                kind: Pod
                name: reviews-v2-7d8c8b8c7d-9qz4m
                namespace: bookinfo
            kind: EndpointSlice
            metadata:
              annotations:
                endpoints.kubernetes.io/last-change-trigger-time: "2025-01-14T10:20:15Z"
              creationTimestamp: "2025-01-14T10:20:03Z"
              generateName: reviews-
              generation: 5
              labels:
                app: reviews
                endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io
                kubernetes.io/service-name: reviews
                service: reviews
              name: reviews-hz6kx
              namespace: bookinfo
              ownerReferences:
              - apiVersion: v1
                blockOwnerDeletion: true
                controller: true
                kind: Service
                name: reviews
                uid: 2d0f7c3a-7f4e-4a5b-8d3c-1c2b3a4d5e6f
            ports:
            - name: http
              port: 9080
              protocol: TCP
              appProtocol: http
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: reviews-v6
              namespace: bookinfo
              labels: {kubernetes.io/service-name: reviews}
            addressType: IPv6
            endpoints:
            - addresses: ["fd00:10:244:1::7"]
            ports:
            - name: http
              port: 9080
            """)
        let slices = result.all(EndpointSlice.self)
        #expect(slices.count == 2)
        let slice = slices[0]
        #expect(slice.serviceName == "reviews")
        #expect(slice.addressType == .IPv4)
        #expect(slice.endpoints?.map(\.addresses) == [["10.244.1.7"], ["10.244.2.9"]])
        #expect(slice.endpoints?.map(\.isReady) == [true, false])
        #expect(slice.endpoints?.map(\.isServing) == [true, false])
        #expect(slice.endpoints?.map(\.isTerminating) == [false, true])
        #expect(slice.endpoints?.first?.targetRef?.name == "reviews-v1-5fd6d4f8f8-7xk2p")
        #expect(slice.endpoints?.first?.zone == "us-east-1a")
        #expect(slice.endpoints?.first?.hints?.forZones == [EndpointSlice.Hints.Named(name: "us-east-1a")])
        #expect(slice.ports == [EndpointSlice.Port(name: "http", protocol: .TCP, port: 9080, appProtocol: "http")])
        #expect(slices[1].addressType == .IPv6)
        #expect(slices[1].endpoints?.first?.isReady == true)
        #expect(slices[1].endpoints?.first?.isTerminating == false)
    }

    @Test func demoManifestsLoadClean() throws {
        let demo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples/demo")
        for file in ["namespace.yaml", "workloads.yaml"] {
            let path = demo.appendingPathComponent(file).path
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let result = try strict.load(path: path)
            #expect(result.diagnostics.isEmpty, "\(file): \(result.diagnostics.map(\.description))")
        }
    }

    @Test func intOrString() throws {
        let result = loadClean("""
            apiVersion: v1
            kind: Service
            metadata: {name: ports, namespace: bookinfo}
            spec:
              ports:
              - {name: a, port: 80, targetPort: 8080}
              - {name: b, port: 81, targetPort: http}
              - {name: c, port: 82, targetPort: "grpc-web"}
              - {name: d, port: 83}
              - {name: e, port: 84, targetPort: 0}
            """)
        let ports = try #require(result.all(Service.self).first?.spec?.ports)
        #expect(ports.map(\.targetPort) == [.int(8080), .string("http"), .string("grpc-web"), nil, .int(0)])
        #expect(ports.map(\.effectiveTargetPort) == [.int(8080), .string("http"), .string("grpc-web"), .int(83), .int(84)])
        #expect(IntOrString.int(7).description == "7")
        #expect(IntOrString.string("http").stringValue == "http")
        #expect(IntOrString.int(7).intValue == 7)
        #expect(IntOrString.string("x").intValue == nil)
        let encoded = try JSONEncoder().encode([IntOrString.int(9080), .string("http")])
        #expect(String(decoding: encoded, as: UTF8.self) == "[9080,\"http\"]")
        let decoded = try JSONDecoder().decode([IntOrString].self, from: encoded)
        #expect(decoded == [.int(9080), .string("http")])
    }
}
