import Foundation
import MeshAPI

/// Turns API server JSON into loaded resources.
struct KubernetesObjects {
    let kind: KubernetesKind
    let loader: ManifestLoader

    /// A list response: `{kind: XList, metadata: {resourceVersion, continue}, items: [...]}`.
    struct ListPage {
        var items: [JSONValue]
        var resourceVersion: String
        var continueToken: String?
    }

    func decodeList(_ data: Data) throws -> ListPage {
        let value = try JSONDecoder().decode(JSONValue.self, from: data)
        let items: [JSONValue]
        switch value["items"] {
        case nil, .null?: items = []
        case .array(let a)?: items = a
        default: throw KubernetesClientError.protocolError("\(kind.resource) list: items is not an array")
        }
        let metadata = value["metadata"]
        let token = metadata?["continue"]?.stringValue
        return ListPage(
            items: items, resourceVersion: metadata?["resourceVersion"]?.stringValue ?? "",
            continueToken: token?.isEmpty == false ? token : nil)
    }

    /// The object with `apiVersion` and `kind` set (list items omit them).
    func withType(_ object: JSONValue) -> JSONValue {
        guard case .object(let pairs) = object else { return object }
        let rest = pairs.filter { $0.key != "apiVersion" && $0.key != "kind" }
        return .object([("apiVersion", .string(kind.apiVersion)), ("kind", .string(kind.kind))] + rest)
    }

    /// Loads objects as MeshAPI resources; objects with errors are reported in `diagnostics`.
    func load(_ objects: [JSONValue]) throws -> LoadResult {
        guard !objects.isEmpty else { return LoadResult() }
        let list = JSONValue.object([("apiVersion", .string("v1")), ("kind", .string("List")), ("items", .array(objects.map(withType)))])
        let text = String(decoding: try JSONEncoder().encode(list), as: UTF8.self)
        return loader.load(text: text, file: kind.path, json: true)
    }

    /// The key of an object from its metadata alone (for deletions).
    func key(_ object: JSONValue) -> ResourceKey? {
        guard let name = object["metadata"]?["name"]?.stringValue else { return nil }
        return ResourceKey(group: kind.group, kind: kind.kind, namespace: object["metadata"]?["namespace"]?.stringValue ?? "", name: name)
    }

    static func resourceVersion(_ object: JSONValue?) -> String? { object?["metadata"]?["resourceVersion"]?.stringValue }
}
