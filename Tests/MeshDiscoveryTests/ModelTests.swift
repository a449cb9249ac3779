import MeshAPI
import Testing

@testable import MeshDiscovery

@Suite struct AmbientEnrolmentTests {
    let mesh = model(
        namespaceYAML("ambient-ns", labels: ["istio.io/dataplane-mode": "ambient"])
            + namespaceYAML("plain-ns")
            + podYAML("a", ns: "ambient-ns", ip: "10.1.0.1", labels: ["app": "a"])
            + podYAML("out", ns: "ambient-ns", ip: "10.1.0.2", labels: ["app": "out", "istio.io/dataplane-mode": "none"])
            + podYAML("in", ns: "plain-ns", ip: "10.1.0.3", labels: ["app": "in", "istio.io/dataplane-mode": "ambient"])
            + podYAML("plain", ns: "plain-ns", ip: "10.1.0.4", labels: ["app": "plain"]))

    @Test func namespaceLabelEnrolsItsPods() throws {
        let ns = try #require(mesh.read { $0.namespaces["ambient-ns"] })
        #expect(ns.ambient)
        #expect(mesh.workload(uid: podUID("ambient-ns", "a"))?.tunnelProtocol == .hbone)
    }

    @Test func podLabelNoneOptsOut() {
        #expect(mesh.workload(uid: podUID("ambient-ns", "out"))?.tunnelProtocol == TunnelProtocol.none)
    }

    @Test func podLabelAmbientOptsIn() {
        #expect(mesh.workload(uid: podUID("plain-ns", "in"))?.tunnelProtocol == .hbone)
        #expect(mesh.workload(uid: podUID("plain-ns", "plain"))?.tunnelProtocol == TunnelProtocol.none)
    }

    @Test func labellingTheNamespaceLaterUpdatesItsWorkloads() async {
        let events = mesh.events()
        mesh.apply(resources(namespaceYAML("plain-ns", labels: ["istio.io/dataplane-mode": "ambient"])).map(ResourceChange.upsert))
        let got = await collect(events, count: 2)
        #expect(got.map(describe) == ["~namespace plain-ns", "~workload \(podUID("plain-ns", "plain"))"])
        #expect(mesh.workload(uid: podUID("plain-ns", "plain"))?.tunnelProtocol == .hbone)
    }
}

