import Foundation
import Synchronization
import Yams

/// Splits manifest text into documents and parses each into a ``ManifestNode``.
///
/// Documents are split on `---` lines before parsing, so a syntax error in one document
/// does not hide the others, and every position is reported as a line of the whole file.
enum YAMLReader {
    /// One document of a stream: its 1-based number and either a tree or a syntax error.
    struct Document {
        var number: Int
        var result: Result<ManifestNode, SyntaxError>
    }

    /// A document that could not be parsed.
    struct SyntaxError: Error {
        var line: Int
        var column: Int
        var message: String
    }

    /// Deeper nesting than this is refused before parsing: no real manifest comes close,
    /// and the recursive tree builders must not run out of stack on hostile input.
    static let maximumDepth = 200
    /// More nodes than this in one document (after expanding aliases) is refused.
    static let maximumNodes = 2_000_000

    private static let parseLock = Mutex(())

    /// Reads every non-empty document of `text`.
    static func documents(in text: String, json: Bool) -> [Document] {
        let chunks = json ? [(text.replacingOccurrences(of: "\t", with: " "), 0)] : split(text)
        var documents: [Document] = []
        for (chunk, offset) in chunks where !isBlank(chunk) {
            let number = documents.count + 1
            // Yams resolves scalar tags with shared NSRegularExpression instances; a crash seen
            // once under parallel parsing points at that, so parsing is serialised.
            let result = parseLock.withLock { _ in parse(chunk, lineOffset: offset) }
            documents.append(Document(number: number, result: result))
        }
        return documents
    }

