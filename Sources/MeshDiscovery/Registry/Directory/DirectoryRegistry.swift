import Foundation
import Logging
import MeshAPI
import Metrics
import Synchronization

/// A directory of manifests (`.yaml`, `.yml`, `.json`, recursively), loaded with MeshAPI and
/// watched by polling.
///
/// Each reload is atomic: the model receives the whole new state of the directory in one
/// change. A file that no longer reads, parses or validates keeps the resources of its last
/// good version; the error is logged with its path and counted
/// (`mesh_discovery_manifest_errors_total`) and the file shows in ``status``; fixing the
/// file applies it. A deleted file takes its resources with it. When two files define the
/// same resource, the first in path order wins.
///
/// Pods written in manifests carry `status.podIP`, `spec.nodeName` and `status.hostIP`:
/// that is how a local mesh says where its workloads run.
public final class DirectoryRegistry: MeshRegistry {
    public let name: String
    public let path: String
    public let pollInterval: Duration
    private let loader: ManifestLoader
    private let logger: Logger
    private let errorCounter: Counter
    private let reloadCounter: Counter
    private let state = Mutex(State())

    /// What the registry knows about each file.
    struct FileState {
        var modification: Date?
        var size: Int
        var inode: Int
        var contents: Data
        /// Resources of the last version that loaded without errors.
        var resources: [AnyResource]
        /// Errors of the current version, when it does not load.
        var errors: [Diagnostic]
    }

    struct State {
        var files: [String: FileState] = [:]
        var reloads = 0
        var errorCount = 0
    }

    /// What the last scans found.
    public struct Status: Sendable {
        /// Files whose current version fails to load, with the errors; they keep their last good resources.
        public var failingFiles: [String: [Diagnostic]]
        /// Number of reloads that changed something.
        public var reloads: Int
        /// Number of file versions that failed to load.
        public var errorCount: Int
        /// Files being watched.
        public var files: [String]
    }

    /// - Parameters:
    ///   - path: the directory (or a single file).
    ///   - pollInterval: how often the directory is compared with what was loaded.
    public init(
        path: String, name: String? = nil, pollInterval: Duration = .milliseconds(500),
        loaderOptions: ManifestLoader.Options = ManifestLoader.Options(),
        logger: Logger = Logger(label: "swiftmesh.discovery.directory")
    ) {
        self.path = path
        self.name = name ?? "directory:\(path)"
        self.pollInterval = pollInterval
        loader = ManifestLoader(options: loaderOptions)
        self.logger = logger
        errorCounter = Counter(label: "mesh_discovery_manifest_errors_total", dimensions: [("registry", self.name)])
        reloadCounter = Counter(label: "mesh_discovery_directory_reloads_total", dimensions: [("registry", self.name)])
    }

    public var status: Status {
        state.withLock { s in
            Status(
                failingFiles: s.files.filter { !$0.value.errors.isEmpty }.mapValues(\.errors), reloads: s.reloads,
                errorCount: s.errorCount, files: s.files.keys.sorted())
        }
    }

    /// Loads, marks the source synced, then polls until the task is cancelled.
    public func run(into model: MeshModel) async throws {
        model.register(source: name)
        sync(into: model, force: true)
        model.markSynced(source: name)
        while true {
            do { try await Task.sleep(for: pollInterval) } catch { return }
            sync(into: model)
        }
    }

    /// Compares the directory with what was loaded and applies any difference to `model`
    /// at once. Returns whether anything changed. Safe to call from tests for a
    /// deterministic reload.
    @discardableResult
    public func sync(into model: MeshModel, force: Bool = false) -> Bool {
        state.withLock { s in
            guard scan(&s) || force else { return false }
            s.reloads += 1
            reloadCounter.increment()
            var seen = Set<ResourceKey>()
            var all: [AnyResource] = []
            for file in s.files.keys.sorted() {
                for r in s.files[file]!.resources {
                    let key = ResourceKey(r)
                    if seen.insert(key).inserted {
                        all.append(r)
                    } else {
                        logger.warning("resource defined twice; the first definition wins", metadata: ["file": "\(file)", "resource": "\(key)"])
                    }
                }
            }
            model.replace(all, source: name)
            return true
        }
    }

    /// Updates `s.files` from disk; true when something that affects the model changed.
    private func scan(_ s: inout State) -> Bool {
        let files: [String]
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
            files = [path]
        } else {
            do {
                files = try ManifestLoader.manifestFiles(under: path)
            } catch {
                logger.error("cannot list manifests; keeping what was loaded", metadata: ["path": "\(path)", "error": "\(error)"])
                return false
            }
        }
        var changed = false
        let present = Set(files)
        for file in s.files.keys where !present.contains(file) {
            let removed = s.files.removeValue(forKey: file)!
            logger.info("manifest removed", metadata: ["file": "\(file)"])
            changed = changed || !removed.resources.isEmpty
        }
        for file in files {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: file) else { continue }
            let modification = attributes[.modificationDate] as? Date
            let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
            let inode = (attributes[.systemFileNumber] as? NSNumber)?.intValue ?? 0
            if let old = s.files[file], old.modification == modification, old.size == size, old.inode == inode { continue }
            guard let data = FileManager.default.contents(atPath: file) else {
                logger.error("cannot read manifest; keeping its last good state", metadata: ["file": "\(file)"])
                continue
            }
            if var old = s.files[file], old.contents == data {
                old.modification = modification
                old.size = size
                old.inode = inode
                s.files[file] = old
                continue
            }
            changed = load(file, data: data, modification: modification, size: size, inode: inode, &s) || changed
        }
        return changed
    }

    private func load(_ file: String, data: Data, modification: Date?, size: Int, inode: Int, _ s: inout State) -> Bool {
        let previous = s.files[file]
        var entry = FileState(
            modification: modification, size: size, inode: inode, contents: data, resources: previous?.resources ?? [], errors: [])
        let result: LoadResult
        if data.count > ManifestLoader.maximumFileSize {
            result = LoadResult(diagnostics: [Diagnostic(file: file, document: 1, line: 0, path: "",
                message: "file is larger than \(ManifestLoader.maximumFileSize) bytes", severity: .error)])
        } else if let text = String(data: data, encoding: .utf8) {
            result = loader.load(text: text, file: file, json: file.lowercased().hasSuffix(".json") ? true : nil)
        } else {
            result = LoadResult(diagnostics: [Diagnostic(file: file, document: 1, line: 0, path: "",
                message: "file is not valid UTF-8 text", severity: .error)])
        }
        for warning in result.warnings { logger.notice("\(warning.description)", metadata: ["file": "\(file)"]) }
        if result.hasErrors {
            entry.errors = result.errors
            s.errorCount += 1
            errorCounter.increment()
            for error in result.errors {
                logger.error("manifest rejected; keeping its last good state", metadata: ["file": "\(file)", "error": "\(error.description)"])
            }
            s.files[file] = entry
            return false
        }
        entry.resources = result.resources.map(\.resource)
        s.files[file] = entry
        logger.info("manifest loaded", metadata: ["file": "\(file)", "resources": "\(entry.resources.count)"])
        return entry.resources != (previous?.resources ?? []) || previous == nil
    }
}
