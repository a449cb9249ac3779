import Logging
import MeshAPI
import MeshCA
import NIOSSL
import Synchronization
import X509

/// The workload certificate an HBONE endpoint presents, the roots it trusts and the NIOSSL
/// contexts built from them, replaced atomically on every rotation. New connections use the
/// current value; open connections keep theirs.
public final class HBONECredentials: Sendable {
    struct Snapshot: Sendable {
        var certificate: WorkloadCertificate
        var serverContext: NIOSSLContext
        var clientContext: NIOSSLContext
        /// Peer chains verified against this snapshot's roots.
        var verifiedChains = VerifiedChainCache()
    }

    private let snapshot: Mutex<Snapshot?>
    private let logger: Logger

    /// Creates an empty holder; fill it with ``update(with:)`` or ``run(identity:)``.
    public init(logger: Logger = Logger(label: "swiftmesh.l4.credentials")) {
        self.snapshot = Mutex(nil)
        self.logger = logger
    }

    /// Creates a holder for a fixed certificate.
    public convenience init(certificate: WorkloadCertificate) throws {
        self.init()
        try update(with: certificate)
    }

    /// Installs `certificate` (and contexts built from it). On failure the previous one stays.
    public func update(with certificate: WorkloadCertificate) throws {
        let next = Snapshot(
            certificate: certificate,
            serverContext: try RotatingTLSContext.makeContext(for: certificate, role: .server),
            clientContext: try RotatingTLSContext.makeContext(for: certificate, role: .client))
        snapshot.withLock { $0 = next }
    }

    /// Follows `identity`'s rotations until they end or the task is cancelled.
    public func run(identity: WorkloadIdentity) async {
        for await certificate in await identity.rotations() {
            do {
                try update(with: certificate)
            } catch {
                logger.error("cannot build HBONE TLS contexts; keeping the previous ones", metadata: ["error": "\(error)"])
            }
        }
    }

    var current: Snapshot? { snapshot.withLock { $0 } }

    /// The current workload certificate.
    public var certificate: WorkloadCertificate? { current?.certificate }
    /// The identity presented.
    public var identity: SpiffeID? { current?.certificate.identity }
    /// The roots peers must chain to.
    public var trustRoots: [Certificate] { current?.certificate.roots ?? [] }
}
