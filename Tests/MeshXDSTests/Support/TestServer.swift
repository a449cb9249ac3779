import Foundation
import Synchronization
@testable import MeshXDS

/// An ``XDSServer`` listening on 127.0.0.1 (port 0 unless given), stopped by `stop()`.
final class RunningServer: Sendable {
    let xds: XDSServer
    let port: Int
    let task: Task<Void, any Error>

    static func start(_ xds: XDSServer, port: Int = 0) async throws -> RunningServer {
        let bound = Mutex<Int?>(nil)
        let task = Task {
            try await xds.serve(host: "127.0.0.1", port: port) { p in bound.withLock { $0 = p } }
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let p = bound.withLock({ $0 }) { return RunningServer(xds: xds, port: p, task: task) }
            try await Task.sleep(for: .milliseconds(5))
        }
        task.cancel()
        throw TestFailure("xDS server did not start listening")
    }

    init(xds: XDSServer, port: Int, task: Task<Void, any Error>) {
        self.xds = xds
        self.port = port
        self.task = task
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body` with a started server and stops the server afterwards, also when `body` throws.
func withServer<T>(
    _ xds: XDSServer, port: Int = 0, _ body: (RunningServer) async throws -> T
) async throws -> T {
    let server = try await RunningServer.start(xds, port: port)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}
