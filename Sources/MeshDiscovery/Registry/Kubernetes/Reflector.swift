import Foundation
import Logging
import MeshAPI
import Metrics

/// Lists then watches one kind, keeping the model's copy of it current: resumes watches
/// from the last `resourceVersion` (advanced by bookmarks), re-lists on `410 Gone`, and
/// reconnects with backoff after errors.
struct Reflector: Sendable {
    let kind: KubernetesKind
    let client: KubernetesHTTPClient
    let objects: KubernetesObjects
    let source: String
    let backoff: Backoff
    let pageSize: Int
    let watchTimeoutSeconds: Int
    let logger: Logger
    let onSynced: @Sendable (KubernetesKind) -> Void
    let stats: ReflectorStats

    /// Runs until cancelled.
    func run(into model: MeshModel) async {
        var failures = 0
        var synced = false
        while !Task.isCancelled {
            let version: String
            do {
                version = try await list(into: model)
                failures = 0
                if !synced {
                    synced = true
                    onSynced(kind)
                }
            } catch KubernetesClientError.status(code: 404, _) {
                // The kind is not served (CRD not installed): nothing to sync; look again later.
                logger.warning("kind not served by the API server; treating it as empty", metadata: ["kind": "\(kind)"])
                model.replace([], source: source, groupKinds: [kind.groupKind])
                if !synced {
                    synced = true
                    onSynced(kind)
                }
                await sleep(backoff.maximum)
                continue
            } catch {
                if Task.isCancelled { return }
                logger.warning("list failed; retrying", metadata: ["kind": "\(kind)", "error": "\(error)"])
                stats.increment(\.listFailures)
                await sleep(backoff.delay(attempt: failures))
                failures += 1
                continue
            }
            var resourceVersion = version
            // Watch until the version expires.
            watching: while !Task.isCancelled {
                do {
                    try await watch(from: &resourceVersion, into: model)
                    failures = 0
                } catch KubernetesClientError.status(code: 410, _) {
                    stats.increment(\.relists)
                    logger.info("watch version expired (410); listing again", metadata: ["kind": "\(kind)"])
                    break watching
                } catch {
                    if Task.isCancelled { return }
                    stats.increment(\.watchFailures)
                    logger.info("watch broke; reconnecting", metadata: ["kind": "\(kind)", "error": "\(error)"])
                    await sleep(backoff.delay(attempt: failures))
                    failures += 1
                }
            }
        }
    }

    private func sleep(_ d: Duration) async {
        try? await Task.sleep(for: d)
    }

    /// Lists every page and replaces the model's copy of the kind; returns the list's version.
    private func list(into model: MeshModel) async throws -> String {
        var items: [JSONValue] = []
        var token: String?
        var version = ""
        repeat {
            var uri = "\(kind.path)?limit=\(pageSize)"
            if let token { uri += "&continue=\(Self.escape(token))" }
            let (status, body) = try await client.get(uri)
            if status == 410, token != nil {
                // The continue token expired: start over.
                items = []
                token = nil
                continue
            }
            guard status == 200 else { throw KubernetesClientError.status(code: status, body: String(decoding: body, as: UTF8.self)) }
            let page = try objects.decodeList(body)
            items += page.items
            token = page.continueToken
            version = page.resourceVersion
        } while token != nil
        let result = try objects.load(items)
        report(result)
        model.replace(result.resources.map(\.resource), source: source, groupKinds: [kind.groupKind])
        stats.increment(\.lists)
        logger.debug("listed", metadata: ["kind": "\(kind)", "items": "\(items.count)", "resourceVersion": "\(version)"])
        return version
    }

    private func report(_ result: LoadResult) {
        for error in result.errors {
            logger.error("object rejected; keeping its last good state", metadata: ["kind": "\(kind)", "error": "\(error.description)"])
        }
    }

    /// One watch request. Applies events as they arrive and advances `resourceVersion`;
    /// returns when the server ends the watch, throws on errors (status 410: list again).
    private func watch(from resourceVersion: inout String, into model: MeshModel) async throws {
        let uri = "\(kind.path)?watch=1&allowWatchBookmarks=true&timeoutSeconds=\(watchTimeoutSeconds)"
            + (resourceVersion.isEmpty ? "" : "&resourceVersion=\(Self.escape(resourceVersion))")
        var version = resourceVersion
        stats.increment(\.watches)
        defer { resourceVersion = version }
        try await client.stream(uri) { line in
            let event = try JSONDecoder().decode(JSONValue.self, from: line)
            guard let type = event["type"]?.stringValue, let object = event["object"] else {
                throw KubernetesClientError.protocolError("watch event without type or object")
            }
            switch type {
            case "ADDED", "MODIFIED":
                let result = try objects.load([object])
                report(result)
                if let r = result.resources.first { model.apply([.upsert(r.resource)], source: source) }
            case "DELETED":
                if let key = objects.key(object) { model.apply([.delete(key)], source: source) }
            case "BOOKMARK":
                stats.increment(\.bookmarks)
            case "ERROR":
                // A Status object; 410 means the version is too old.
                let code = object["code"].flatMap { if case .number(let n) = $0 { return Int(n) } else { return nil } }
                if code == 410 { throw KubernetesClientError.status(code: 410, body: "watch version expired") }
                throw KubernetesClientError.status(code: code ?? 500, body: object["message"]?.stringValue ?? "watch error")
            default:
                throw KubernetesClientError.protocolError("unknown watch event type \(type)")
            }
            if let v = KubernetesObjects.resourceVersion(object) { version = v }
        }
    }

    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }
}
