import Foundation
import Logging
import MeshAPI
import Metrics
import X509

/// Keeps a certificate for one SPIFFE identity and rotates it.
///
/// ``run()`` fetches a certificate (fresh P-256 key, CSR, CA call, exact identity check), then
/// renews it at half of its lifetime plus a little jitter. A failed fetch is retried with
/// exponential back-off (500 ms doubling to 150 s); the current certificate keeps being served
/// until it expires. Subscribers of ``rotations()`` receive every new certificate and can swap
/// TLS configurations without dropping existing connections.
public actor WorkloadIdentity {
    /// Rotation and request settings.
    public struct Configuration: Sendable {
        /// Lifetime asked for (`validity_duration`).
        public var requestedTTL: Duration
        /// Fraction of the lifetime after which to renew.
        public var refreshFraction: Double
        /// Upper bound of the random delay added to the renewal time, as a fraction of the lifetime.
        public var jitterFraction: Double
        /// First retry delay.
        public var initialBackoff: Duration
        /// Retry delay cap.
        public var maximumBackoff: Duration
        /// Key kind of the workload key.
        public var keyAlgorithm: KeyAlgorithm
        /// Whether to ask as a node proxy (`ImpersonatedIdentity` metadata) rather than as itself.
        public var impersonate: Bool

        /// Creates settings with ztunnel's defaults.
        public init(
            requestedTTL: Duration = MeshCAConstants.defaultWorkloadCertificateTTL,
            refreshFraction: Double = MeshCAConstants.refreshFraction, jitterFraction: Double = 0.05,
            initialBackoff: Duration = MeshCAConstants.initialBackoff,
            maximumBackoff: Duration = MeshCAConstants.maximumBackoff, keyAlgorithm: KeyAlgorithm = .ecdsaP256,
            impersonate: Bool = false
        ) {
            self.requestedTTL = requestedTTL
            self.refreshFraction = refreshFraction
            self.jitterFraction = jitterFraction
            self.initialBackoff = initialBackoff
            self.maximumBackoff = maximumBackoff
            self.keyAlgorithm = keyAlgorithm
            self.impersonate = impersonate
        }
    }

    /// The identity this provider keeps a certificate for.
    public nonisolated let identity: SpiffeID
    /// The settings.
    public nonisolated let configuration: Configuration
    private let requester: any CertificateRequesting
    private let limiter: CSRLimiter
    private let logger: Logger
    private let fetchFailures: Counter
    private let rotationsCounter: Counter
    private var current: WorkloadCertificate?
    private var nextRefresh: Date?
    private var subscribers: [Int: AsyncStream<WorkloadCertificate>.Continuation] = [:]
    private var nextSubscriberID = 0
    private var waiters: [CheckedContinuation<WorkloadCertificate, any Error>] = []

    /// Creates a provider; call ``run()`` to start it.
    public init(
        identity: SpiffeID, requester: any CertificateRequesting, configuration: Configuration = Configuration(),
        limiter: CSRLimiter = CSRLimiter(), logger: Logger = Logger(label: "swiftmesh.ca.identity")
    ) {
        self.identity = identity
        self.requester = requester
        self.configuration = configuration
        self.limiter = limiter
        var logger = logger
        logger[metadataKey: "identity"] = "\(identity)"
        self.logger = logger
        self.fetchFailures = Counter(label: "mesh_identity_fetch_failures_total")
        self.rotationsCounter = Counter(label: "mesh_identity_rotations_total")
    }

    /// The current certificate, if there is one that has not expired.
    public var certificate: WorkloadCertificate? {
        guard let current, current.notAfter > Date() else { return nil }
        return current
    }

    /// When the next renewal is planned.
    public var scheduledRefresh: Date? { nextRefresh }

    /// Waits until a valid certificate is available.
    public func waitForCertificate() async throws -> WorkloadCertificate {
        if let certificate { return certificate }
        return try await withCheckedThrowingContinuation { waiters.append($0) }
    }

    /// A stream of certificates: the current one first (if any), then each rotation. The stream
    /// finishes when ``run()`` returns.
    public func rotations() -> AsyncStream<WorkloadCertificate> {
        let (stream, continuation) = AsyncStream.makeStream(of: WorkloadCertificate.self, bufferingPolicy: .bufferingNewest(1))
        let id = nextSubscriberID
        nextSubscriberID += 1
        subscribers[id] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unsubscribe(id) }
        }
        if let certificate { continuation.yield(certificate) }
        return stream
    }

    private func unsubscribe(_ id: Int) {
        subscribers[id] = nil
    }

    /// Fetches and installs a new certificate now, whatever the schedule.
    @discardableResult
    public func refresh() async throws -> WorkloadCertificate {
        let requestedAt = Date()
        let (key, csr) = try CSRBuilder.make(for: identity, algorithm: configuration.keyAlgorithm)
        let requester = self.requester
        let ttl = configuration.requestedTTL
        let target: SpiffeID? = configuration.impersonate ? identity : nil
        let chain = try await limiter.withPermit {
            try await requester.requestCertificate(csrPEM: csr, validity: ttl, impersonating: target)
        }
        let certificate = try await WorkloadCertificate.verifying(
            caResponse: chain, privateKey: key, expectedIdentity: identity)
        install(certificate, requestedAt: requestedAt)
        return certificate
    }

    private func install(_ certificate: WorkloadCertificate, requestedAt: Date) {
        current = certificate
        // The lifetime counts from when it was asked for: a back-dated not-before would
        // otherwise pull renewal earlier than half of the usable lifetime.
        let start = max(certificate.notBefore, requestedAt)
        let lifetime = max(0, certificate.notAfter.timeIntervalSince(start))
        let jitter = lifetime * configuration.jitterFraction * Double.random(in: 0...1)
        nextRefresh = start.addingTimeInterval(lifetime * configuration.refreshFraction + jitter)
        rotationsCounter.increment()
        logger.info(
            "installed certificate",
            metadata: ["notAfter": "\(certificate.notAfter)", "refreshAt": "\(nextRefresh.map { "\($0)" } ?? "-")"])
        for continuation in subscribers.values { continuation.yield(certificate) }
        let waiting = waiters
        waiters.removeAll()
        for waiter in waiting { waiter.resume(returning: certificate) }
    }

    /// Keeps the certificate fresh until the task is cancelled.
    public func run() async {
        var backoff = configuration.initialBackoff
        while !Task.isCancelled {
            let delay: Duration
            if let nextRefresh, current != nil, nextRefresh > Date() {
                delay = .seconds(nextRefresh.timeIntervalSinceNow)
            } else {
                do {
                    try await refresh()
                    backoff = configuration.initialBackoff
                    continue
                } catch is CancellationError {
                    break
                } catch {
                    if Task.isCancelled { break }
                    fetchFailures.increment()
                    logger.warning(
                        "certificate fetch failed",
                        metadata: ["error": "\(error)", "retryIn": "\(backoff)", "serving": "\(certificate != nil)"])
                    delay = backoff
                    backoff = min(backoff * 2, configuration.maximumBackoff)
                    // Renewal is due: retry on the back-off schedule, keep serving the old one.
                    nextRefresh = nil
                }
            }
            do {
                try await Task.sleep(for: delay)
            } catch {
                break
            }
        }
        for continuation in subscribers.values { continuation.finish() }
        subscribers.removeAll()
        let waiting = waiters
        waiters.removeAll()
        for waiter in waiting { waiter.resume(throwing: CancellationError()) }
    }
}
