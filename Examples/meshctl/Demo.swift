import ArgumentParser
import Crypto
import Foundation
import MeshAPI
import MeshCA
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `meshctl demo`: an ambient mesh on loopback — istiod, one ztunnel per node, the sample apps —
/// traffic through it, a DENY policy applied and removed, then a clean shutdown.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the local ambient mesh demo (no root, loopback only).",
        discussion: """
            Starts istiod, a ztunnel per node of the demo manifests (nodes are loopback \
            addresses) and the sample apps, sends calls through the mesh and prints each: \
            source → destination, identities, mTLS, policy decision and latency. Then applies \
            steps/deny-client.yaml, shows the same calls refused, removes it and shows them \
            allowed again. Exits 0 when every call had the expected outcome.
            """)

    @Option(help: "Directory of the demo manifests (with a steps/ subdirectory).")
    var manifests = "Examples/demo"
    @Flag(help: "Leave the mesh running after the demo and print how to send traffic through it.")
    var keepRunning = false
    @Option(help: "Seconds to wait for a policy change to take effect.")
    var policyTimeout = 10.0

    func run() async throws {
        unblockTerminationSignals()
        let topology = try DemoTopology(manifests: try locate(manifests))
        let mesh = try DemoMesh(topology: topology)
        let interrupt = InterruptWatcher(onInterrupt: { _ = mesh.stopAll() })
        defer {
            interrupt.cancel()
            _ = mesh.stopAll()
        }
        say("SwiftMesh demo — scratch directory \(mesh.scratch.path)")
        try await mesh.start()
        say("")

        var ok = true
        ok = await report(title: "1. Calls through the mesh (policy: \(topology.policyNames.joined(separator: ", ")))",
            mesh: mesh, expect: .allow) && ok

        let deny = try mesh.applyStep("deny-client.yaml")
        let denyTime = await mesh.waitFor(.deny, timeout: policyTimeout)
        say("Applied \(deny) — enforced by ztunnel after \(denyTime.map { String(format: "%.2f s", $0) } ?? "(not within \(policyTimeout) s)")")
        ok = denyTime != nil && ok
        ok = await report(title: "2. The same calls with \(deny)", mesh: mesh, expect: .deny) && ok

        try mesh.removeStep("deny-client.yaml")
        let allowTime = await mesh.waitFor(.allow, timeout: policyTimeout)
        say("Removed \(deny) — traffic restored after \(allowTime.map { String(format: "%.2f s", $0) } ?? "(not within \(policyTimeout) s)")")
        ok = allowTime != nil && ok
        say("")

        if keepRunning {
            say(mesh.keepRunningHelp())
            await interrupt.wait()
        }
        say("Shutting down: \(mesh.stopAll())")
        say(ok ? "Demo OK: every call had the expected outcome." : "Demo FAILED: see the calls above and the logs in \(mesh.scratch.path)/logs.")
        if !ok { throw ExitCode(1) }
    }

    private func report(title: String, mesh: DemoMesh, expect: DemoCall.Decision) async -> Bool {
        say(title)
        let results = await mesh.callAll()
        say(DemoCall.table(results))
        let good = results.allSatisfy { $0.decision == expect }
        say(good ? "   every call: \(expect.rawValue) as expected\n" : "   UNEXPECTED: wanted \(expect.rawValue) for every call\n")
        return good
    }

    private func locate(_ path: String) throws -> URL {
        let direct = URL(fileURLWithPath: path)
        if FileManager.default.fileExists(atPath: direct.path) { return direct }
        // `swift run` from elsewhere: the package root is above .build/<config>/meshctl.
        let fromBinary = DemoMesh.binaryDirectory.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(path)
        if FileManager.default.fileExists(atPath: fromBinary.path) { return fromBinary }
        throw ValidationError("--manifests \(path): no such directory")
    }
}

/// Watches SIGINT/SIGTERM: while ``wait()`` is waiting (`--keep-running`) a signal ends the
/// wait; at any other time it stops the demo's processes and exits, so none is left behind.
final class InterruptWatcher {
    private let sources: [any DispatchSourceSignal]
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    private let waiting = Flag()

    final class Flag: Sendable {
        let value = Atomic<Bool>(false)
    }

    init(onInterrupt: @escaping @Sendable () -> Void) {
        (stream, continuation) = AsyncStream<Void>.makeStream()
        let continuation = continuation
        let waiting = waiting
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if waiting.value.load(ordering: .relaxed) {
                    continuation.yield()
                } else {
                    onInterrupt()
                    exit(130)
                }
            }
            source.resume()
            return source
        }
    }

    func wait() async {
        waiting.value.store(true, ordering: .relaxed)
        for await _ in stream { return }
    }

    func cancel() {
        for source in sources { source.cancel() }
        continuation.finish()
    }
}

/// A parent may start us with SIGTERM/SIGINT blocked (a test runner); our children inherit the mask.
func unblockTerminationSignals() {
    #if canImport(Glibc)
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGTERM)
    sigaddset(&set, SIGINT)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
    #endif
}

/// Prints a line and flushes it at once, also into a pipe or file (scripts wait for lines).
func say(_ text: String) {
    print(text)
    fflush(nil)
}
