import Foundation
import MeshAPI
import NIOCore

/// Where the Kubernetes API server is and how to authenticate: from a kubeconfig, from a
/// pod's service-account mount, or given directly.
public struct KubernetesConnection: Sendable {
    /// `http` or `https`.
    public var scheme: String
    public var host: String
    public var port: Int
    /// Bearer token sent in `Authorization`.
    public var token: String?
    /// PEM CA bundle the server certificate must chain to (for a TLS configurator).
    public var certificateAuthorityPEM: Data?
    /// Skip server certificate verification (kubeconfig `insecure-skip-tls-verify`).
    public var insecureSkipTLSVerify: Bool
    /// Default namespace of the context (informational; the registry watches all namespaces).
    public var namespace: String?
    /// Adds a TLS handler to a new connection's pipeline, for `https`. MeshDiscovery does not
    /// link NIOSSL; the embedder (istiod) supplies this, e.g. adding a `NIOSSLClientHandler`
    /// built from ``certificateAuthorityPEM`` with ``host`` as the server name.
    public var tlsConfigurator: (@Sendable (_ pipeline: ChannelPipeline.SynchronousOperations, _ connection: KubernetesConnection) throws -> Void)?

    public init(
        scheme: String = "https", host: String, port: Int, token: String? = nil, certificateAuthorityPEM: Data? = nil,
        insecureSkipTLSVerify: Bool = false, namespace: String? = nil
    ) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.token = token
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.namespace = namespace
    }

    /// Why a connection could not be configured.
    public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The connection a pod gets: `KUBERNETES_SERVICE_HOST`/`_PORT` and the token, CA and
    /// namespace mounted under `/var/run/secrets/kubernetes.io/serviceaccount`.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        mountPath: String = "/var/run/secrets/kubernetes.io/serviceaccount"
    ) throws(ConfigurationError) -> KubernetesConnection {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"].flatMap(Int.init)
        else {
            throw ConfigurationError(description: "not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set")
        }
        guard let token = try? String(contentsOfFile: "\(mountPath)/token", encoding: .utf8) else {
            throw ConfigurationError(description: "\(mountPath)/token: cannot read the service-account token")
        }
        return KubernetesConnection(
            scheme: "https", host: host, port: port, token: token.trimmingCharacters(in: .whitespacesAndNewlines),
            certificateAuthorityPEM: FileManager.default.contents(atPath: "\(mountPath)/ca.crt"),
            namespace: (try? String(contentsOfFile: "\(mountPath)/namespace", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The connection of a kubeconfig's context (its `current-context` by default). Supports
    /// `server`, `certificate-authority(-data)`, `insecure-skip-tls-verify`, and users with
    /// `token` or `tokenFile`. Client certificates and exec plugins are not supported.
    public static func kubeconfig(path: String, context: String? = nil) throws(ConfigurationError) -> KubernetesConnection {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(description: "\(path): cannot read kubeconfig")
        }
        return try kubeconfig(text: text, file: path, context: context)
    }

    /// Parses kubeconfig text (YAML or JSON). See ``kubeconfig(path:context:)``.
    public static func kubeconfig(text: String, file: String = "<kubeconfig>", context: String? = nil) throws(ConfigurationError) -> KubernetesConnection {
        let result = ManifestLoader(options: .init(strict: false, validate: false)).load(text: text, file: file)
        guard let first = result.resources.first, case .raw(let raw) = first.resource, raw.kind == "Config" else {
            let why = result.errors.first.map { $0.description } ?? "expected a document with kind: Config"
            throw ConfigurationError(description: "\(file): \(why)")
        }
        let config = raw.body
        func named(_ list: String, _ name: String) -> JSONValue? {
            guard case .array(let items)? = config[list] else { return nil }
            return items.first { $0["name"]?.stringValue == name }
        }
        guard let contextName = context ?? config["current-context"]?.stringValue else {
            throw ConfigurationError(description: "\(file): no context given and no current-context set")
        }
        guard let ctx = named("contexts", contextName)?["context"] else {
            throw ConfigurationError(description: "\(file): contexts: no context named \"\(contextName)\"")
        }
        guard let clusterName = ctx["cluster"]?.stringValue, let cluster = named("clusters", clusterName)?["cluster"],
            let server = cluster["server"]?.stringValue, let url = URLComponents(string: server), let host = url.host
        else {
            throw ConfigurationError(description: "\(file): context \"\(contextName)\": its cluster needs a server URL such as https://host:6443")
        }
        let scheme = url.scheme ?? "https"
        var connection = KubernetesConnection(
            scheme: scheme, host: host, port: url.port ?? (scheme == "http" ? 80 : 443),
            namespace: ctx["namespace"]?.stringValue)
        if case .bool(true)? = cluster["insecure-skip-tls-verify"] { connection.insecureSkipTLSVerify = true }
        if let ca = cluster["certificate-authority-data"]?.stringValue {
            connection.certificateAuthorityPEM = Data(base64Encoded: ca)
        } else if let caFile = cluster["certificate-authority"]?.stringValue {
            connection.certificateAuthorityPEM = FileManager.default.contents(atPath: caFile)
        }
        if let userName = ctx["user"]?.stringValue, let user = named("users", userName)?["user"] {
            if let token = user["token"]?.stringValue {
                connection.token = token
            } else if let tokenFile = user["tokenFile"]?.stringValue {
                connection.token = (try? String(contentsOfFile: tokenFile, encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        return connection
    }
}