@Suite struct WorkloadDerivationTests {
    @Test func podFields() throws {
        let mesh = model(
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: reviews-v2-5d8f7c9b4-x7k2p
              namespace: bookinfo
              labels:
                app: reviews
                version: v2
                pod-template-hash: 5d8f7c9b4
                topology.istio.io/network: net-1
              ownerReferences:
              - apiVersion: apps/v1
                kind: ReplicaSet
                name: reviews-v2-5d8f7c9b4
                controller: true
                uid: 1234
            spec:
              serviceAccountName: bookinfo-reviews
              nodeName: node-7
              containers:
              - name: reviews
                image: reviews:2
                ports:
                - name: http-api
                  containerPort: 9080
            status:
              phase: Running
              podIP: 10.2.0.9
              hostIP: 127.0.0.7
              conditions:
              - type: Ready
                status: "False"
            """)
        let w = try #require(mesh.workload(uid: podUID("bookinfo", "reviews-v2-5d8f7c9b4-x7k2p")))
        #expect(w.name == "reviews-v2-5d8f7c9b4-x7k2p")
        #expect(w.addresses == ["10.2.0.9"])
        #expect(w.serviceAccount == "bookinfo-reviews")
        #expect(w.node == "node-7")
        #expect(w.nodeAddress == "127.0.0.7")
        #expect(w.network == "net-1")
        #expect(w.workloadName == "reviews-v2")
        #expect(w.workloadType == .deployment)
        #expect(w.canonicalName == "reviews")
        #expect(w.canonicalRevision == "v2")
        #expect(w.status == .unhealthy)
        #expect(w.namedPorts == ["http-api": 9080])
        #expect(w.spiffeID == "spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews")
        #expect(mesh.workloads(address: "10.2.0.9").map(\.uid) == [w.uid])
        #expect(mesh.workloads(node: "node-7").map(\.uid) == [w.uid])
        #expect(mesh.hasWorkload(serviceAccount: "bookinfo-reviews", namespace: "bookinfo", node: "node-7"))
        #expect(!mesh.hasWorkload(serviceAccount: "bookinfo-reviews", namespace: "bookinfo", node: "node-8"))
        #expect(!mesh.nodeAuthorizer.hasWorkload(serviceAccount: "default", namespace: "bookinfo", node: "node-7"))
    }

    @Test func canonicalLabelsWinAndDefaults() throws {
        let mesh = model(
            podYAML("p1", ns: "ns", ip: "10.0.0.1", labels: [
                "service.istio.io/canonical-name": "cname", "app": "ignored",
                "service.istio.io/canonical-revision": "crev", "version": "ignored",
            ]) + podYAML("p2", ns: "ns", ip: "10.0.0.2"))
        let p1 = try #require(mesh.workload(uid: podUID("ns", "p1")))
        #expect(p1.canonicalName == "cname")
        #expect(p1.canonicalRevision == "crev")
        let p2 = try #require(mesh.workload(uid: podUID("ns", "p2")))
        #expect(p2.canonicalName == "p2")
        #expect(p2.canonicalRevision == "latest")
        #expect(p2.workloadType == .pod)
        #expect(p2.status == .healthy)
    }

    @Test func podsWithoutIPOrFinishedAreNotWorkloads() {
        let mesh = model(
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: pending, namespace: ns}
            spec:
              containers: [{name: app, image: app}]
            status: {phase: Pending}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: done, namespace: ns}
            spec:
              containers: [{name: app, image: app}]
            status: {phase: Succeeded, podIP: 10.0.0.5}
            """)
        #expect(mesh.read { $0.workloads.isEmpty })
    }
}

@Suite struct SelectorAndEndpointTests {
    @Test func serviceSelectsMatchingPodsWithNamedAndNumericTargetPorts() throws {
        let mesh = model(
            podYAML("web-1", ns: "shop", ip: "10.0.0.1", labels: ["app": "web", "tier": "front"], containerPorts: [("http", 8080)])
                + podYAML("web-2", ns: "shop", ip: "10.0.0.2", labels: ["app": "web"], containerPorts: [("http", 8081)])
                + podYAML("db", ns: "shop", ip: "10.0.0.3", labels: ["app": "db"])
                + podYAML("web-other-ns", ns: "other", ip: "10.0.0.4", labels: ["app": "web"])
                + serviceYAML("web", ns: "shop", ip: "10.96.0.10", selector: ["app": "web"],
                    ports: "  - name: http\n    port: 80\n    targetPort: http\n  - name: grpc-admin\n    port: 9000\n    targetPort: 9001"))
        let key = host("web", "shop")
        let service = try #require(mesh.service(hostname: key.hostname, namespace: "shop"))
        #expect(service.addresses == ["10.96.0.10"])
        #expect(service.ports.map(\.protocol) == [.http, .grpc])
        #expect(service.ports[0].targetPort == .name("http"))
        #expect(mesh.services(address: "10.96.0.10").map(\.key) == [key])
        #expect(mesh.services(hostname: key.hostname).map(\.key) == [key])
        let endpoints = mesh.endpoints(service: key)
        #expect(endpoints.map(\.workloadUID) == [podUID("shop", "web-1"), podUID("shop", "web-2")])
        #expect(endpoints[0].ports == [80: 8080, 9000: 9001])
        #expect(endpoints[1].ports == [80: 8081, 9000: 9001])
        #expect(mesh.read { $0.services(forWorkload: podUID("shop", "web-1")).map(\.key) } == [key])
        #expect(mesh.read { $0.workloads(namespace: "shop", matching: ["app": "web", "tier": "front"]).map(\.uid) } == [podUID("shop", "web-1")])
    }

