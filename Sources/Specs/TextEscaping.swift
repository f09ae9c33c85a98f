/// Escaping for strings that come from a spec or a host and end up in front
/// of a person: diagnostics, text plans, Markdown pull-request comments, HTML.
///
/// The threat is forgery, not just ugliness: a `displayName` holding a newline
/// and "  + remove-env PythonEnvironment/victim" must not print as a step
/// line, and a reason must not close the `<details>` block of a PR comment.
/// So every renderer passes such strings through one of these, and none of
/// the results can contain a line break, a terminal control sequence, or
/// (for Markdown/HTML) markup.
public enum TextEscaping {
    /// Control characters and everything that can break or reorder a line
    /// shown as escapes: `\n`, `\r`, `\t`, else `\u{1b}` style. Covers C0, DEL,
    /// C1, the Unicode line/paragraph separators and the bidirectional
    /// overrides (which can make a line read differently from what it holds).
    /// With `backslashes`, a literal backslash is doubled so that `\n` in the
    /// output always means an escaped newline.
    public static func visible(_ s: some StringProtocol, backslashes: Bool = true) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\" where backslashes: out += "\\\\"
            default:
                if needsEscape(scalar) {
                    out += "\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true                    // C0, DEL, C1
        case 0x2028, 0x2029: true                                // line and paragraph separators
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true  // bidi marks and overrides
        case 0xFEFF: true                                        // zero-width no-break space / BOM
        default: false
        }
    }

    /// Markdown specials that could start markup in the middle of a line.
    /// Line-start-only syntax (`-`, `+`, `=`, `1.`) needs no escape: after
    /// `visible` a value never starts a line. `<` and `&` are escaped too, so
    /// no HTML tag (`</details>`) or entity can form; `$` for GitHub's math.
    private static let markdownSpecials: Set<Character> = ["\\", "`", "*", "_", "[", "]", "<", ">", "|", "#", "!", "~", "&", "$"]

    /// Plain Markdown text (also safe inside a GitHub table cell).
    public static func markdown(_ s: some StringProtocol) -> String {
        var out = ""
        for c in visible(s) {
            if markdownSpecials.contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// A Markdown code span that nothing inside can close: the fence is one
    /// backtick longer than the longest run of backticks in the value (the
    /// CommonMark rule), padded with spaces when the value touches a backtick.
    /// In a GFM table a `|` ends the cell even inside a code span, so
    /// `inTable` escapes it (GitHub removes that backslash).
    public static func codeSpan(_ s: some StringProtocol, inTable: Bool = false) -> String {
        var body = visible(s)
        if inTable { body = body.replacing("|", with: "\\|") }
        if body.isEmpty { return "` `" }
        let fence = String(repeating: "`", count: longestRun(of: "`", in: body) + 1)
        let pad = body.hasPrefix("`") || body.hasSuffix("`") ? " " : ""
        return fence + pad + body + pad + fence
    }

    /// A fence for a fenced code block holding `text`: longer than any run of
    /// backticks in it, so no line of the text can close the block.
    public static func codeFence(for text: some StringProtocol) -> String {
        String(repeating: "`", count: max(3, longestRun(of: "`", in: text) + 1))
    }

    /// HTML text or attribute value.
    public static func html(_ s: some StringProtocol) -> String {
        var out = ""
        for c in visible(s) {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static func longestRun(of mark: Character, in s: some StringProtocol) -> Int {
        var longest = 0, run = 0
        for c in s {
            run = c == mark ? run + 1 : 0
            longest = max(longest, run)
        }
        return longest
    }
}
