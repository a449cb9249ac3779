/// Decodes `Decodable` values from a ``ManifestNode`` tree, keeping positions.
///
/// Unlike Foundation's decoders it is strict about types in the way Kubernetes is (a quoted
/// `"8080"` is not an integer), reports every error with its field path and line, and
/// records fields the target type never asked for: those are unknown fields.
struct ManifestDecoder {
    /// A field present in the manifest that the type does not have.
    struct UnknownField {
        var path: FieldPath
        var line: Int
        var column: Int
    }

    /// Decodes `T` from `node`, returning the value and the unknown fields found.
    static func decode<T: Decodable>(_ type: T.Type, from node: ManifestNode, at path: [any CodingKey] = [])
        throws(ManifestDecodingError) -> (T, [UnknownField])
    {
        let state = DecoderState()
        let decoder = NodeDecoder(node: node, codingPath: path, state: state)
        do {
            let value = try decoder.decodeValue(T.self)
            return (value, state.unknownFields())
        } catch let error as ManifestDecodingError {
            throw error
        } catch let error as DecodingError {
            throw ManifestDecodingError(error, root: node, basePath: path)
        } catch {
            throw ManifestDecodingError(path: FieldPath(codingPath: path), line: node.line, column: node.column, message: "\(error)")
        }
    }
}

/// A value in a manifest that does not fit its field's type.
public struct ManifestDecodingError: Error, Sendable, CustomStringConvertible {
    public var path: FieldPath
    public var line: Int
    public var column: Int
    public var message: String

    public var description: String { "\(path): \(message)" }

    init(path: FieldPath, line: Int, column: Int, message: String) {
        self.path = path
        self.line = line
        self.column = column
        self.message = message
    }

    /// Wraps a `DecodingError` thrown by a type's own `init(from:)`.
    init(_ error: DecodingError, root: ManifestNode, basePath: [any CodingKey]) {
        let context: DecodingError.Context
        let message: String
        switch error {
        case .dataCorrupted(let c): context = c; message = c.debugDescription
        case .keyNotFound(let key, let c):
            context = DecodingError.Context(codingPath: c.codingPath + [key], debugDescription: c.debugDescription)
            message = "required field is missing"
        case .typeMismatch(_, let c): context = c; message = c.debugDescription
        case .valueNotFound(_, let c): context = c; message = c.debugDescription
        @unknown default: context = DecodingError.Context(codingPath: [], debugDescription: "\(error)"); message = "\(error)"
        }
        let full = FieldPath(codingPath: context.codingPath)
        let relative = FieldPath(Array(full.components.dropFirst(basePath.count)))
        self.path = full
        self.line = root.line(at: relative)
        self.column = root.node(at: relative)?.column ?? 0
        self.message = message
    }
}

/// Shared by every container of one decode: which mapping keys were asked for.
final class DecoderState {
    final class Mapping {
        let entries: [ManifestNode.Entry]
        let path: [any CodingKey]
        var asked: Set<String> = []
        var askedAll = false
        init(entries: [ManifestNode.Entry], path: [any CodingKey]) {
            self.entries = entries
            self.path = path
        }
    }

    private var order: [Mapping] = []
    private var byKey: [String: Mapping] = [:]

    /// Returns the bookkeeping for a mapping node; the same node decoded twice (a type that
    /// tries one shape then another) shares it, so a key asked either time counts.
    func mapping(for node: ManifestNode, entries: [ManifestNode.Entry], path: [any CodingKey]) -> Mapping {
        let key = "\(FieldPath(codingPath: path))@\(node.line):\(node.column)"
        if let existing = byKey[key] { return existing }
        let mapping = Mapping(entries: entries, path: path)
        byKey[key] = mapping
        order.append(mapping)
        return mapping
    }

    func unknownFields() -> [ManifestDecoder.UnknownField] {
        var result: [ManifestDecoder.UnknownField] = []
        for mapping in order where !mapping.askedAll {
            for entry in mapping.entries where !mapping.asked.contains(entry.key) {
                result.append(.init(path: FieldPath(codingPath: mapping.path)(entry.key), line: entry.line, column: entry.column))
            }
        }
        return result
    }
}

struct NodeDecoder: Decoder {
    let node: ManifestNode
    let codingPath: [any CodingKey]
    let state: DecoderState
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func mismatch(_ expected: String) -> ManifestDecodingError {
        ManifestDecodingError(path: FieldPath(codingPath: codingPath), line: node.line, column: node.column,
            message: "expected \(expected), found \(node.kindDescription)")
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .mapping(let entries) = node.value else { throw mismatch("a mapping") }
        let mapping = state.mapping(for: node, entries: entries, path: codingPath)
        return KeyedDecodingContainer(NodeKeyedContainer<Key>(decoder: self, entries: entries, mapping: mapping))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .sequence(let items) = node.value else { throw mismatch("a list") }
        return NodeUnkeyedContainer(decoder: self, items: items)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func child(_ node: ManifestNode, key: any CodingKey) -> NodeDecoder {
        NodeDecoder(node: node, codingPath: codingPath + [key], state: state)
    }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == JSONValue.self { return JSONValue(node) as! T }
        if T.self == String.self { return try decodeString() as! T }
        if T.self == Bool.self { return try decodeBool() as! T }
        if T.self == Int.self { return try decodeInteger(Int.self) as! T }
        if T.self == Int32.self { return try decodeInteger(Int32.self) as! T }
        if T.self == Int64.self { return try decodeInteger(Int64.self) as! T }
        if T.self == UInt32.self { return try decodeInteger(UInt32.self) as! T }
        if T.self == UInt16.self { return try decodeInteger(UInt16.self) as! T }
        if T.self == UInt64.self { return try decodeInteger(UInt64.self) as! T }
        if T.self == Double.self { return try decodeDouble() as! T }
        return try T(from: self)
    }