    @Test func relabellingAPodMovesItsEndpoint() async {
        let mesh = model(
            podYAML("p", ns: "ns", ip: "10.0.0.1", labels: ["app": "a"])
                + serviceYAML("a", ns: "ns", ip: "10.96.0.1", selector: ["app": "a"])
                + serviceYAML("b", ns: "ns", ip: "10.96.0.2", selector: ["app": "b"]))
        let events = mesh.events()
        mesh.apply(resources(podYAML("p", ns: "ns", ip: "10.0.0.1", labels: ["app": "b"])).map(ResourceChange.upsert))
        let got = await collect(events, count: 3)
        #expect(got.map(describe) == [
            "~workload \(podUID("ns", "p"))",
            "-endpoint \(host("a", "ns")) -> \(podUID("ns", "p"))",
            "+endpoint \(host("b", "ns")) -> \(podUID("ns", "p"))",
        ])
    }

    @Test func headlessServiceHasNoAddressButEndpoints() throws {
        let mesh = model(
            podYAML("db-0", ns: "data", ip: "10.0.0.7", labels: ["app": "db"])
                + serviceYAML("db", ns: "data", ip: nil, selector: ["app": "db"], ports: "  - name: tcp-db\n    port: 5432"))
        let service = try #require(mesh.service(hostname: "db.data.svc.cluster.local", namespace: "data"))
        #expect(service.headless)
        #expect(service.addresses.isEmpty)
        #expect(service.ports[0].protocol == .tcp)
        #expect(mesh.endpoints(service: service.key).map(\.ports) == [[5432: 5432]])
    }

    @Test func serviceEntryWithStaticEndpoints() throws {
        let mesh = model(
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: legacy, namespace: ext}
            spec:
              hosts: [legacy.example.com]
              addresses: [240.0.0.5]
              location: MESH_INTERNAL
              resolution: STATIC
              ports:
              - {number: 80, name: http, protocol: HTTP, targetPort: 8080}
              endpoints:
              - address: 192.168.1.10
                labels: {app: legacy}
                serviceAccount: legacy-sa
              - address: 192.168.1.11
                ports: {http: 9090}
            """)
        let key = ServiceKey(namespace: "ext", hostname: "legacy.example.com")
        let service = try #require(mesh.read { $0.service(key) })
        #expect(service.origin == .serviceEntry(name: "legacy"))
        #expect(service.resolution == .static)
        #expect(!service.meshExternal)
        #expect(service.addresses == ["240.0.0.5"])
        #expect(service.ports.first?.protocol == .http)
        let endpoints = mesh.endpoints(service: key)
        #expect(endpoints.count == 2)
        let uid10 = "Kubernetes/networking.istio.io/ServiceEntry/ext/legacy/192.168.1.10"
        let uid11 = "Kubernetes/networking.istio.io/ServiceEntry/ext/legacy/192.168.1.11"
        #expect(Set(endpoints.map(\.workloadUID)) == [uid10, uid11])
        #expect(mesh.read { $0.endpoint(service: key, workloadUID: uid10)?.ports } == [80: 8080])
        #expect(mesh.read { $0.endpoint(service: key, workloadUID: uid11)?.ports } == [80: 9090])
        #expect(mesh.workload(uid: uid10)?.serviceAccount == "legacy-sa")
        #expect(mesh.workloads(address: "192.168.1.11").map(\.uid) == [uid11])
    }

    @Test func serviceEntrySelectsPodsAndWorkloadEntries() throws {
        let mesh = model(
            podYAML("vm-pod", ns: "vms", ip: "10.0.0.1", labels: ["app": "vm"])
                + """
                apiVersion: networking.istio.io/v1
                kind: WorkloadEntry
                metadata: {name: vm-1, namespace: vms}
                spec:
                  address: 172.16.0.4
                  labels: {app: vm}
                  serviceAccount: vm-sa
                ---
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: vm, namespace: vms}
                spec:
                  hosts: [vm.internal]
                  location: MESH_INTERNAL
                  resolution: STATIC
                  ports: [{number: 443, name: https, protocol: HTTPS}]
                  workloadSelector:
                    labels: {app: vm}
                """)
        let endpoints = mesh.endpoints(service: ServiceKey(namespace: "vms", hostname: "vm.internal"))
        #expect(endpoints.map(\.workloadUID).sorted() == [
            "Kubernetes//v1/Pod/vms/vm-pod", "Kubernetes/networking.istio.io/WorkloadEntry/vms/vm-1",
        ])
        #expect(mesh.workload(uid: "Kubernetes/networking.istio.io/WorkloadEntry/vms/vm-1")?.serviceAccount == "vm-sa")
    }

    @Test func selectorlessServiceUsesEndpointSlices() throws {
        let mesh = model(
            podYAML("p", ns: "ns", ip: "10.0.0.1", labels: ["app": "x"])
                + """
                apiVersion: v1
                kind: Service
                metadata: {name: manual, namespace: ns}
                spec:
                  clusterIP: 10.96.0.50
                  ports: [{name: http, port: 80, targetPort: 8080}]
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata:
                  name: manual-abc
                  namespace: ns
                  labels: {kubernetes.io/service-name: manual}
                addressType: IPv4
                endpoints:
                - addresses: [10.0.0.1]
                ports: [{name: http, port: 8080}]
                """)
        #expect(mesh.endpoints(service: host("manual", "ns")).map(\.workloadUID) == [podUID("ns", "p")])
    }
}

@Suite struct WaypointTests {
    static let waypoint = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata:
          name: waypoint
          namespace: app
          labels: {istio.io/waypoint-for: service}
        spec:
          gatewayClassName: istio-waypoint
          listeners:
          - {name: mesh, port: 15008, protocol: HBONE}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: waypoint, namespace: app}
        spec:
          clusterIP: 10.96.9.9
          ports: [{name: mesh, port: 15008}]
        ---

        """

    @Test func namespaceLevelBinding() throws {
        let mesh = model(
            namespaceYAML("app", labels: ["istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "waypoint"])
                + Self.waypoint
                + serviceYAML("svc", ns: "app", ip: "10.96.0.1", selector: ["app": "svc"])
                + serviceYAML("optout", ns: "app", ip: "10.96.0.2", selector: ["app": "o"], labels: ["istio.io/use-waypoint": "none"])
                + podYAML("p", ns: "app", ip: "10.0.0.1", labels: ["app": "svc"]))
        let wp = try #require(mesh.read { $0.waypoint(NamespacedName(namespace: "app", name: "waypoint")) })
        #expect(wp.addresses == ["10.96.9.9"])
        #expect(wp.trafficType == .service)
        let svc = try #require(mesh.service(hostname: "svc.app.svc.cluster.local", namespace: "app"))
        #expect(svc.waypoint == ResolvedWaypoint(
            waypoint: NamespacedName(namespace: "app", name: "waypoint"), hostname: "waypoint.app.svc.cluster.local",
            addresses: ["10.96.9.9"], port: 15008, source: .namespace))
        #expect(mesh.service(hostname: "optout.app.svc.cluster.local", namespace: "app")?.waypoint == nil)
        // A service waypoint does not take workload-addressed traffic.
        #expect(mesh.workload(uid: podUID("app", "p"))?.waypoint == nil)
        // The waypoint's own Service is not bound to itself.
        #expect(mesh.service(hostname: "waypoint.app.svc.cluster.local", namespace: "app")?.waypoint == nil)
    }

    @Test func serviceLevelBindingAndLateWaypoint() async throws {
        let mesh = model(
            namespaceYAML("app")
                + serviceYAML("svc", ns: "app", ip: "10.96.0.1", selector: ["app": "svc"], labels: ["istio.io/use-waypoint": "waypoint"])
                + serviceYAML("other", ns: "app", ip: "10.96.0.2", selector: ["app": "other"]))
        #expect(mesh.service(hostname: "svc.app.svc.cluster.local", namespace: "app")?.waypoint == nil)
        let events = mesh.events()
        mesh.apply(resources(Self.waypoint).map(ResourceChange.upsert))
        let got = await collect(events, count: 4)
        #expect(Set(got.map(describe)) == [
            "+policy gateway.networking.k8s.io/Gateway app/waypoint", "+waypoint app/waypoint",
            "+service app/waypoint.app.svc.cluster.local", "~service app/svc.app.svc.cluster.local",
        ])
        let svc = try #require(mesh.service(hostname: "svc.app.svc.cluster.local", namespace: "app"))
        #expect(svc.waypoint?.source == .resource)
        #expect(svc.waypoint?.hostname == "waypoint.app.svc.cluster.local")
        #expect(mesh.service(hostname: "other.app.svc.cluster.local", namespace: "app")?.waypoint == nil)
    }

    @Test func workloadWaypointAndCrossNamespace() throws {
        let mesh = model(
            """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata:
              name: shared
              namespace: infra
              labels: {istio.io/waypoint-for: all}
            spec:
              gatewayClassName: istio-waypoint
              listeners: [{name: mesh, port: 15008, protocol: HBONE}]
            ---

            """
                + podYAML("p", ns: "app", ip: "10.0.0.1", labels: ["istio.io/use-waypoint": "shared", "istio.io/use-waypoint-namespace": "infra"]))
        let w = try #require(mesh.workload(uid: podUID("app", "p")))
        #expect(w.waypoint?.waypoint == NamespacedName(namespace: "infra", name: "shared"))
        #expect(w.waypoint?.hostname == "shared.infra.svc.cluster.local")
    }
}

