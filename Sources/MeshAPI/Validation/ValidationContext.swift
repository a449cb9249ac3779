/// Collects what validation finds in one resource.
///
/// Rules add an error or a warning at a field path; the loader turns each into a
/// ``Diagnostic`` with the file, the document and the line of that path.
public struct ValidationContext: Sendable {
    /// One finding, before it is placed in a file.
    public struct Finding: Sendable, Hashable {
        public var path: FieldPath
        public var message: String
        public var severity: Diagnostic.Severity
    }

    public private(set) var findings: [Finding] = []

    public init() {}

    /// Records an error: the resource is invalid. `message` says what would be valid.
    public mutating func error(_ path: FieldPath, _ message: String) {
        findings.append(Finding(path: path, message: message, severity: .error))
    }

    /// Records a warning: the resource is accepted but probably not what was meant.
    public mutating func warning(_ path: FieldPath, _ message: String) {
        findings.append(Finding(path: path, message: message, severity: .warning))
    }

    /// True when at least one error was recorded.
    public var hasErrors: Bool { findings.contains { $0.severity == .error } }
}
