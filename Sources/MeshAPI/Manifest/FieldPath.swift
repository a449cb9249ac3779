/// A path to a field inside a resource, printed as Istio and `kubectl` print them:
/// `spec.http[0].route[1].weight`.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// One step of a path.
    public enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    public var components: [Component]

    public init(_ components: [Component] = []) {
        self.components = components
    }

    /// Parses a dotted path such as `spec.http[0].route`. Keys may not contain `.` or `[`.
    public init(stringLiteral value: String) {
        var result: [Component] = []
        for part in value.split(separator: ".") {
            var rest = Substring(part)
            if let bracket = rest.firstIndex(of: "[") {
                let key = rest[..<bracket]
                if !key.isEmpty { result.append(.key(String(key))) }
                rest = rest[bracket...]
                while rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                    if let index = Int(rest[rest.index(after: rest.startIndex)..<close]) {
                        result.append(.index(index))
                    }
                    rest = rest[rest.index(after: close)...]
                }
            } else {
                result.append(.key(String(rest)))
            }
        }
        components = result
    }

    /// The root of a resource (an empty path).
    public static let root = FieldPath()

    /// This path followed by a key.
    public func callAsFunction(_ key: String) -> FieldPath {
        FieldPath(components + [.key(key)])
    }

    /// This path followed by a list index.
    public subscript(index: Int) -> FieldPath {
        FieldPath(components + [.index(index)])
    }

    /// The last component when it is a key.
    public var lastKey: String? {
        if case .key(let k)? = components.last { return k }
        return nil
    }

    public var description: String {
        var out = ""
        for component in components {
            switch component {
            case .key(let k):
                if !out.isEmpty { out += "." }
                out += k
            case .index(let i):
                out += "[\(i)]"
            }
        }
        return out
    }

    /// Builds a path from a Codable coding path.
    public init(codingPath: [any CodingKey]) {
        components = codingPath.map { key in
            if let index = key.intValue, key.stringValue.hasPrefix("Index ") || key is IndexKey {
                return .index(index)
            }
            return .key(key.stringValue)
        }
    }
}

/// The coding key the manifest decoder uses for list elements.
struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { return nil }
}
