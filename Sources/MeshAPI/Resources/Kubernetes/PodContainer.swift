extension Pod {
    /// A container of a pod (`core/v1.Container`). The mesh reads its name, image and ports;
    /// the deep, mesh-irrelevant parts (resources, probes, security context, mounts) are kept
    /// as written in ``JSONValue``s so that real manifests load unchanged.
    public struct Container: Codable, Sendable, Hashable {
        public var name: String
        public var image: String?
        public var command: [String]?
        public var args: [String]?
        public var workingDir: String?
        public var ports: [ContainerPort]?
        public var envFrom: [JSONValue]?
        public var env: [EnvVar]?
        public var resources: JSONValue?
        public var resizePolicy: [JSONValue]?
        /// `Always` makes an init container a native sidecar.
        public var restartPolicy: String?
        public var restartPolicyRules: [JSONValue]?
        public var volumeMounts: [JSONValue]?
        public var volumeDevices: [JSONValue]?
        public var livenessProbe: JSONValue?
        public var readinessProbe: JSONValue?
        public var startupProbe: JSONValue?
        public var lifecycle: JSONValue?
        public var terminationMessagePath: String?
        public var terminationMessagePolicy: String?
        public var imagePullPolicy: String?
        public var securityContext: JSONValue?
        public var stdin: Bool?
        public var stdinOnce: Bool?
        public var tty: Bool?

        public init(
            name: String, image: String? = nil, command: [String]? = nil, args: [String]? = nil,
            workingDir: String? = nil, ports: [ContainerPort]? = nil, envFrom: [JSONValue]? = nil, env: [EnvVar]? = nil,
            resources: JSONValue? = nil, resizePolicy: [JSONValue]? = nil, restartPolicy: String? = nil,
            restartPolicyRules: [JSONValue]? = nil, volumeMounts: [JSONValue]? = nil, volumeDevices: [JSONValue]? = nil,
            livenessProbe: JSONValue? = nil, readinessProbe: JSONValue? = nil, startupProbe: JSONValue? = nil,
            lifecycle: JSONValue? = nil, terminationMessagePath: String? = nil, terminationMessagePolicy: String? = nil,
            imagePullPolicy: String? = nil, securityContext: JSONValue? = nil, stdin: Bool? = nil,
            stdinOnce: Bool? = nil, tty: Bool? = nil
        ) {
            self.name = name
            self.image = image
            self.command = command
            self.args = args
            self.workingDir = workingDir
            self.ports = ports
            self.envFrom = envFrom
            self.env = env
            self.resources = resources
            self.resizePolicy = resizePolicy
            self.restartPolicy = restartPolicy
            self.restartPolicyRules = restartPolicyRules
            self.volumeMounts = volumeMounts
            self.volumeDevices = volumeDevices
            self.livenessProbe = livenessProbe
            self.readinessProbe = readinessProbe
            self.startupProbe = startupProbe
            self.lifecycle = lifecycle
            self.terminationMessagePath = terminationMessagePath
            self.terminationMessagePolicy = terminationMessagePolicy
            self.imagePullPolicy = imagePullPolicy
            self.securityContext = securityContext
            self.stdin = stdin
            self.stdinOnce = stdinOnce
            self.tty = tty
        }

        /// The port with this name, if any (how a Service's named `targetPort` resolves).
        public func port(named name: String) -> ContainerPort? { ports?.first { $0.name == name } }
    }

    /// `ContainerPort`.
    public struct ContainerPort: Codable, Sendable, Hashable {
        /// An IANA service name (`http`), the target of a Service's named `targetPort`.
        public var name: String?
        public var hostPort: Int?
        public var containerPort: Int
        /// Defaults to `TCP`.
        public var `protocol`: Kubernetes.PortProtocol?
        public var hostIP: String?

        public init(
            name: String? = nil, hostPort: Int? = nil, containerPort: Int, protocol: Kubernetes.PortProtocol? = nil,
            hostIP: String? = nil
        ) {
            self.name = name
            self.hostPort = hostPort
            self.containerPort = containerPort
            self.protocol = `protocol`
            self.hostIP = hostIP
        }
    }

    /// `EnvVar`: a literal value or one taken from elsewhere (`valueFrom`, kept as written).
    public struct EnvVar: Codable, Sendable, Hashable {
        public var name: String
        public var value: String?
        public var valueFrom: JSONValue?

        public init(name: String, value: String? = nil, valueFrom: JSONValue? = nil) {
            self.name = name
            self.value = value
            self.valueFrom = valueFrom
        }
    }

    /// Checks a container as the apiserver does; `names` collects container names across
    /// the pod so duplicates are found.
    static func validate(
        _ container: Container, at path: FieldPath, names: inout [String: String], into context: inout ValidationContext
    ) {
        if !Rules.isDNS1123Label(container.name) {
            context.error(path("name"), "container name \"\(container.name)\" must be a lowercase RFC 1123 label: letters, digits and '-', at most 63 characters")
        } else if let first = names[container.name] {
            context.error(path("name"), "container name \"\(container.name)\" is already used by \(first); every container of a pod needs its own name")
        } else {
            names[container.name] = path.description
        }
        if (container.image ?? "").isEmpty {
            context.error(path("image"), "required: the image the container runs, e.g. docker.io/istio/examples-bookinfo-reviews-v1:1.20.3")
        }
        var portNames: [String: Int] = [:]
        for (i, port) in (container.ports ?? []).enumerated() {
            let at = path("ports")[i]
            if let name = port.name, !name.isEmpty {
                if let problem = KubernetesRules.portNameProblem(name) {
                    context.error(at("name"), problem)
                } else if let first = portNames[name] {
                    context.error(at("name"), "port name \"\(name)\" is already used by ports[\(first)] of this container; names must be unique")
                } else {
                    portNames[name] = i
                }
            }
            if let problem = KubernetesRules.rangeProblem(port.containerPort, 1...65535, "containerPort") {
                context.error(at("containerPort"), problem)
            }
            if let hostPort = port.hostPort, hostPort != 0,
                let problem = KubernetesRules.rangeProblem(hostPort, 1...65535, "hostPort")
            {
                context.error(at("hostPort"), problem + " (or 0 for none)")
            }
            if let ip = port.hostIP, !ip.isEmpty, !Rules.isIPAddress(ip) {
                context.error(at("hostIP"), "hostIP \"\(ip)\" must be an IP address")
            }
        }
        for (i, variable) in (container.env ?? []).enumerated() where variable.name.isEmpty {
            context.error(path("env")[i]("name"), "required: an environment variable needs a name")
        }
    }
}
