import Logging
import MeshAPI
import MeshL4
import MeshProto
import MeshXDS
import SwiftProtobuf
import Synchronization

/// What this ztunnel learned over xDS: the addresses (``ProxyState``) and the compiled L4
/// policies (inside ``authorizer``), each updated atomically per xDS response. A response that
/// does not decode or compile is rejected as a whole, so the last good state stays.
public final class ZtunnelState: Sendable {
    /// A reference to the lock, so the authorizer's lookup closure can share it.
    private final class Store: Sendable {
        let mutex: Mutex<ProxyState>
        init(_ state: ProxyState) { mutex = Mutex(state) }
    }

    private let store: Store
    private let synced = Mutex<Set<String>>([])
    /// The L4 authorization for inbound connections, reading destinations from this state.
    public let authorizer: L4Authorizer

    /// An empty state for `network`.
    public init(network: String = "", logger: Logger = Logger(label: "swiftmesh.ztunnel.authorization")) {
        let store = Store(ProxyState(network: network))
        self.store = store
        self.authorizer = L4Authorizer(
            destination: { ip in store.mutex.withLock { $0.workload(ip: ip) }.map(L4Destination.init(workload:)) },
            logger: logger)
    }

    /// The address state now (a copy; its storage is shared until either side changes).
    public var addresses: ProxyState { store.mutex.withLock { $0 } }

    /// Reads the address state under its lock (for lookups on the connection path).
    public func read<T: Sendable>(_ body: (borrowing ProxyState) -> T) -> T {
        store.mutex.withLock { body($0) }
    }

    /// Whether both ztunnel types (`Address`, `Authorization`) have been received at least once.
    public var isSynced: Bool {
        synced.withLock { $0.isSuperset(of: [TypeURL.workloadAddress, TypeURL.authorization]) }
    }

    /// Applies an `istio.workload.Address` update.
    /// - Throws: ``XDSRejection`` naming the resource that does not decode; nothing is applied then.
    public func applyAddresses(_ update: XDSClientUpdate) throws {
        var decoded: [(String, Istio_Workload_Address)] = []
        decoded.reserveCapacity(update.updated.count)
        for resource in update.updated {
            decoded.append((resource.name, try Self.decode(Istio_Workload_Address.self, resource)))
        }
        store.mutex.withLock { state in
            for name in update.removed { state.remove(name: name) }
            for (name, address) in decoded { state.apply(address, name: name) }
        }
        synced.withLock { _ = $0.insert(update.typeURL) }
    }

    /// Applies an `istio.security.Authorization` update.
    /// - Throws: ``XDSRejection`` naming the resource that does not decode or compile; nothing is
    ///   applied then.
    public func applyAuthorizations(_ update: XDSClientUpdate) throws {
        var compiled: [L4Policy] = []
        compiled.reserveCapacity(update.updated.count)
        for resource in update.updated {
            let message = try Self.decode(Istio_Security_Authorization.self, resource)
            do {
                compiled.append(try L4Policy(message))
            } catch {
                throw XDSRejection("authorization \(resource.name): \(error)")
            }
        }
        authorizer.update { policies in
            for name in update.removed { policies.remove(key: name) }
            for policy in compiled { policies.insert(policy) }
        }
        synced.withLock { _ = $0.insert(update.typeURL) }
    }

    private static func decode<M: SwiftProtobuf.Message>(_ type: M.Type, _ resource: XDSResource) throws -> M {
        do {
            return try M(serializedBytes: [UInt8](resource.any.value))
        } catch {
            throw XDSRejection("resource \(resource.name) is not a valid \(M.protoMessageName): \(error)")
        }
    }
}
