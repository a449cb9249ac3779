import Foundation

/// A resource read from a manifest, with where it came from.
public struct LoadedResource: Sendable, Equatable {
    public var resource: AnyResource
    /// The file, or the name given for text.
    public var file: String
    /// 1-based document number in the file.
    public var document: Int
    /// Line where the resource starts.
    public var line: Int
}

/// What loading produced: the valid resources, and every error and warning.
///
/// A resource with an error is left out of ``resources`` (its findings say why), so a
/// consumer never applies half of a broken resource.
public struct LoadResult: Sendable, Equatable {
    public var resources: [LoadedResource] = []
    public var diagnostics: [Diagnostic] = []

    public init(resources: [LoadedResource] = [], diagnostics: [Diagnostic] = []) {
        self.resources = resources
        self.diagnostics = diagnostics
    }

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// Typed resources of one kind.
    public func all<R: MeshResource>(_ type: R.Type) -> [R] { resources.compactMap { $0.resource.as(type) } }

    mutating func append(_ other: LoadResult) {
        resources += other.resources
        diagnostics += other.diagnostics
    }
}

/// A path that could not be read at all (as opposed to a manifest with errors).
public struct ManifestReadError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Loads Kubernetes-style manifests (YAML, multi-document YAML, `kind: List`, JSON) into
/// typed resources, validating each as Istio would.
public struct ManifestLoader: Sendable {
    /// How strict loading is.
    public struct Options: Sendable {
        /// Unknown fields in a known kind are errors (as Istio's validation has them) rather than warnings.
        public var strict: Bool
        /// Run each kind's validation rules.
        public var validate: Bool
        public init(strict: Bool = false, validate: Bool = true) {
            self.strict = strict
            self.validate = validate
        }
    }

    /// Files larger than this are refused rather than parsed.
    public static let maximumFileSize = 16 << 20
    /// File name endings read from directories.
    public static let extensions: Set<String> = ["yaml", "yml", "json"]

    public var options: Options

    public init(options: Options = Options()) {
        self.options = options
    }

    /// Loads a file, or every `.yaml`, `.yml` and `.json` file under a directory (recursively,
    /// in name order; hidden entries skipped).
    /// - Throws: ``ManifestReadError`` when the path does not exist or cannot be read.
    public func load(path: String) throws(ManifestReadError) -> LoadResult {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ManifestReadError(path: path, reason: "no such file or directory")
        }
        guard isDirectory.boolValue else { return try loadFile(path) }
        var result = LoadResult()
        for file in try Self.manifestFiles(under: path) {
            result.append(try loadFile(file))
        }
        return result
    }

    /// Lists manifest files under a directory, sorted, recursively.
    public static func manifestFiles(under directory: String) throws(ManifestReadError) -> [String] {
        let fm = FileManager.default
        guard let enumerator = fm.enumerator(
            at: URL(fileURLWithPath: directory), includingPropertiesForKeys: [.isRegularFileKey],
            options: [.skipsHiddenFiles])
        else { throw ManifestReadError(path: directory, reason: "cannot list directory") }
        var files: [String] = []
        for case let url as URL in enumerator {
            guard extensions.contains(url.pathExtension.lowercased()),
                (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true
            else { continue }
            files.append(url.path)
        }
        return files.sorted()
    }

    private func loadFile(_ path: String) throws(ManifestReadError) -> LoadResult {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ManifestReadError(path: path, reason: "cannot open file for reading")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: Self.maximumFileSize + 1) ?? Data()
        } catch {
            throw ManifestReadError(path: path, reason: "cannot read file: \(error.localizedDescription)")
        }
        if data.count > Self.maximumFileSize {
            return LoadResult(diagnostics: [Diagnostic(file: path, document: 1, line: 0, path: "",
                message: "file is larger than \(Self.maximumFileSize) bytes", severity: .error)])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return LoadResult(diagnostics: [Diagnostic(file: path, document: 1, line: 0, path: "",
                message: "file is not valid UTF-8 text", severity: .error)])
        }
        return load(text: text, file: path, json: path.lowercased().hasSuffix(".json"))
    }

    /// Loads manifests from text. `file` names the source in diagnostics.
    /// - Parameter json: treat the text as one JSON document; by default JSON is detected
    ///   when the first character is `{` or `[`.
    public func load(text: String, file: String = "<string>", json: Bool? = nil) -> LoadResult {
        let isJSON = json ?? text.first(where: { !$0.isWhitespace }).map { $0 == "{" || $0 == "[" } ?? false
        var result = LoadResult()
        for document in YAMLReader.documents(in: text, json: isJSON) {
            switch document.result {
            case .failure(let syntax):
                result.diagnostics.append(Diagnostic(file: file, document: document.number, line: syntax.line,
                    column: syntax.column, path: "", message: syntax.message, severity: .error))
            case .success(let root):
                var context = DocumentContext(file: file, document: document.number, root: root, options: options)
                context.load(root, at: .root)
                result.append(context.result)
            }
        }
        return result
    }
}

/// Loads the resources of one document and turns findings into diagnostics.
private struct DocumentContext {
    let file: String
    let document: Int
    let root: ManifestNode
    let options: ManifestLoader.Options
    var result = LoadResult()

    init(file: String, document: Int, root: ManifestNode, options: ManifestLoader.Options) {
        self.file = file
        self.document = document
        self.root = root
        self.options = options
    }