    /// Splits on lines that start with `---` or `...`; returns each chunk with the number of
    /// file lines before it. A `---` line's own content stays with the next document.
    static func split(_ text: String) -> [(String, Int)] {
        var chunks: [(String, Int)] = []
        var current: [Substring] = []
        var start = 0
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            defer { lineNumber += 1 }
            let marker = isMarker(line, "---") ? 1 : (isMarker(line, "...") ? 2 : 0)
            if marker == 0 {
                current.append(line)
                continue
            }
            chunks.append((current.joined(separator: "\n"), start))
            start = lineNumber
            // Keep the rest of a `--- {...}` line at its column, on the chunk's first line.
            current = marker == 1 ? [Substring("   " + line.dropFirst(3))] : [Substring("")]
        }
        chunks.append((current.joined(separator: "\n"), start))
        return chunks
    }

    private static func isMarker(_ line: Substring, _ marker: String) -> Bool {
        guard line.hasPrefix(marker) else { return false }
        let rest = line.dropFirst(3)
        return rest.isEmpty || rest.first == " " || rest.first == "\t" || rest.first == "\r"
    }

    private static func isBlank(_ chunk: String) -> Bool {
        for line in chunk.split(separator: "\n") {
            let trimmed = line.drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if !trimmed.isEmpty, !trimmed.hasPrefix("#"), !trimmed.hasPrefix("%") { return false }
        }
        return true
    }

    private static func parse(_ chunk: String, lineOffset: Int) -> Result<ManifestNode, SyntaxError> {
        if let tooDeep = depthProblem(chunk) {
            return .failure(SyntaxError(line: tooDeep + lineOffset, column: 1,
                message: "nesting is deeper than \(maximumDepth) levels"))
        }
        do {
            let parser = try Parser(yaml: chunk)
            guard let root = try parser.singleRoot() else {
                return .failure(SyntaxError(line: lineOffset + 1, column: 1, message: "empty document"))
            }
            // Without aliases a document has fewer values than bytes, so this only stops
            // documents that expand through aliases far beyond their size.
            var budget = min(maximumNodes, chunk.utf8.count * 4 + 10_000)
            return .success(try convert(root, lineOffset: lineOffset, budget: &budget))
        } catch let error as SyntaxError {
            return .failure(error)
        } catch let error as YamlError {
            if case .duplicatedKeysInMapping(let keys, let context) = error {
                return .failure(duplicateKeyError(keys, from: context.mark.line, in: chunk, lineOffset: lineOffset))
            }
            return .failure(syntaxError(error, lineOffset: lineOffset))
        } catch {
            return .failure(SyntaxError(line: lineOffset + 1, column: 0, message: "\(error)"))
        }
    }

    /// Yams reports duplicate keys at the mapping; point at the second occurrence instead.
    private static func duplicateKeyError(_ keys: [String], from mappingLine: Int, in chunk: String, lineOffset: Int)
        -> SyntaxError
    {
        let key = keys.sorted().first ?? ""
        var seen = 0
        for (index, line) in chunk.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where index + 1 >= mappingLine {
            let trimmed = line.drop(while: { $0 == " " || $0 == "-" })
            if trimmed.hasPrefix("\(key):") || trimmed.hasPrefix("\"\(key)\":") {
                seen += 1
                if seen == 2 {
                    return SyntaxError(line: index + 1 + lineOffset, column: line.count - trimmed.count + 1,
                        message: "duplicate key \"\(key)\"")
                }
            }
        }
        return SyntaxError(line: mappingLine + lineOffset, column: 0, message: "duplicate key \"\(key)\" in this mapping")
    }

    private static func syntaxError(_ error: YamlError, lineOffset: Int) -> SyntaxError {
        func describe(_ context: YamlError.Context?, _ problem: String) -> String {
            guard let context else { return problem }
            return "\(problem) (\(context.text))"
        }
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return SyntaxError(line: mark.line + lineOffset, column: mark.column,
                message: "invalid YAML: \(describe(context, problem))")
        case .reader(let problem, _, _, _):
            return SyntaxError(line: lineOffset + 1, column: 0, message: "invalid YAML: \(problem)")
        default:
            return SyntaxError(line: lineOffset + 1, column: 0, message: "invalid YAML: \(error)")
        }
    }

    /// A cheap upper bound on nesting: open flow brackets plus indentation levels plus
    /// compact `- ` items on a line. Returns the 1-based line where the bound is exceeded.
    private static func depthProblem(_ chunk: String) -> Int? {
        var indents: [Int] = []
        var flow = 0
        var lineNumber = 0
        for line in chunk.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            var indent = 0
            var dashes = 0
            var index = line.startIndex
            while index < line.endIndex, line[index] == UInt8(ascii: " ") { indent += 1; index = line.index(after: index) }
            if index == line.endIndex || line[index] == UInt8(ascii: "#") { continue }
            while let top = indents.last, top >= indent { indents.removeLast() }
            indents.append(indent)
            var quote: UInt8? = nil
            var previous: UInt8 = UInt8(ascii: " ")
            while index < line.endIndex {
                let byte = line[index]
                if let q = quote {
                    if byte == q { quote = nil }
                } else {
                    switch byte {
                    case UInt8(ascii: "\""), UInt8(ascii: "'"): quote = byte
                    case UInt8(ascii: "["), UInt8(ascii: "{"): flow += 1
                    case UInt8(ascii: "]"), UInt8(ascii: "}"): flow = max(0, flow - 1)
                    case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"):
                        if previous == UInt8(ascii: " ") { dashes += 1 }
                    default: break
                    }
                }
                previous = byte
                index = line.index(after: index)
            }
            if 2 * indents.count + dashes + flow > maximumDepth { return lineNumber }
        }
        return nil
    }

    private static func convert(_ node: Node, lineOffset: Int, budget: inout Int) throws -> ManifestNode {
        budget -= 1
        let line = (node.mark?.line ?? 1) + lineOffset
        let column = node.mark?.column ?? 1
        if budget < 0 {
            throw SyntaxError(line: line, column: column,
                message: "document expands through aliases to more values than it could hold; aliases nested this deeply are refused")
        }
        switch node {
        case .scalar(let scalar):
            return ManifestNode(.scalar(.init(text: scalar.string, kind: kind(of: node, scalar))), line: line, column: column)
        case .alias(let alias):
            // Yams resolves aliases while composing; an unresolved one has no value.
            throw SyntaxError(line: line, column: column, message: "unresolved alias *\(alias.anchor.rawValue)")
        case .sequence(let sequence):
            var items: [ManifestNode] = []
            items.reserveCapacity(sequence.count)
            for item in sequence {
                items.append(try convert(item, lineOffset: lineOffset, budget: &budget))
            }
            return ManifestNode(.sequence(items), line: line, column: column)
        case .mapping(let mapping):
            var entries: [ManifestNode.Entry] = []
            entries.reserveCapacity(mapping.count)
            for (key, value) in mapping {
                let keyLine = (key.mark?.line ?? line - lineOffset) + lineOffset
                let keyColumn = key.mark?.column ?? column
                guard let keyText = key.scalar?.string else {
                    throw SyntaxError(line: keyLine, column: keyColumn, message: "mapping keys must be plain values, not lists or mappings")
                }
                if keyText == "<<", key.tag.rawValue == Tag.Name.merge.rawValue {
                    throw SyntaxError(line: keyLine, column: keyColumn, message: "YAML merge keys (<<) are not supported in manifests")
                }
                if entries.contains(where: { $0.key == keyText }) {
                    throw SyntaxError(line: keyLine, column: keyColumn, message: "duplicate key \"\(keyText)\"")
                }
                entries.append(.init(key: keyText, line: keyLine, column: keyColumn,
                    value: try convert(value, lineOffset: lineOffset, budget: &budget)))
            }
            return ManifestNode(.mapping(entries), line: line, column: column)
        }
    }

    private static func kind(of node: Node, _ scalar: Node.Scalar) -> ManifestNode.ScalarKind {
        switch node.tag.rawValue {
        case Tag.Name.int.rawValue: return .int
        case Tag.Name.float.rawValue: return .float
        case Tag.Name.bool.rawValue: return .bool
        case Tag.Name.null.rawValue: return .null
        default: return .string
        }
    }
}