    func decodeString() throws(ManifestDecodingError) -> String {
        guard case .scalar(let s) = node.value, s.kind == .string else { throw mismatch("a string") }
        return s.text
    }

    func decodeBool() throws(ManifestDecodingError) -> Bool {
        guard case .scalar(let s) = node.value, s.kind == .bool else { throw mismatch("a boolean (true or false)") }
        switch s.text.lowercased() {
        case "true", "yes", "on": return true
        default: return false
        }
    }

    func decodeInteger<I: FixedWidthInteger>(_ type: I.Type) throws(ManifestDecodingError) -> I {
        guard case .scalar(let s) = node.value, s.kind == .int || s.kind == .float else { throw mismatch("an integer") }
        let text = s.text.replacingOccurrences(of: "_", with: "")
        if let value = I(text) { return value }
        if s.kind == .float, let d = Double(text), d.rounded() == d, let value = I(exactly: d) { return value }
        if s.kind == .int {
            throw ManifestDecodingError(path: FieldPath(codingPath: codingPath), line: node.line, column: node.column,
                message: "integer \(s.text) is out of range \(I.min)...\(I.max)")
        }
        throw mismatch("an integer")
    }

    func decodeDouble() throws(ManifestDecodingError) -> Double {
        guard case .scalar(let s) = node.value, s.kind == .int || s.kind == .float,
            let value = Double(s.text.replacingOccurrences(of: "_", with: ""))
        else { throw mismatch("a number") }
        return value
    }
}

extension NodeDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool {
        if case .scalar(let s) = node.value, s.kind == .null { return true }
        return false
    }
    func decode(_ type: Bool.Type) throws -> Bool { try decodeBool() }
    func decode(_ type: String.Type) throws -> String { try decodeString() }
    func decode(_ type: Double.Type) throws -> Double { try decodeDouble() }
    func decode(_ type: Float.Type) throws -> Float { Float(try decodeDouble()) }
    func decode(_ type: Int.Type) throws -> Int { try decodeInteger(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decodeInteger(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decodeInteger(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decodeInteger(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decodeInteger(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try decodeInteger(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeInteger(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeInteger(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeInteger(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeInteger(UInt64.self) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(T.self) }
}

struct NodeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: NodeDecoder
    let entries: [ManifestNode.Entry]
    let mapping: DecoderState.Mapping

    var codingPath: [any CodingKey] { decoder.codingPath }

    var allKeys: [Key] {
        mapping.askedAll = true
        return entries.compactMap { Key(stringValue: $0.key) }
    }

    func contains(_ key: Key) -> Bool {
        mapping.asked.insert(key.stringValue)
        return entries.contains { $0.key == key.stringValue }
    }

    private func entry(_ key: Key) throws -> ManifestNode {
        mapping.asked.insert(key.stringValue)
        guard let entry = entries.last(where: { $0.key == key.stringValue }) else {
            let node = decoder.node
            throw ManifestDecodingError(path: FieldPath(codingPath: codingPath + [key]), line: node.line, column: node.column,
                message: "required field is missing")
        }
        return entry.value
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        let node = try entry(key)
        if case .scalar(let s) = node.value, s.kind == .null { return true }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decoder.child(try entry(key), key: key).decodeValue(T.self)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard contains(key) else { return nil }
        let node = try entry(key)
        if case .scalar(let s) = node.value, s.kind == .null { return nil }
        return try decoder.child(node, key: key).decodeValue(T.self)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try decoder.child(try entry(key), key: key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder.child(try entry(key), key: key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder { decoder.child(try entry(key), key: key) }
}

struct NodeUnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: NodeDecoder
    let items: [ManifestNode]
    var currentIndex = 0

    init(decoder: NodeDecoder, items: [ManifestNode]) {
        self.decoder = decoder
        self.items = items
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private mutating func next() throws -> NodeDecoder {
        guard !isAtEnd else {
            throw ManifestDecodingError(path: FieldPath(codingPath: codingPath), line: decoder.node.line,
                column: decoder.node.column, message: "list has too few items")
        }
        defer { currentIndex += 1 }
        return decoder.child(items[currentIndex], key: IndexKey(currentIndex))
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return false }
        if case .scalar(let s) = items[currentIndex].value, s.kind == .null {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(T.self) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    { try next().container(keyedBy: type) }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }

    mutating func superDecoder() throws -> any Decoder { try next() }
}
