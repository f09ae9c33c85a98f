import Foundation

/// The result of loading a repository: every spec that could be read, and
/// every problem found. Valid when `diagnostics` has no errors.
public struct LoadResult: Sendable {
    public var specs: SpecSet
    /// From the repository's top-level `labsync.yaml`, if any.
    public var settings: RepositorySettings
    public var diagnostics: [Diagnostic]
    public var isValid: Bool { !diagnostics.hasErrors }
}

/// Loads a directory tree of `*.yaml`/`*.yml` files, several documents each.
///
/// Hidden files and directories (`.git`, `.github`, …) are skipped. Symbolic
/// links (to files or directories) are never followed out of the tree: a
/// link that resolves outside the root is reported, not read.
public struct SpecLoader: Sendable {
    public var limits = YAMLLimits()
    public init() {}

    public func load(directory: URL) -> LoadResult {
        let sink = DiagnosticSink()
        let root = directory.standardizedFileURL.resolvingSymlinksInPath()
        var specs = SpecSet()
        let decoder = DocumentDecoder(sink: sink)

        var settings = RepositorySettings()
        for relative in yamlFiles(under: root, sink: sink) {
            let url = root.appendingPathComponent(relative)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                sink.error(SourceLocation(file: relative, line: 1, column: 1), "cannot read file")
                continue
            }
            guard data.count <= limits.maxFileBytes else {
                sink.error(SourceLocation(file: relative, line: 1, column: 1),
                           "file is larger than \(limits.maxFileBytes) bytes; refusing to parse it")
                continue
            }
            guard let text = String(data: data, encoding: .utf8) else {
                sink.error(SourceLocation(file: relative, line: 1, column: 1), "file is not valid UTF-8")
                continue
            }
            switch YAMLReader.documents(text: text, file: relative, limits: limits) {
            case .failure(let diagnostic):
                sink.error(diagnostic.location, diagnostic.message)
            case .success(let documents) where relative == RepositorySettings.fileName:
                settings = RepositorySettings.read(documents, sink: sink)
            case .success(let documents):
                for document in documents {
                    switch decoder.decode(document) {
                    case .host(let h)?: specs.hosts.append(h)
                    case .environment(var e)?:
                        e.requirements += requirementsFileLines(e, root: root, decoder: decoder, sink: sink)
                        specs.environments.append(e)
                    case .hub(let h)?: specs.hubs.append(h)
                    case .rEnvironment(let e)?: specs.rEnvironments.append(e)
                    case .kubernetesHub(let h)?: specs.kubernetesHubs.append(h)
                    case nil: break
                    }
                }
            }
        }
        CrossChecks(specs: specs, sink: sink).run()
        specs.repository = settings.name
        return LoadResult(specs: specs, settings: settings, diagnostics: sink.diagnostics.sortedForDisplay())
    }

    /// Relative paths of the YAML files, sorted so that loading is deterministic.
    ///
    /// A symbolic link is judged by where it resolves, like a file: inside the
    /// repository it is read (a linked directory is walked under the link's
    /// name), outside it is an error. A directory link that leads back to a
    /// directory being walked is an error too (it would never end).
    private func yamlFiles(under root: URL, sink: DiagnosticSink) -> [String] {
        var found: [String] = []
        func walk(_ relative: String, chain: [String]) {
            let dir = relative.isEmpty ? root : root.appendingPathComponent(relative)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return }
            for name in names.sorted() where !name.hasPrefix(".") {
                let rel = relative.isEmpty ? name : "\(relative)/\(name)"
                let url = root.appendingPathComponent(rel)
                var info = stat()
                guard lstat(url.path, &info) == 0 else { continue }
                let isYAML = name.hasSuffix(".yaml") || name.hasSuffix(".yml")
                switch info.st_mode & S_IFMT {
                case S_IFDIR: walk(rel, chain: chain + [url.resolvingSymlinksInPath().path])
                case S_IFREG where isYAML: found.append(rel)
                case S_IFLNK:
                    var target = stat()
                    let isDirectory = stat(url.path, &target) == 0 && target.st_mode & S_IFMT == S_IFDIR
                    guard isYAML || isDirectory else { continue }  // links to other files are not specs
                    let at = SourceLocation(file: rel, line: 1, column: 1)
                    if isDirectory && url.resolvingSymlinksInPath().standardizedFileURL.path == root.path {
                        sink.error(at, "symbolic link leads back to a directory that contains it; not read")
                        continue
                    }
                    guard let resolved = Self.resolveInside(root: root, relative: rel) else {
                        sink.error(at, "symbolic link points outside the repository; not read")
                        continue
                    }
                    guard isDirectory else { found.append(rel); continue }
                    let real = resolved.path
                    if chain.contains(where: { $0 == real || $0.hasPrefix(real + "/") }) {
                        sink.error(at, "symbolic link leads back to a directory that contains it; not read")
                    } else if chain.count > limits.maxDepth {
                        sink.error(at, "directories nested deeper than \(limits.maxDepth) through symbolic links; not read")
                    } else {
                        walk(rel, chain: chain + [real])
                    }
                default: break
                }
            }
        }
        walk("", chain: [root.path])
        return found
    }

    /// The real path of `relative` if it stays inside `root` (after every
    /// symlink is resolved), else nil.
    static func resolveInside(root: URL, relative: String) -> URL? {
        let resolved = root.appendingPathComponent(relative).resolvingSymlinksInPath().standardizedFileURL
        let rootPath = root.path.hasSuffix("/") ? root.path : root.path + "/"
        return resolved.path.hasPrefix(rootPath) ? resolved : nil
    }

    /// `requirementsFile` lines, each checked like a `packages` entry: one
    /// requirement per line, `#` comments and blank lines ignored, no pip
    /// options (`-r`, `-e`, `--index-url` …) and no URLs.
    private func requirementsFileLines(
        _ env: PythonEnvironmentSpec, root: URL, decoder: DocumentDecoder, sink: DiagnosticSink
    ) -> [Located<Requirement>] {
        guard let file = env.requirementsFile, Rules.checkRepositoryPath(file.value) == nil else { return [] }
        guard let url = Self.resolveInside(root: root, relative: file.value) else {
            sink.error(file.location, "spec.requirementsFile '\(file.value)' resolves outside the repository (symbolic link?)")
            return []
        }
        guard let data = FileManager.default.contents(atPath: url.path), data.count <= limits.maxFileBytes,
              let text = String(data: data, encoding: .utf8) else {
            sink.error(file.location, "spec.requirementsFile '\(file.value)' cannot be read")
            return []
        }
        var lines: [Located<String>] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(raw)
            if line.hasSuffix("\r") { line = line.dropLast() }
            // pip's rule: a comment starts at '#' at line start or after whitespace.
            if line.hasPrefix("#") { continue }
            if let hash = line.range(of: " #") ?? line.range(of: "\t#") { line = line[..<hash.lowerBound] }
            let leading = line.prefix { $0 == " " || $0 == "\t" }.count
            let content = line.trimmingCharacters(in: .whitespaces)
            if content.isEmpty { continue }
            lines.append(Located(content, at: SourceLocation(file: file.value, line: index + 1, column: leading + 1)))
        }
        return decoder.readRequirements(lines, field: "requirement")
    }
}

