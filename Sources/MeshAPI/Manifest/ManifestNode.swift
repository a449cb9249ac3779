/// A parsed YAML or JSON value with the position it came from.
///
/// Manifests are decoded from this tree rather than from raw text so that every error,
/// from a wrong type to a failed validation rule, can name the line it points at.
public struct ManifestNode: Sendable, Hashable {
    /// What the node holds.
    public enum Value: Sendable, Hashable {
        case scalar(Scalar)
        case mapping([Entry])
        case sequence([ManifestNode])
    }

    /// The kind a plain scalar resolves to under YAML's core schema.
    public enum ScalarKind: Sendable, Hashable {
        case string, int, float, bool, null
    }

    /// A leaf value: its text as written and the type it resolves to.
    public struct Scalar: Sendable, Hashable {
        public var text: String
        public var kind: ScalarKind
        public init(text: String, kind: ScalarKind) {
            self.text = text
            self.kind = kind
        }
    }

    /// One key of a mapping, with the position of the key itself.
    public struct Entry: Sendable, Hashable {
        public var key: String
        public var line: Int
        public var column: Int
        public var value: ManifestNode
        public init(key: String, line: Int, column: Int, value: ManifestNode) {
            self.key = key
            self.line = line
            self.column = column
            self.value = value
        }
    }

    public var value: Value
    /// 1-based line in the file (not in the document).
    public var line: Int
    /// 1-based column.
    public var column: Int

    public init(_ value: Value, line: Int, column: Int) {
        self.value = value
        self.line = line
        self.column = column
    }

    /// The entry for `key` when this node is a mapping.
    public subscript(key: String) -> ManifestNode? {
        guard case .mapping(let entries) = value else { return nil }
        return entries.last(where: { $0.key == key })?.value
    }

    /// The string of a scalar node that resolves to a string.
    public var string: String? {
        if case .scalar(let s) = value, s.kind == .string { return s.text }
        return nil
    }

    /// A short name of what the node is, for error messages ("a mapping", "an integer").
    public var kindDescription: String {
        switch value {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let s):
            switch s.kind {
            case .string: return "a string"
            case .int: return "an integer"
            case .float: return "a number"
            case .bool: return "a boolean"
            case .null: return "null"
            }
        }
    }

    /// The node at a field path (e.g. `spec.http[0].route`), or nil.
    public func node(at path: FieldPath) -> ManifestNode? {
        var current = self
        for component in path.components {
            switch (component, current.value) {
            case (.key(let k), .mapping):
                guard let next = current[k] else { return nil }
                current = next
            case (.index(let i), .sequence(let items)):
                guard items.indices.contains(i) else { return nil }
                current = items[i]
            default:
                return nil
            }
        }
        return current
    }

    /// The line of the deepest node along `path` that exists: the field itself, or the
    /// nearest enclosing one when the field is missing. For a mapping key, the key's line.
    public func line(at path: FieldPath) -> Int {
        var current = self
        var line = self.line
        for component in path.components {
            switch (component, current.value) {
            case (.key(let k), .mapping(let entries)):
                guard let entry = entries.last(where: { $0.key == k }) else { return line }
                line = entry.line
                current = entry.value
            case (.index(let i), .sequence(let items)):
                guard items.indices.contains(i) else { return line }
                current = items[i]
                line = current.line
            default:
                return line
            }
        }
        return line
    }
}
