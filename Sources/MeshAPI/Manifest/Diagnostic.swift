/// One finding about a manifest: an error (the resource is not valid) or a warning.
///
/// Printed as `file.yaml:12: document 2: spec.rules[0].from[0].source.principals[1]: message`.
public struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible, Error {
    /// How serious a finding is.
    public enum Severity: String, Sendable, Hashable, Codable {
        case error, warning
    }

    /// The file, or `<string>` for text given directly.
    public var file: String
    /// 1-based document number within the file (multi-document YAML).
    public var document: Int
    /// 1-based line in the file; 0 when unknown.
    public var line: Int
    /// 1-based column; 0 when unknown.
    public var column: Int
    /// The field path inside the document (`spec.http[0].route[1].weight`); empty for the whole document.
    public var path: String
    /// What is wrong and what would be valid.
    public var message: String
    public var severity: Severity

    public init(
        file: String, document: Int, line: Int, column: Int = 0, path: String, message: String,
        severity: Severity
    ) {
        self.file = file
        self.document = document
        self.line = line
        self.column = column
        self.path = path
        self.message = message
        self.severity = severity
    }

    public var description: String {
        var out = "\(file)"
        if line > 0 {
            out += ":\(line)"
            if column > 0 { out += ":\(column)" }
        }
        out += ": document \(document): "
        if !path.isEmpty { out += "\(path): " }
        out += "\(severity == .error ? "error" : "warning"): \(message)"
        return out
    }

    private enum CodingKeys: String, CodingKey {
        case file, document, line, column, path, message, severity
    }
}
