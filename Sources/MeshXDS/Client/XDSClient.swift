import GRPCCore
import GRPCNIOTransportHTTP2
import MeshProto
import SwiftProtobuf

/// An xDS client for proxies: typed subscriptions over one ADS stream (delta by default),
/// handlers that may reject an update (the client then NACKs with the reason and keeps its last
/// good state), and reconnection with exponential backoff and jitter that resumes with
/// `initial_resource_versions`.
///
/// ```swift
/// let client = XDSClient(configuration: .init(host: "127.0.0.1", port: 15010, node: node))
/// await client.subscribe(Istio_Workload_Address.self, typeURL: TypeURL.workloadAddress) { all, update in … }
/// try await client.run()   // until cancelled
/// ```
public actor XDSClient {
    /// Receives every update of one type; throw (e.g. ``XDSRejection``) to NACK it.
    public typealias Handler = @Sendable (XDSClientUpdate) async throws -> Void

    struct Subscription {
        var typeURL: String
        var wildcard: Bool
        var names: Set<String>
        var handler: Handler
        var resources: [String: XDSResource] = [:]
        var status = XDSSubscriptionStatus(acceptedVersion: "", accepted: 0, rejected: 0, lastError: nil, resourceCount: 0)
        var lastNonce = ""
        /// While a handler runs, ``resources`` already holds the update it is judging; this
        /// restores the accepted state (name → previous value, newest last).
        var pendingUndo: [(name: String, previous: XDSResource?)]?

        /// The accepted resources (without an update a handler is still judging).
        var accepted: [String: XDSResource] {
            guard let pendingUndo, !pendingUndo.isEmpty else { return resources }
            var accepted = resources
            for (name, previous) in pendingUndo.reversed() { accepted[name] = previous }
            return accepted
        }
    }

    /// The configuration.
    public let configuration: XDSClientConfiguration
    var subscriptions: [String: Subscription] = [:]
    var deltaOut: AsyncStream<Envoy_Service_Discovery_V3_DeltaDiscoveryRequest>.Continuation?
    var sotwOut: AsyncStream<Envoy_Service_Discovery_V3_DiscoveryRequest>.Continuation?
    var failures = 0
    var connections = 0

    /// Events as the client runs (buffering the newest 1,000).
    public nonisolated let events: AsyncStream<XDSClientEvent>
    let eventSink: AsyncStream<XDSClientEvent>.Continuation

    /// Creates a client; call ``run()`` to connect.
    public init(configuration: XDSClientConfiguration) {
        self.configuration = configuration
        let (stream, sink) = AsyncStream<XDSClientEvent>.makeStream(bufferingPolicy: .bufferingNewest(1000))
        events = stream
        eventSink = sink
    }

    // MARK: Subscriptions

    /// Subscribes to `typeURL`: every resource (`names == nil`, wildcard) or the named ones.
    /// Calling it again for the same type replaces the names and handler.
    public func subscribe(typeURL: String, names: Set<String>? = nil, handler: @escaping Handler) {
        var subscription = subscriptions[typeURL]
            ?? Subscription(typeURL: typeURL, wildcard: names == nil, names: names ?? [], handler: handler)
        let oldNames = subscription.names
        let oldWildcard = subscription.wildcard
        subscription.wildcard = names == nil
        subscription.names = names ?? []
        subscription.handler = handler
        if !subscription.wildcard {
            // Names we no longer want are forgotten (no removal is sent for them).
            subscription.resources = subscription.resources.filter { subscription.names.contains($0.key) }
            subscription.pendingUndo = subscription.pendingUndo?.filter { subscription.names.contains($0.name) }
            subscription.status.resourceCount = subscription.resources.count
        }
        let isNew = subscriptions[typeURL] == nil
        subscriptions[typeURL] = subscription
        if isNew {
            deltaOut?.yield(initialDelta(subscription))
            sotwOut?.yield(sotwRequest(subscription))
        } else {
            var request = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
            request.typeURL = typeURL
            request.resourceNamesSubscribe = subscription.names.subtracting(oldNames).sorted()
                + (subscription.wildcard && !oldWildcard ? ["*"] : [])
            request.resourceNamesUnsubscribe = oldNames.subtracting(subscription.names).sorted()
                + (!subscription.wildcard && oldWildcard ? ["*"] : [])
            deltaOut?.yield(request)
            sotwOut?.yield(sotwRequest(subscription))
        }
    }

    /// Subscribes to messages of type `M`, decoded; a resource that does not decode is NACKed.
    ///
    /// - Parameters:
    ///   - type: the message type.
    ///   - typeURL: the type URL (defaults to `type.googleapis.com/` + `M`'s proto name).
    ///   - names: names to subscribe to; nil for wildcard.
    ///   - handler: receives the whole decoded state after the update and the raw update; throw
    ///     to reject.
    public func subscribe<M: SwiftProtobuf.Message>(
        _ type: M.Type, typeURL: String? = nil, names: Set<String>? = nil,
        handler: @escaping @Sendable (_ all: [String: M], _ update: XDSClientUpdate) async throws -> Void
    ) {
        subscribe(typeURL: typeURL ?? TypeURL.prefix + M.protoMessageName, names: names) { update in
            var decoded: [String: M] = [:]
            for (name, resource) in update.all {
                do {
                    decoded[name] = try M(serializedBytes: [UInt8](resource.any.value))
                } catch {
                    throw XDSRejection("resource \(name) is not a valid \(M.protoMessageName): \(error)")
                }
            }
            try await handler(decoded, update)
        }
    }

    /// Resources currently held for `typeURL`.
    public func resources(typeURL: String) -> [String: XDSResource] {
        subscriptions[typeURL]?.accepted ?? [:]
    }

    /// Progress of the subscription to `typeURL`.
    public func status(typeURL: String) -> XDSSubscriptionStatus? {
        subscriptions[typeURL]?.status
    }

    /// Streams opened so far.
    public var connectionCount: Int { connections }

    // MARK: Running

    /// Connects and keeps the stream up, reconnecting with backoff, until the task is cancelled.
    public func run() async throws {
        while !Task.isCancelled {
            var reason = "stream closed by server"
            do {
                switch configuration.mode {
                case .delta: try await runDelta()
                case .sotw: try await runSotW()
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                reason = "\(error)"
            }
            deltaOut = nil
            sotwOut = nil
            let delay = configuration.backoff.delay(attempt: failures)
            failures += 1
            eventSink.yield(.disconnected(reason: reason, retryIn: delay))
            try await Task.sleep(for: delay)
        }
    }

    /// The transport configuration the client connects with, for other ADS clients (e.g. load
    /// generators) too: gRPC's defaults without flush coalescing. A client writes one ACK per
    /// response, so holding flushes on a timer only delays it (see ``XDSServer/transportConfig``).
    public static var transportConfig: HTTP2ClientTransport.Posix.Config {
        var config = HTTP2ClientTransport.Posix.Config.defaults
        config.connection.flushCoalescing = nil
        return config
    }

    func transport() throws -> HTTP2ClientTransport.Posix {
        try HTTP2ClientTransport.Posix(
            target: .ipv4(host: configuration.host, port: configuration.port), transportSecurity: .plaintext,
            config: Self.transportConfig)
    }

    var callOptions: CallOptions {
        var options = CallOptions.defaults
        options.waitForReady = false
        return options
    }

    func opened() {
        connections += 1
        eventSink.yield(.connected(attempt: connections))
    }

    func ordered() -> [Subscription] {
        subscriptions.values.sorted { (TypeURL.rank($0.typeURL), $0.typeURL) < (TypeURL.rank($1.typeURL), $1.typeURL) }
    }

    func accepted(_ typeURL: String) {
        failures = 0
        _ = typeURL
    }
}
