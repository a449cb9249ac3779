import Logging
import NIOSSL
import Synchronization

/// Holds the NIOSSL context built from a workload's current certificate and replaces it on
/// every rotation. A listener takes ``current`` for each new connection; connections already
/// open keep the context they started with, so nothing is dropped.
public final class RotatingTLSContext: Sendable {
    /// Which side of TLS the context is for.
    public enum Role: Sendable {
        /// Accepting connections (client certificate required).
        case server
        /// Opening connections.
        case client
    }

    private let context: Mutex<NIOSSLContext?>
    /// The side.
    public let role: Role
    private let logger: Logger

    /// Creates an empty holder; ``run(identity:)`` fills it.
    public init(role: Role, logger: Logger = Logger(label: "swiftmesh.ca.tls")) {
        self.role = role
        self.context = Mutex(nil)
        self.logger = logger
    }

    /// The context for a new connection; nil before the first certificate.
    public var current: NIOSSLContext? { context.withLock { $0 } }

    /// Builds a context for a certificate.
    public static func makeContext(for certificate: WorkloadCertificate, role: Role) throws -> NIOSSLContext {
        switch role {
        case .server: return try NIOSSLContext(configuration: certificate.makeServerTLSConfiguration())
        case .client: return try NIOSSLContext(configuration: certificate.makeClientTLSConfiguration())
        }
    }

    /// Installs a context for `certificate`. On failure the previous context stays.
    public func update(with certificate: WorkloadCertificate) throws {
        let next = try Self.makeContext(for: certificate, role: role)
        context.withLock { $0 = next }
    }

    /// Follows `identity`'s rotations until they end or the task is cancelled.
    public func run(identity: WorkloadIdentity) async {
        for await certificate in await identity.rotations() {
            do {
                try update(with: certificate)
            } catch {
                logger.error("cannot build TLS context; keeping the previous one", metadata: ["error": "\(error)"])
            }
        }
    }
}
