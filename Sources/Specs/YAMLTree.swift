import Yams

/// A parsed YAML node with its source position. Scalars keep their source
/// text: labsync never lets YAML 1.1 turn `no` into false or `3.10` into 3.1
/// — each field decides how to read its text.
public indirect enum YAMLNode: Sendable {
    case scalar(String, plain: Bool, SourceLocation)
    case sequence([YAMLNode], SourceLocation)
    case mapping([(key: YAMLNode, value: YAMLNode)], SourceLocation)

    public var location: SourceLocation {
        switch self {
        case .scalar(_, _, let l), .sequence(_, let l), .mapping(_, let l): l
        }
    }

    /// A plain `null`, `~` or empty value: treated as "not given".
    public var isNull: Bool {
        if case .scalar(let text, true, _) = self {
            return text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
        }
        return false
    }

    var kindName: String {
        switch self {
        case .scalar: isNull ? "null" : "a scalar"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }
}

/// Fixed limits that keep hostile YAML (alias bombs, deep nesting, huge files)
/// from exhausting the reconciler. Real specs are far below all of them.
public struct YAMLLimits: Sendable {
    public var maxFileBytes = 1 << 20
    /// Nodes per document *after* alias expansion: a billion-laughs document
    /// is refused once it passes this, without ever being expanded.
    public var maxNodes = 100_000
    public var maxDepth = 32
    public init() {}
}

public enum YAMLReader {
    /// Parses every document of one file. On failure returns the diagnostic
    /// for the first YAML error (libyaml cannot continue past it).
    public static func documents(
        text: String, file: String, limits: YAMLLimits = YAMLLimits()
    ) -> Result<[YAMLNode], Diagnostic> {
        guard text.utf8.count <= limits.maxFileBytes else {
            return .failure(.error(
                SourceLocation(file: file, line: 1, column: 1),
                "file is larger than \(limits.maxFileBytes) bytes; refusing to parse it"))
        }
        var documents: [YAMLNode] = []
        do {
            let parser = try Parser(yaml: text)
            while let root = try parser.nextRoot() {
                var budget = limits.maxNodes
                do {
                    documents.append(try convert(root, file: file, depth: 0, limits: limits, budget: &budget))
                } catch let error as LimitExceeded {
                    // Blame the document, not whichever node happened to exhaust the budget.
                    return .failure(.error(location(root.mark, file), error.message))
                }
            }
        } catch let error as YamlError {
            return .failure(diagnostic(for: error, file: file, text: text))
        } catch {
            return .failure(.error(SourceLocation(file: file, line: 1, column: 1), "cannot parse YAML: \(error)"))
        }
        return .success(documents)
    }

    private struct LimitExceeded: Error {
        var location: SourceLocation
        var message: String
    }

    private static func location(_ mark: Mark?, _ file: String) -> SourceLocation {
        SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    private static func convert(
        _ node: Node, file: String, depth: Int, limits: YAMLLimits, budget: inout Int
    ) throws -> YAMLNode {
        budget -= 1
        if budget < 0 {
            throw LimitExceeded(
                location: location(node.mark, file),
                message: "document expands to more than \(limits.maxNodes) nodes (a YAML alias bomb?); refusing it")
        }
        if depth > limits.maxDepth {
            throw LimitExceeded(
                location: location(node.mark, file),
                message: "document is nested deeper than \(limits.maxDepth) levels; refusing it")
        }
        switch node {
        case .scalar(let scalar):
            return .scalar(scalar.string, plain: scalar.style == .plain, location(scalar.mark, file))
        case .sequence(let sequence):
            return .sequence(
                try sequence.map { try convert($0, file: file, depth: depth + 1, limits: limits, budget: &budget) },
                location(sequence.mark, file))
        case .mapping(let mapping):
            return .mapping(
                try mapping.map {
                    (key: try convert($0.key, file: file, depth: depth + 1, limits: limits, budget: &budget),
                     value: try convert($0.value, file: file, depth: depth + 1, limits: limits, budget: &budget))
                },
                location(mapping.mark, file))
        case .alias(let alias):
            // The parser resolves aliases itself; this case only appears in
            // hand-built trees. Treat it as an opaque scalar.
            return .scalar("*\(alias)", plain: false, location(alias.mark, file))
        }
    }

    /// The next line that holds `key:` at the same column as `first`.
    private static func laterOccurrence(of key: String, after first: SourceLocation, in text: String) -> SourceLocation? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard first.line >= 1, first.line < lines.count else { return nil }
        for index in first.line..<lines.count {
            let chars = Array(lines[index])
            let indent = first.column - 1
            guard chars.count > indent else { continue }
            let prefix = chars[..<indent]
            if !prefix.allSatisfy({ $0 == " " }) {
                // A shallower line ends the mapping.
                if chars.prefix { $0 == " " }.count < indent && !chars.allSatisfy({ $0 == " " }) && chars.first != "#" { return nil }
                continue
            }
            let rest = String(chars[indent...])
            if rest.hasPrefix(key + ":") {
                return SourceLocation(file: first.file, line: index + 1, column: first.column)
            }
        }
        return nil
    }

    private static func diagnostic(for error: YamlError, file: String, text: String) -> Diagnostic {
        switch error {
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            let first = location(context.mark, file)
            // Yams marks the first occurrence; the mistake is usually the
            // later one, so point there when it can be found (block style).
            if duplicates.count == 1,
               let later = laterOccurrence(of: duplicates[0], after: first, in: text) {
                return .error(later, "duplicate key \(keys) in the same mapping (first at line \(first.line))")
            }
            return .error(first, "duplicate key \(keys) in the same mapping")
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let what = context.map { "\($0.text): " } ?? ""
            return .error(location(mark, file), "invalid YAML: \(what)\(problem)")
        case .reader(let problem, _, _, _):
            return .error(location(nil, file), "cannot read YAML: \(problem)")
        default:
            return .error(location(nil, file), "invalid YAML: \(error)")
        }
    }
}
