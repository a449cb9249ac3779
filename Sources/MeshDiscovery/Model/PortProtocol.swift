/// The protocol of a service port, from `appProtocol` or the port name's prefix
/// (`http-web` → `http`), as Istio's protocol selection does.
public enum PortProtocol: String, Sendable, Hashable, CaseIterable {
    case http = "HTTP"
    case http2 = "HTTP2"
    case https = "HTTPS"
    case grpc = "GRPC"
    case grpcWeb = "GRPC-Web"
    case tcp = "TCP"
    case tls = "TLS"
    case mongo = "Mongo"
    case redis = "Redis"
    case mysql = "MySQL"
    case udp = "UDP"
    /// Nothing names the protocol: Istio sniffs it (sidecars) or treats it as TCP (ztunnel).
    case unspecified = "UNSPECIFIED"

    /// Parses an Istio protocol name (`HTTP`, `http2`, `grpc-web`, …), case-insensitively.
    public init?(istioName: String) {
        switch istioName.lowercased() {
        case "http": self = .http
        case "http2": self = .http2
        case "https": self = .https
        case "grpc": self = .grpc
        case "grpc-web": self = .grpcWeb
        case "tcp": self = .tcp
        case "tls": self = .tls
        case "mongo": self = .mongo
        case "redis": self = .redis
        case "mysql": self = .mysql
        case "udp": self = .udp
        default: return nil
        }
    }

    /// The protocol a Kubernetes `appProtocol` names (`http`, `kubernetes.io/h2c`, `grpc`, …).
    public init?(appProtocol: String) {
        switch appProtocol.lowercased() {
        case "kubernetes.io/h2c": self = .http2
        case "kubernetes.io/ws", "kubernetes.io/wss": self = .http
        default: self.init(istioName: appProtocol)
        }
    }

    /// The protocol for a port: `appProtocol` wins; otherwise the name, or its prefix before `-`.
    public static func resolve(appProtocol: String?, name: String?) -> PortProtocol {
        if let appProtocol, let p = PortProtocol(appProtocol: appProtocol) { return p }
        guard let name, !name.isEmpty else { return .unspecified }
        if let p = PortProtocol(istioName: name) { return p }
        if let dash = name.firstIndex(of: "-"), let p = PortProtocol(istioName: String(name[..<dash])) { return p }
        return .unspecified
    }

    /// True for the protocols a waypoint handles at L7.
    public var isHTTP: Bool { self == .http || self == .http2 || self == .grpc || self == .grpcWeb }

    /// The `istio.workload.AppProtocol` value: UNKNOWN=0, HTTP11=1, HTTP2=2, GRPC=3, TCP=4, TLS=5.
    public var workloadAPIValue: Int {
        switch self {
        case .http: return 1
        case .http2: return 2
        case .grpc, .grpcWeb: return 3
        case .tcp, .mongo, .redis, .mysql: return 4
        case .tls, .https: return 5
        case .udp, .unspecified: return 0
        }
    }
}