/// Repository-wide settings: the top-level `labsync.yaml` (not a spec).
///
///     name: lab-a    # this repository's identity, recorded in every marker
///     prune: true    # remove marked environments whose spec is gone (needs `name`)
public struct RepositorySettings: Sendable, Hashable {
    public static let fileName = "labsync.yaml"
    public var prune = false
    /// Letters, digits, `.`, `_`, `-`; at most 63 characters.
    public var name: String?

    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 63,
              ("0"..."9").contains(first) || ("a"..."z").contains(first) || ("A"..."Z").contains(first)
        else { return false }
        return name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)
        }
    }
    public init() {}

    static func read(_ documents: [YAMLNode], sink: DiagnosticSink) -> RepositorySettings {
        var settings = RepositorySettings()
        guard documents.count <= 1 else {
            sink.error(documents[1].location, "\(fileName) holds one document of settings")
            return settings
        }
        guard let document = documents.first, !document.isNull,
              var reader = FieldReader(document, path: "", sink: sink) else { return settings }
        let prune = reader.bool("prune")
        settings.prune = prune?.value ?? false
        if let name = reader.string("name") {
            if isValidName(name.value) {
                settings.name = name.value
            } else {
                sink.error(name.location, "name must be letters, digits, '.', '_' or '-' (at most 63, starting with a letter or digit), found '\(TextEscaping.visible(name.value))'")
            }
        }
        if let prune, prune.value, settings.name == nil && !reader.has("name") {
            sink.error(prune.location, "prune: true needs the repository's name: (e.g. `name: lab-a`): markers record it, and prune removes only what this repository owns")
        }
        reader.finish()
        return settings
    }
}
