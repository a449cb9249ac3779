import NIOCore
import Synchronization

/// The open channels of a listener (accepted connections, or the upstreams they relay to), so
/// that its owner can count them, drain them within a grace period, or close them.
///
/// Once ``stopAccepting()`` was called, ``add(_:)`` refuses new channels: a connection accepted
/// while the listener shuts down is closed instead of outliving the shutdown.
final class ChannelRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var accepting = true
    }

    private let state = Mutex(State())

    /// Registers `channel` until it closes; returns false (registering nothing) after
    /// ``stopAccepting()``.
    @discardableResult
    func add(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let added = state.withLock { state in
            guard state.accepting else { return false }
            state.channels[id] = channel
            return true
        }
        guard added else { return false }
        channel.closeFuture.whenComplete { [self] _ in
            _ = state.withLock { $0.channels.removeValue(forKey: id) }
        }
        return true
    }

    /// Refuses every later ``add(_:)``.
    func stopAccepting() {
        state.withLock { $0.accepting = false }
    }

    /// How many registered channels are still open.
    var count: Int { state.withLock { $0.channels.count } }

    /// The registered channels that are still open.
    var channels: [any Channel] { state.withLock { Array($0.channels.values) } }

    /// Waits until every channel registered now has closed, or `gracePeriod` passed; then
    /// closes the ones still open.
    func drain(gracePeriod: Duration) async {
        let open = channels
        guard !open.isEmpty else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for channel in open { try? await channel.closeFuture.get() }
            }
            group.addTask { try? await Task.sleep(for: gracePeriod) }
            await group.next()
            group.cancelAll()
            // Lets the waiting task finish when the grace period ran out first.
            await self.closeAll()
        }
    }

    /// Closes every registered channel now.
    func closeAll() async {
        for channel in channels { try? await channel.close() }
    }
}
