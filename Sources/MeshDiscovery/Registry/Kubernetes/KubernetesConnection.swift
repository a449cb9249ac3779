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
    /// PEM client certificate (chain) presented to the server (kubeconfig
    /// `client-certificate(-data)`).
    public var clientCertificatePEM: Data?
    /// PEM private key of ``clientCertificatePEM`` (kubeconfig `client-key(-data)`).
    public var clientKeyPEM: Data?
    /// A credential plugin run before connecting (kubeconfig `exec`); its token or client
    /// certificate replaces ``token`` / ``clientCertificatePEM``.
    public var exec: KubernetesExecPlugin?
    /// Default namespace of the context (informational; the registry watches all namespaces).
    public var namespace: String?
    /// Replaces the built-in TLS for `https`: adds a TLS handler to a new connection's
    /// pipeline. Without it, the client uses NIOSSL with ``certificateAuthorityPEM`` (or the
    /// system roots), the host name (or IP SANs for an IP), and the client certificate.
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
    /// `token`, `tokenFile`, `client-certificate(-data)` + `client-key(-data)` or an `exec`
    /// plugin. Relative file paths are read from the kubeconfig's directory, as kubectl does.
    public static func kubeconfig(path: String, context: String? = nil) throws(ConfigurationError) -> KubernetesConnection {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(description: "\(path): cannot read kubeconfig")
        }
        let directory = (path as NSString).deletingLastPathComponent
        return try kubeconfig(text: text, file: path, context: context, baseDirectory: directory.isEmpty ? "." : directory)
    }

    /// Parses kubeconfig text (YAML or JSON). See ``kubeconfig(path:context:)``.
    /// `baseDirectory` resolves relative file paths (the current directory by default).
    public static func kubeconfig(
        text: String, file: String = "<kubeconfig>", context: String? = nil, baseDirectory: String? = nil
    ) throws(ConfigurationError) -> KubernetesConnection {
        func resolve(_ path: String) -> String {
            guard !path.hasPrefix("/"), let baseDirectory else { return path }
            return "\(baseDirectory)/\(path)"
        }
        /// Inline base64 `<key>-data`, else the file `<key>`; nil when neither is set.
        func material(_ object: JSONValue, _ key: String, _ where_: String) throws(ConfigurationError) -> Data? {
            if let inline = object["\(key)-data"]?.stringValue {
                guard let data = Data(base64Encoded: inline, options: .ignoreUnknownCharacters) else {
                    throw ConfigurationError(description: "\(file): \(where_).\(key)-data: not valid base64")
                }
                return data
            }
            if let path = object[key]?.stringValue {
                guard let data = FileManager.default.contents(atPath: resolve(path)) else {
                    throw ConfigurationError(description: "\(file): \(where_).\(key): cannot read \(resolve(path))")
                }
                return data
            }
            return nil
        }
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
        connection.certificateAuthorityPEM = try material(cluster, "certificate-authority", "clusters[\(clusterName)].cluster")
        if let userName = ctx["user"]?.stringValue {
            guard let user = named("users", userName)?["user"] else {
                throw ConfigurationError(description: "\(file): users: no user named \"\(userName)\"")
            }
            let place = "users[\(userName)].user"
            if let token = user["token"]?.stringValue {
                connection.token = token
            } else if let tokenFile = user["tokenFile"]?.stringValue {
                guard let token = try? String(contentsOfFile: resolve(tokenFile), encoding: .utf8) else {
                    throw ConfigurationError(description: "\(file): \(place).tokenFile: cannot read \(resolve(tokenFile))")
                }
                connection.token = token.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            connection.clientCertificatePEM = try material(user, "client-certificate", place)
            connection.clientKeyPEM = try material(user, "client-key", place)
            if (connection.clientCertificatePEM == nil) != (connection.clientKeyPEM == nil) {
                throw ConfigurationError(
                    description: "\(file): \(place): client-certificate and client-key must be given together")
            }
            if let exec = user["exec"] {
                guard let command = exec["command"]?.stringValue, !command.isEmpty else {
                    throw ConfigurationError(description: "\(file): \(place).exec.command: required")
                }
                var plugin = KubernetesExecPlugin(command: command, baseDirectory: baseDirectory)
                if case .array(let args)? = exec["args"] { plugin.arguments = args.compactMap(\.stringValue) }
                if case .array(let env)? = exec["env"] {
                    for item in env {
                        if let name = item["name"]?.stringValue { plugin.environment[name] = item["value"]?.stringValue ?? "" }
                    }
                }
                if let version = exec["apiVersion"]?.stringValue { plugin.apiVersion = version }
                connection.exec = plugin
            }
        }
        return connection
    }
}
