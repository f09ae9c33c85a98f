// Spec values enter jupyterhub_config.py ONLY through this type: each one is
// emitted as a Python literal, never spliced into code as text. A user name
// such as `x"; import os; os.system("…")#` therefore stays a string.
//
// Strings are written with double quotes and ASCII-only escapes (`\"`, `\\`,
// `\n`, `\xNN`, `\uNNNN`, `\UNNNNNNNN`), so the file is plain ASCII whatever the
// spec holds, and `ast.literal_eval` gives back exactly the original string
// (HubConfigTests round-trips this through python3).

public indirect enum PythonLiteral: Sendable, Hashable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case none
    case list([PythonLiteral])
    /// A set literal (`{"a", "b"}`; the empty set is `set()`), elements sorted for determinism.
    case set([String])
    /// Keys in the given order (callers pass them sorted or in a fixed order).
    case dict([(String, PythonLiteral)])

    public static func == (a: PythonLiteral, b: PythonLiteral) -> Bool { a.rendered == b.rendered }
    public func hash(into hasher: inout Hasher) { hasher.combine(rendered) }

    public var rendered: String {
        switch self {
        case .string(let s): Self.quote(s)
        case .int(let n): String(n)
        case .bool(let b): b ? "True" : "False"
        case .none: "None"
        case .list(let items): "[" + items.map(\.rendered).joined(separator: ", ") + "]"
        case .set(let items):
            items.isEmpty ? "set()" : "{" + Set(items).sorted().map(Self.quote).joined(separator: ", ") + "}"
        case .dict(let pairs):
            "{" + pairs.map { Self.quote($0.0) + ": " + $0.1.rendered }.joined(separator: ", ") + "}"
        }
    }

    /// A Python string literal for `s`, ASCII only.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                let v = scalar.value
                if v >= 0x20 && v < 0x7F {
                    out.unicodeScalars.append(scalar)
                } else if v < 0x100 {
                    out += "\\x" + hex(v, width: 2)
                } else if v < 0x10000 {
                    out += "\\u" + hex(v, width: 4)
                } else {
                    out += "\\U" + hex(v, width: 8)
                }
            }
        }
        return out + "\""
    }

    private static func hex(_ v: UInt32, width: Int) -> String {
        let digits = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
