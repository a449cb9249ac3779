import MeshAPI
import X509

/// What a caller presented: request metadata and, on an mTLS connection, its certificate chain.
public struct CallerCredentials: Sendable {
    /// Request metadata with lower-cased keys, in arrival order per key.
    public var metadata: [String: [String]]
    /// The client certificate chain of the connection, leaf first; empty without mTLS.
    public var peerCertificateChain: [Certificate]
    /// The transport's description of the peer, e.g. `ipv4:127.0.0.1:41234`.
    public var remotePeer: String

    /// Creates credentials.
    public init(metadata: [String: [String]] = [:], peerCertificateChain: [Certificate] = [], remotePeer: String = "") {
        var lowered: [String: [String]] = [:]
        for (key, values) in metadata { lowered[key.lowercased(), default: []].append(contentsOf: values) }
        self.metadata = lowered
        self.peerCertificateChain = peerCertificateChain
        self.remotePeer = remotePeer
    }

    /// The token of an `authorization: Bearer <token>` entry, if there is exactly one such entry.
    public var bearerToken: String? {
        guard let values = metadata[MeshCAConstants.authorizationMetadataKey], values.count == 1 else { return nil }
        let value = values[0]
        let prefix = "bearer "
        guard value.count > prefix.count, value.prefix(prefix.count).lowercased() == prefix else { return nil }
        let token = value.dropFirst(prefix.count).trimmingSpaces()
        return token.isEmpty ? nil : token
    }

    /// Whether an `authorization` entry is present at all (even a malformed one).
    public var hasAuthorizationMetadata: Bool { metadata[MeshCAConstants.authorizationMetadataKey] != nil }

    /// The `clusterid` metadata value.
    public var clusterID: String? { metadata[MeshCAConstants.clusterIDMetadataKey]?.first }

    /// The IP address of the peer, parsed from ``remotePeer`` (`ipv4:1.2.3.4:port`, `ipv6:[::1]:port`).
    public var remoteAddress: String? {
        if remotePeer.hasPrefix("ipv4:") {
            let rest = remotePeer.dropFirst(5)
            guard let colon = rest.lastIndex(of: ":") else { return String(rest) }
            return String(rest[..<colon])
        }
        if remotePeer.hasPrefix("ipv6:") {
            let rest = remotePeer.dropFirst(5)
            guard rest.hasPrefix("["), let close = rest.firstIndex(of: "]") else { return String(rest) }
            return String(rest[rest.index(after: rest.startIndex)..<close])
        }
        return nil
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        var slice = self[...]
        while slice.first == " " || slice.first == "\t" { slice = slice.dropFirst() }
        while slice.last == " " || slice.last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}

/// Who a caller was authenticated as.
public struct CallerIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The SPIFFE identity of the caller.
    public var identity: SpiffeID
    /// The caller's pod name, when the credential says (token claims).
    public var podName: String?
    /// The caller's pod UID, when the credential says.
    public var podUID: String?
    /// The node the caller runs on, when the credential says.
    public var nodeName: String?
    /// The IP address the call came from, when the transport says.
    public var remoteAddress: String?
    /// Which authenticator accepted the caller.
    public var authenticator: String

    /// Creates an identity.
    public init(
        identity: SpiffeID, podName: String? = nil, podUID: String? = nil, nodeName: String? = nil,
        remoteAddress: String? = nil, authenticator: String
    ) {
        self.identity = identity
        self.podName = podName
        self.podUID = podUID
        self.nodeName = nodeName
        self.remoteAddress = remoteAddress
        self.authenticator = authenticator
    }

    /// The caller's Kubernetes service account.
    public var serviceAccount: ServiceAccountRef {
        ServiceAccountRef(namespace: identity.namespace, name: identity.serviceAccount)
    }

    public var description: String { "\(identity) (via \(authenticator))" }
}

/// Why an authenticator rejected a credential that was present.
public struct AuthenticationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The authenticator that rejected it.
    public var authenticator: String
    /// What is wrong with the credential.
    public var reason: String

    /// Creates an error.
    public init(authenticator: String, reason: String) {
        self.authenticator = authenticator
        self.reason = reason
    }

    public var description: String { "\(authenticator): \(reason)" }
}

/// One way of authenticating a caller of the CA. Authenticators are tried in order; the first
/// that returns an identity wins.
public protocol CallerAuthenticator: Sendable {
    /// Short name used in errors and logs, e.g. `jwt` or `mtls`.
    var name: String { get }

    /// Authenticates the caller.
    /// - Returns: The identity, or nil when the caller presented no credential of this kind.
    /// - Throws: ``AuthenticationError`` when a credential of this kind is present but invalid.
    func authenticate(_ credentials: CallerCredentials) async throws(AuthenticationError) -> CallerIdentity?
}

/// Tries authenticators in order, as istiod does.
public struct AuthenticatorChain: Sendable {
    /// The authenticators, in the order they are tried.
    public var authenticators: [any CallerAuthenticator]

    /// Creates a chain.
    public init(_ authenticators: [any CallerAuthenticator]) {
        self.authenticators = authenticators
    }

    /// The first identity any authenticator returns.
    /// - Throws: the reasons of every authenticator, when none accepts the caller.
    public func authenticate(_ credentials: CallerCredentials) async throws(AuthenticationFailure) -> CallerIdentity {
        var errors: [AuthenticationError] = []
        for authenticator in authenticators {
            do {
                if var caller = try await authenticator.authenticate(credentials) {
                    if caller.remoteAddress == nil { caller.remoteAddress = credentials.remoteAddress }
                    return caller
                }
            } catch {
                errors.append(error)
            }
        }
        throw AuthenticationFailure(errors: errors)
    }
}

/// No authenticator accepted the caller.
public struct AuthenticationFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// Why each authenticator that saw a credential rejected it. Empty when no credential was presented.
    public var errors: [AuthenticationError]

    public var description: String {
        errors.isEmpty
            ? "no credential: send 'authorization: Bearer <token>' or connect with a client certificate"
            : errors.map(\.description).joined(separator: "; ")
    }
}