    mutating func report(_ path: FieldPath, _ message: String, _ severity: Diagnostic.Severity) {
        let node = root.node(at: path)
        result.diagnostics.append(Diagnostic(file: file, document: document, line: root.line(at: path),
            column: node?.column ?? 0, path: path.description, message: message, severity: severity))
    }

    /// Loads the resource (or `List`) at `path` of the document.
    mutating func load(_ node: ManifestNode, at path: FieldPath) {
        guard case .mapping = node.value else {
            report(path, "a manifest must be a mapping with apiVersion, kind and metadata, found \(node.kindDescription)", .error)
            return
        }
        guard let kindNode = node["kind"] else {
            report(path("kind"), "required field is missing: every resource names its kind", .error)
            return
        }
        guard let kind = kindNode.string, !kind.isEmpty else {
            report(path("kind"), "kind must be a non-empty string", .error)
            return
        }
        guard let apiVersion = node["apiVersion"]?.string, !apiVersion.isEmpty else {
            report(path("apiVersion"), "required field is missing: apiVersion, e.g. security.istio.io/v1", .error)
            return
        }
        if kind == "List" || (kind.hasSuffix("List") && apiVersion == "v1" && node["items"] != nil) {
            guard case .sequence(let items)? = node["items"]?.value else {
                report(path("items"), "a List needs items, a list of resources", .error)
                return
            }
            for index in items.indices { load(items[index], at: path("items")[index]) }
            return
        }
        let group = apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
        let version = apiVersion.contains("/") ? String(apiVersion.split(separator: "/").last!) : apiVersion
        let codingPath = path.components.map(PathKey.init)
        guard let entry = ResourceKinds.byGroupKind["\(group)/\(kind)"] else {
            loadRaw(node, apiVersion: apiVersion, kind: kind, at: path, codingPath: codingPath)
            return
        }
        guard entry.type.apiVersions.contains(version) else {
            report(path("apiVersion"),
                "\(kind) is not served at \(apiVersion); use one of \(entry.type.acceptedAPIVersions.joined(separator: ", "))",
                .error)
            return
        }
        let decoded: (AnyResource, [ManifestDecoder.UnknownField])
        do {
            decoded = try entry.decode(node, codingPath)
        } catch {
            result.diagnostics.append(Diagnostic(file: file, document: document, line: error.line, column: error.column,
                path: error.path.description, message: error.message, severity: .error))
            return
        }
        let (resource, unknown) = decoded
        var invalid = false
        for field in unknown {
            result.diagnostics.append(Diagnostic(file: file, document: document, line: field.line, column: field.column,
                path: field.path.description, message: "unknown field \"\(field.path.lastKey ?? "")\" in \(kind)",
                severity: options.strict ? .error : .warning))
            invalid = invalid || options.strict
        }
        var validation = ValidationContext()
        validateMetadata(resource.metadata, kind: kind, into: &validation)
        if options.validate { resource.typed?.validate(into: &validation) }
        for finding in validation.findings {
            let full = FieldPath(path.components + finding.path.components)
            report(full, finding.message, finding.severity)
            invalid = invalid || finding.severity == .error
        }
        if !invalid {
            result.resources.append(LoadedResource(resource: resource, file: file, document: document, line: node.line))
        }
    }

    private mutating func loadRaw(_ node: ManifestNode, apiVersion: String, kind: String, at path: FieldPath, codingPath: [any CodingKey]) {
        var metadata = ObjectMeta()
        if let metaNode = node["metadata"] {
            do {
                // Metadata of kinds we do not model is read leniently: unknown fields are ignored.
                metadata = try ManifestDecoder.decode(ObjectMeta.self, from: metaNode, at: codingPath + [PathKey(.key("metadata"))]).0
            } catch {
                result.diagnostics.append(Diagnostic(file: file, document: document, line: error.line, column: error.column,
                    path: error.path.description, message: error.message, severity: .error))
                return
            }
        }
        let raw = RawResource(apiVersion: apiVersion, kind: kind, metadata: metadata, body: JSONValue(node))
        result.resources.append(LoadedResource(resource: .raw(raw), file: file, document: document, line: node.line))
    }

    private func validateMetadata(_ metadata: ObjectMeta, kind: String, into context: inout ValidationContext) {
        let meta = FieldPath.root("metadata")
        if let name = metadata.name {
            if !Rules.isDNS1123Subdomain(name) {
                context.error(meta("name"), "name \"\(name)\" must be a lowercase RFC 1123 subdomain: letters, digits, '-' and '.', starting and ending with a letter or digit")
            }
        } else if metadata.generateName == nil {
            context.error(meta("name"), "required field is missing: every \(kind) needs metadata.name")
        }
        if let namespace = metadata.namespace, !Rules.isDNS1123Label(namespace) {
            context.error(meta("namespace"), "namespace \"\(namespace)\" must be a lowercase RFC 1123 label: letters, digits and '-', at most 63 characters")
        }
        Rules.validateLabels(metadata.labels, at: meta("labels"), into: &context)
    }
}

/// A coding key made from a path component, so decoding errors carry the document path.
private struct PathKey: CodingKey {
    let component: FieldPath.Component
    init(_ component: FieldPath.Component) { self.component = component }
    init?(stringValue: String) { component = .key(stringValue) }
    init?(intValue: Int) { component = .index(intValue) }
    var stringValue: String {
        switch component {
        case .key(let k): return k
        case .index(let i): return "Index \(i)"
        }
    }
    var intValue: Int? {
        if case .index(let i) = component { return i }
        return nil
    }
}
