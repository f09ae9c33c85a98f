// A tiny YAML emitter for the manifests labsync writes for Flux. Deliberately
// not a general serializer: block style, keys sorted, every string scalar
// double-quoted with JSON-style escapes (YAML's double-quoted style is a
// superset of JSON strings). A string from a spec therefore always stays one
// scalar: no `: `, `#`, newline, `---`, `&`, `!` or leading space can turn it
// into structure, a comment, a tag or a second document. Same value, same bytes.

/// A value of a Kubernetes manifest or of Helm chart values.
public indirect enum ManifestValue: Sendable, Hashable {
    case string(String)
    case int(Int)
    /// A number already checked to be a plain decimal (`0.5`, `2`), emitted as written.
    case number(String)
    case bool(Bool)
    case null
    case list([ManifestValue])
    case map([String: ManifestValue])

    /// A map from key/value pairs; a later duplicate key would be a renderer bug.
    public static func object(_ pairs: KeyValuePairs<String, ManifestValue>) -> ManifestValue {
        .map(Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { _, new in new }))
    }

    public static func strings(_ items: [String]) -> ManifestValue { .list(items.map(ManifestValue.string)) }

    /// Every scalar under this value by dotted path (`hub.loadRoles.admin.users[0]`
    /// → `"alice"`), as the emitter writes it: what a plan's values diff compares.
    /// Empty maps and lists are leaves too (`{}`, `[]`), so removing the last
    /// entry still shows.
    public func leaves(prefix: String = "") -> [String: String] {
        switch self {
        case .map(let m) where !m.isEmpty:
            var out: [String: String] = [:]
            for (key, value) in m {
                out.merge(value.leaves(prefix: prefix.isEmpty ? key : "\(prefix).\(key)")) { a, _ in a }
            }
            return out
        case .list(let items) where !items.isEmpty:
            var out: [String: String] = [:]
            for (i, value) in items.enumerated() { out.merge(value.leaves(prefix: "\(prefix)[\(i)]")) { a, _ in a } }
            return out
        default:
            return [prefix: ManifestYAML.scalar(self)]
        }
    }

    public subscript(path: String...) -> ManifestValue? {
        var node: ManifestValue? = self
        for key in path {
            guard case .map(let m)? = node else { return nil }
            node = m[key]
        }
        return node
    }
}

public enum ManifestYAML {
    /// One YAML document (no `---`), ending in a newline; `header` lines become `# ` comments.
    public static func document(_ value: ManifestValue, header: [String] = []) -> String {
        var lines = header.map { "# " + $0.filter { !$0.isNewline } }
        switch value {
        case .map(let m) where !m.isEmpty: lines += block(value, indent: 0)
        case .list(let l) where !l.isEmpty: lines += block(value, indent: 0)
        default: lines.append(scalar(value))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Lines of a non-empty map or list, each indented by `indent` spaces.
    private static func block(_ value: ManifestValue, indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        var lines: [String] = []
        switch value {
        case .map(let m):
            for key in m.keys.sorted() {
                let child = m[key]!
                if isBlock(child) {
                    lines.append("\(pad)\(self.key(key)):")
                    // Lists under a key are indented too: the style kubectl and Flux print.
                    lines += block(child, indent: indent + 2)
                } else {
                    lines.append("\(pad)\(self.key(key)): \(scalar(child))")
                }
            }
        case .list(let items):
            for item in items {
                if isBlock(item) {
                    var nested = block(item, indent: indent + 2)
                    nested[0] = pad + "- " + nested[0].dropFirst(indent + 2)
                    lines += nested
                } else {
                    lines.append("\(pad)- \(scalar(item))")
                }
            }
        default:
            lines.append(pad + scalar(value))
        }
        return lines
    }

    private static func isBlock(_ v: ManifestValue) -> Bool {
        switch v {
        case .map(let m): !m.isEmpty
        case .list(let l): !l.isEmpty
        default: false
        }
    }

    static func scalar(_ v: ManifestValue) -> String {
        switch v {
        case .string(let s): quote(s)
        case .int(let n): String(n)
        case .number(let text): text
        case .bool(let b): b ? "true" : "false"
        case .null: "null"
        case .list: "[]"
        case .map: "{}"
        }
    }

    /// Words YAML 1.1 or 1.2 would read as something other than a string.
    private static let reserved: Set<String> = [
        "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~",
    ]

    /// Keys are labsync's own (trait names, manifest fields) and plain when
    /// they can be; anything else is quoted like a value.
    static func key(_ k: String) -> String {
        let first = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
        let rest = first.union("0123456789.-/")
        guard let head = k.first, first.contains(head), k.allSatisfy({ rest.contains($0) }),
              !reserved.contains(k.lowercased()) else { return quote(k) }
        return k
    }

    /// A double-quoted YAML scalar: `"` and `\` escaped, every control
    /// character and the Unicode line/paragraph separators as `\uXXXX` (or
    /// the short forms), so the result is always one line.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                let v = scalar.value
                if v < 0x20 || v == 0x7f || (0x80...0x9f).contains(v) || v == 0x2028 || v == 0x2029 || v == 0xfeff {
                    let hex = String(v, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