@Suite struct PolicyScopeTests {
    let mesh = model(
        """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: mesh-wide, namespace: istio-system}
        spec: {}
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: root-selector, namespace: istio-system}
        spec:
          selector: {matchLabels: {app: web}}
          action: DENY
          rules: [{}]
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: ns-wide, namespace: shop}
        spec:
          rules: [{}]
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: web-only, namespace: shop}
        spec:
          selector: {matchLabels: {app: web}}
          rules: [{}]
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: db-only, namespace: shop}
        spec:
          selector: {matchLabels: {app: db}}
          rules: [{}]
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: other-ns, namespace: other}
        spec:
          rules: [{}]
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: on-waypoint, namespace: shop}
        spec:
          targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
          rules: [{}]
        ---
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: strict, namespace: shop}
        spec:
          mtls: {mode: STRICT}
        ---
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: ignored-root-selector, namespace: istio-system}
        spec:
          selector: {matchLabels: {app: web}}
          mtls: {mode: DISABLE}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: web-routes, namespace: shop}
        spec:
          hosts: [web]
          http:
          - route:
            - destination: {host: web}
        ---

        """ + podYAML("web-1", ns: "shop", ip: "10.0.0.1", labels: ["app": "web"]))

    @Test func workloadGetsRootNamespaceAndSelectorPolicies() throws {
        let web = try #require(mesh.workload(uid: podUID("shop", "web-1")))
        let names = mesh.policies(forWorkload: web).map(\.name)
        #expect(names == ["mesh-wide", "root-selector", "ns-wide", "web-only", "strict"])
    }

    @Test func targetRefAndHostLookups() {
        let onWaypoint = mesh.read { $0.policies(targeting: .gateway(namespace: "shop", name: "waypoint")) }
        #expect(onWaypoint.map(\.name) == ["on-waypoint"])
        #expect(mesh.read { $0.policies(host: "web.shop.svc.cluster.local") }.map(\.name) == ["web-routes"])
        let scope = mesh.read { $0.policies[ResourceKey(group: "security.istio.io", kind: "AuthorizationPolicy", namespace: "istio-system", name: "mesh-wide")] }?
            .scope(rootNamespace: "istio-system")
        #expect(scope == .mesh)
    }
}
