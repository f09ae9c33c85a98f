/// Collects diagnostics while decoding; a class so nested readers share it.
final class DiagnosticSink {
    private(set) var diagnostics: [Diagnostic] = []
    /// Every field path a reader asked for (`spec.users[].name`): the set of
    /// fields labsync understands, compared with schemas/ by SchemaSyncTests.
    private(set) var knownFields: Set<String> = []
    func noteField(_ path: String) { knownFields.insert(path) }
    func error(_ location: SourceLocation, _ message: String) {
        diagnostics.append(.error(location, message))
    }
}

/// Reads one YAML mapping strictly: typed fields, each with its location;
/// whatever key nobody asked for is reported as unknown by `finish()`.
/// Wrong types are reported and read as "absent", so decoding goes on and
/// every error of a file is found in one pass.
struct FieldReader {
    let location: SourceLocation
    let path: String
    private let entries: [(key: String, keyLocation: SourceLocation, value: YAMLNode)]
    private var asked: Set<String> = []
    let sink: DiagnosticSink

    /// Returns nil (after reporting) when `node` is not a mapping. `anchor` is
    /// where errors about the mapping as a whole point: the key that holds it
    /// (`spec:`), which reads better than libyaml's mark for a block mapping
    /// (its first inner key).
    init?(_ node: YAMLNode, path: String, sink: DiagnosticSink, anchor: SourceLocation? = nil) {
        guard case .mapping(let pairs, let location) = node else {
            sink.error(node.location, "\(path) must be a mapping, found \(node.kindName)")
            return nil
        }
        self.location = anchor ?? location
        self.path = path
        self.sink = sink
        var entries: [(String, SourceLocation, YAMLNode)] = []
        for pair in pairs {
            guard case .scalar(let key, _, let keyLocation) = pair.key else {
                sink.error(pair.key.location, "keys in \(path) must be plain strings")
                continue
            }
            entries.append((key, keyLocation, pair.value))
        }
        self.entries = entries
    }

    private func qualified(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw node of `key`, nil when absent or null.
    ///
    /// A key written with no value (`state:`, `installer: ~`) is an error, not
    /// "use the default": the author meant something, and guessing what
    /// (default? remove?) would apply a spec nobody wrote. Remove the key to
    /// get the default.
    mutating func node(_ key: String, required: Bool = false) -> YAMLNode? {
        asked.insert(key)
        sink.noteField(Self.genericPath(qualified(key)))
        guard let entry = entries.first(where: { $0.key == key }) else {
            if required { sink.error(location, "\(qualified(key)) is required") }
            return nil
        }
        if entry.value.isNull {
            sink.error(entry.value.isEmptyText ? entry.keyLocation : entry.value.location,
                       "\(qualified(key)) has no value (null); give a value, or remove the key to use the default")
            return nil
        }
        return entry.value
    }

    /// A field labsync no longer reads: one error naming what to write instead,
    /// rather than "unknown field", which leaves the author guessing. Not
    /// noted as a known field, so the schemas must not list it either.
    mutating func removed(_ key: String, because reason: String) {
        guard let location = keyLocation(key) else { return }
        asked.insert(key)
        sink.error(location, "\(qualified(key)) \(reason)")
    }

    func keyLocation(_ key: String) -> SourceLocation? {
        entries.first { $0.key == key }?.keyLocation
    }

    /// Whether `key` is written at all (even as null: `node` reports that).
    mutating func has(_ key: String) -> Bool {
        entries.contains { $0.key == key }
    }

    mutating func string(_ key: String, required: Bool = false) -> Located<String>? {
        guard let node = node(key, required: required) else { return nil }
        return Self.scalarText(node, name: qualified(key), sink: sink)
    }

    /// A scalar's text. Null and blank (`""`, `"  "`) are errors: every string
    /// field of a spec names something, and an empty name is never meant.
    static func scalarText(_ node: YAMLNode, name: String, sink: DiagnosticSink) -> Located<String>? {
        guard case .scalar(let text, _, let location) = node, !node.isNull else {
            sink.error(node.location, "\(name) must be a string, found \(node.kindName)")
            return nil
        }
        if text.allSatisfy(\.isWhitespace) {
            sink.error(location, "\(name) must not be empty")
            return nil
        }
        return Located(text, at: location)
    }

    mutating func bool(_ key: String) -> Located<Bool>? {
        guard let value = string(key) else { return nil }
        switch value.value {
        case "true": return Located(true, at: value.location)
        case "false": return Located(false, at: value.location)
        default:
            sink.error(value.location, "\(qualified(key)) must be true or false, found '\(value.value)'")
            return nil
        }
    }

    mutating func int(_ key: String, in range: ClosedRange<Int>) -> Located<Int>? {
        guard let value = string(key) else { return nil }
        guard value.value.allSatisfy(\.isASCII), let n = Int(value.value), range.contains(n) else {
            sink.error(value.location,
                       "\(qualified(key)) must be an integer from \(range.lowerBound) to \(range.upperBound), found '\(value.value)'")
            return nil
        }
        return Located(n, at: value.location)
    }

    mutating func choice<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) -> Located<E>?
    where E.RawValue == String {
        guard let value = string(key) else { return nil }
        guard let e = E(rawValue: value.value) else {
            let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
            sink.error(value.location, "\(qualified(key)) must be one of \(allowed), found '\(value.value)'")
            return nil
        }
        return Located(e, at: value.location)
    }

    mutating func stringList(_ key: String) -> [Located<String>] {
        guard let node = node(key) else { return [] }
        guard case .sequence(let items, _) = node else {
            sink.error(node.location, "\(qualified(key)) must be a list, found \(node.kindName)")
            return []
        }
        return items.enumerated().compactMap { i, item in
            Self.scalarText(item, name: "\(qualified(key))[\(i)]", sink: sink)
        }
    }

    /// A list of mappings, each read by `read`.
    mutating func list<T>(_ key: String, _ read: (inout FieldReader) -> T?) -> [T] {
        guard let node = node(key) else { return [] }
        guard case .sequence(let items, _) = node else {
            sink.error(node.location, "\(qualified(key)) must be a list, found \(node.kindName)")
            return []
        }
        return items.enumerated().compactMap { i, item in
            guard var reader = FieldReader(item, path: "\(qualified(key))[\(i)]", sink: sink) else { return nil }
            let value = read(&reader)
            reader.finish()
            return value
        }
    }

    mutating func stringMap(_ key: String) -> [Located<(key: String, value: String)>] {
        guard let node = node(key) else { return [] }
        guard case .mapping(let pairs, _) = node else {
            sink.error(node.location, "\(qualified(key)) must be a mapping, found \(node.kindName)")
            return []
        }
        return pairs.compactMap { pair in
            guard let k = Self.scalarText(pair.key, name: "keys of \(qualified(key))", sink: sink),
                  let v = Self.scalarText(pair.value, name: "\(qualified(key)).\(k.value)", sink: sink)
            else { return nil }
            return Located((k.value, v.value), at: k.location)
        }
    }

    /// A nested mapping read by `read`; nil when absent.
    mutating func object<T>(_ key: String, required: Bool = false, _ read: (inout FieldReader) -> T?) -> T? {
        guard let node = node(key, required: required),
              var reader = FieldReader(node, path: qualified(key), sink: sink, anchor: keyLocation(key))
        else { return nil }
        let value = read(&reader)
        reader.finish()
        return value
    }

    /// `spec.users[3].name` → `spec.users[].name`.
    static func genericPath(_ path: String) -> String {
        var out = ""
        var inIndex = false
        for ch in path {
            if ch == "[" { inIndex = true; out.append("[") } else if ch == "]" { inIndex = false; out.append("]") } else if !inIndex { out.append(ch) }
        }
        return out
    }

    /// Reports every key that no reader asked for.
    func finish() {
        for entry in entries where !asked.contains(entry.key) {
            sink.error(entry.keyLocation, "unknown field '\(qualified(entry.key))'")
        }
    }
}


private extension YAMLNode {
    /// `key:` with nothing after it: libyaml marks such an empty scalar where the
    /// next token starts, so errors about it point at the key instead.
    var isEmptyText: Bool {
        if case .scalar("", _, _) = self { return true }
        return false
    }
}
