/// PEP 503 name normalization: lowercase, runs of `-`, `_`, `.` become one `-`.
/// `normalizePackageName("Foo__Bar.baz")` is `"foo-bar-baz"`.
public func normalizePackageName(_ s: String) -> String {
    var out = ""
    var lastWasSeparator = false
    for scalar in s.unicodeScalars {
        if scalar == "-" || scalar == "_" || scalar == "." {
            if !lastWasSeparator { out.unicodeScalars.append("-") }
            lastWasSeparator = true
        } else {
            out += String(scalar).lowercased()
            lastWasSeparator = false
        }
    }
    return out
}

/// A PEP 508 dependency specifier limited to what is safe to hand to pip as an
/// argument: a project name, optional extras, optional version specifiers (with or
/// without parentheses) and an optional `; marker`.
///
/// Parsing follows `packaging.requirements.Requirement` (packaging 26.2) — same
/// grammar, same canonical text (except that `extra` names are normalized inside
/// parentheses too, and marker values containing `"` are printed in single
/// quotes, so the text always parses back to the same requirement) — and then refuses, with `.forbiddenRequirement`,
/// everything that would make pip do something other than resolve a name from an
/// index: direct references (`name @ url`), paths and archive file names, options
/// (`-e .`, `--index-url x`), several tokens in one entry, characters outside the
/// grammar (`$`, `` ` ``, `|`, `&`, `/`, …) outside marker strings, control and
/// non-ASCII characters, and inputs over 1000 bytes.
public struct Requirement: Hashable, Sendable, CustomStringConvertible {
    /// The project name as written.
    public var name: String
    /// PEP 503 normalized name, for comparing with installed distributions.
    public var normalizedName: String
    /// Extras, normalized (PEP 685), sorted, without duplicates.
    public var extras: [String]
    public var specifier: SpecifierSet
    /// The marker in canonical form (`python_version >= "3.8" and os_name == "posix"`),
    /// as `str(Requirement(...).marker)` prints it; nil without a marker.
    public var marker: String?

    public static let maximumLength = 1000

    public init(parsing text: String) throws(PackagingError) {
        try RequirementParser.screen(text)
        var parser = RequirementParser(text)
        let parsed = try parser.parseRequirement()

        guard RequirementParser.isValidName(parsed.name) else {
            throw PackagingError(.invalidRequirement,
                                 "Invalid project name \(quoted(parsed.name)) in \(quoted(text)): names are letters, digits and '.', '_', '-', starting and ending with a letter or digit")
        }
        let lowerName = parsed.name.lowercased()
        if let ext = RequirementParser.archiveExtensions.first(where: { lowerName.hasSuffix($0) }) {
            throw PackagingError(.forbiddenRequirement,
                                 "\(quoted(text)) looks like an archive file name (\(ext)); pip would install it from a local file. Only project names from an index are allowed")
        }
        for extra in parsed.extras where !RequirementParser.isValidName(extra) {
            throw PackagingError(.invalidRequirement, "Invalid extra name \(quoted(extra)) in \(quoted(text))")
        }
        do {
            specifier = try SpecifierSet(parsed.specifier)
        } catch {
            throw PackagingError(.invalidRequirement, "\(error.message) in requirement \(quoted(text))")
        }
        name = parsed.name
        normalizedName = normalizePackageName(parsed.name)
        extras = Array(Set(parsed.extras.map(normalizePackageName))).sorted()
        marker = parsed.marker.map { MarkerNode.format($0, first: true) }
    }

    /// Canonical text, like `str(packaging.requirements.Requirement(...))` with the
    /// extras normalized: `requests[socks]>=2; python_version >= "3.8"`.
    public var description: String {
        var s = name
        if !extras.isEmpty { s += "[" + extras.joined(separator: ",") + "]" }
        s += specifier.description
        if let marker { s += "; " + marker }
        return s
    }
}

/// A parsed marker: a list of atoms joined by "and"/"or" (packaging's MarkerList).
indirect enum MarkerNode: Hashable, Sendable {
    enum Operand: Hashable, Sendable {
        case variable(String)
        case value(String)
        var serialized: String {
            switch self {
            case .variable(let v): return v
            // packaging always writes "…"; a value containing " would come out
            // unparseable, so such values keep single quotes.
            case .value(let v): return v.contains("\"") ? "'\(v)'" : "\"\(v)\""
            }
        }
    }
    case item(Operand, String, Operand)
    case list([MarkerNode])
    case boolOp(String)

    /// packaging's `_format_marker`: single-element groups lose their parentheses.
    static func format(_ node: MarkerNode, first: Bool) -> String {
        switch node {
        case .boolOp(let op):
            return op
        case let .item(l, op, r):
            return [l.serialized, op, r.serialized].joined(separator: " ")
        case .list(let nodes):
            if nodes.count == 1, case .list = nodes[0] { return format(nodes[0], first: true) }
            if nodes.count == 1, case .item = nodes[0] { return format(nodes[0], first: true) }
            let inner = nodes.map { format($0, first: false) }.joined(separator: " ")
            return first ? inner : "(" + inner + ")"
        }
    }
}

/// A recursive-descent parser that is a transcription of packaging's `_parser.py`
/// and `_tokenizer.py` (same tokens, same order of checks, same messages), over
/// ASCII bytes that `screen` has already vetted.
struct RequirementParser {
    struct Parsed {
        var name: String
        var extras: [String]
        var specifier: String
        var marker: MarkerNode?
    }

    let text: String
    let b: [UInt8]
    var pos = 0

    init(_ text: String) {
        self.text = text
        self.b = Array(text.utf8)
    }

    static let archiveExtensions = [".whl", ".zip", ".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tbz",
                                    ".tar.xz", ".txz", ".tlz", ".tar.lz", ".tar.lzma"]

    /// PEP 508 names: `^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$`, case-insensitive.
    static func isValidName(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard let first = u.first, let last = u.last, first.isAlnum, last.isAlnum else { return false }
        return u.allSatisfy { $0.isAlnum || $0.isSeparator }
    }

    /// Characters a requirement may contain outside marker strings: exactly what the
    /// name/extras/specifier/marker grammar needs. Everything else (`$ \` | & # @ / \ : ' "` …)
    /// is refused before parsing.
    static func isGrammarCharacter(_ c: UInt8) -> Bool {
        if c.isAlnum { return true }
        return Array(" \t._-+!*,;()[]<>=~".utf8).contains(c)
    }

    // MARK: Screening: the security boundary, before any grammar.

    static func screen(_ text: String) throws(PackagingError) {
        func forbid(_ why: String) -> PackagingError {
            PackagingError(.forbiddenRequirement, "Requirement \(quoted(text)) is not allowed: \(why)")
        }
        let trimmed = text.drop(while: { $0 == " " || $0 == "\t" })
        if trimmed.isEmpty { throw forbid("it is empty") }
        if text.utf8.count > Requirement.maximumLength {
            throw PackagingError(.forbiddenRequirement,
                                 "Requirement is \(text.utf8.count) bytes long; at most \(Requirement.maximumLength) are allowed")
        }
        for scalar in text.unicodeScalars {
            if scalar.value >= 0x80 { throw forbid("non-ASCII character \(quoted(String(scalar)))") }
            if (scalar.value < 0x20 && scalar != "\t") || scalar.value == 0x7F {
                throw forbid("control character \(quoted(String(scalar)))")
            }
        }
        if trimmed.hasPrefix("-") { throw forbid("it looks like a pip option; only requirements are accepted") }
        if trimmed.hasPrefix(".") || trimmed.hasPrefix("~") { throw forbid("it looks like a path; only project names are accepted") }

        // Walk the text; marker strings (after the first ';') are opaque except for
        // backslashes, which PEP 508 does not allow and Python would interpret.
        var inMarker = false
        var quote: UInt8? = nil
        for c in text.utf8 {
            if let q = quote {
                if c == q { quote = nil }
                else if c == UInt8(ascii: "\\") { throw forbid("backslash in a marker string") }
                continue
            }
            switch c {
            case UInt8(ascii: "@"):
                throw forbid("direct references ('name @ url') are not allowed; name a project and a version")
            case UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: ":"):
                throw forbid("URLs and paths are not allowed; name a project and a version")
            case UInt8(ascii: ";"):
                inMarker = true
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                guard inMarker else { throw forbid("quotes are only allowed in the marker, after ';'") }
                quote = c
            default:
                if !isGrammarCharacter(c) {
                    throw forbid("character \(quoted(String(UnicodeScalar(c)))) is not part of a requirement (shell metacharacter?)")
                }
            }
        }
        if quote != nil {
            throw PackagingError(.invalidRequirement, "Unterminated string in the marker of \(quoted(text))")
        }
    }

    // MARK: Tokens

    var atEnd: Bool { pos >= b.count }

    static func isWord(_ c: UInt8) -> Bool { c.isAlnum || c == UInt8(ascii: "_") }

    /// Regex `\b` at `i`.
    func isBoundary(_ i: Int) -> Bool {
        let before = i > 0 && Self.isWord(b[i - 1])
        let after = i < b.count && Self.isWord(b[i])
        return before != after
    }

    mutating func consumeWS() {
        while pos < b.count && (b[pos] == 0x20 || b[pos] == 0x09) { pos += 1 }
    }

    func peek(_ c: Character) -> Bool { pos < b.count && b[pos] == c.asciiValue! }

    mutating func consume(_ c: Character) -> Bool {
        if peek(c) { pos += 1; return true }
        return false
    }

    /// `\b[a-zA-Z0-9][a-zA-Z0-9._-]*\b` at the cursor, backtracking like the regex.
    func identifierEnd() -> Int? {
        guard pos < b.count, b[pos].isAlnum, isBoundary(pos) else { return nil }
        var end = pos + 1
        while end < b.count && (b[end].isAlnum || b[end].isSeparator) { end += 1 }
        while end > pos {
            if isBoundary(end) { return end }
            end -= 1
        }
        return nil
    }

    mutating func readIdentifier() -> String? {
        guard let end = identifierEnd() else { return nil }
        defer { pos = end }
        return String(decoding: b[pos..<end], as: UTF8.self)
    }

    /// The SPECIFIER token: packaging's specifier regex matched at the cursor.
    func specifierEnd() -> Int? {
        if b[pos...].starts(with: Array("===".utf8)) {
            var i = pos + 3
            while i < b.count && (b[i] == 0x20 || b[i] == 0x09) { i += 1 }
            while i < b.count && !(b[i] == 0x20 || b[i] == 0x09 || b[i] == UInt8(ascii: ";") || b[i] == UInt8(ascii: ")")) { i += 1 }
            return i
        }
        return SpecifierSyntax.prefixMatch(b, at: pos)?.2
    }

    func error(_ message: String) -> PackagingError {
        PackagingError(.invalidRequirement, "\(message) at column \(pos + 1) of \(quoted(text))")
    }

    /// The rest of the token at the cursor, for messages.
    func upcoming() -> String {
        var end = pos
        while end < b.count && b[end] != 0x20 && b[end] != 0x09 { end += 1 }
        return String(decoding: b[pos..<end], as: UTF8.self)
    }

    // MARK: Grammar (packaging/_parser.py)

    /// requirement = WS? IDENTIFIER WS? extras WS? requirement_details END
    mutating func parseRequirement() throws(PackagingError) -> Parsed {
        consumeWS()
        guard let name = readIdentifier() else {
            throw error("Expected package name at the start of dependency specifier")
        }
        consumeWS()
        let extras = try parseExtras()
        consumeWS()
        if peek("@") {
            throw PackagingError(.forbiddenRequirement, "Requirement \(quoted(text)) is not allowed: direct references ('name @ url') are not allowed")
        }
        let specifierStart = pos
        let specifier = try parseSpecifier()
        consumeWS()
        var marker: MarkerNode? = nil
        if !atEnd {
            guard consume(";") else {
                // A second word after a complete requirement: someone is passing more
                // than one argument through this entry.
                if pos > 0 && (b[pos - 1] == 0x20 || b[pos - 1] == 0x09) {
                    throw PackagingError(.forbiddenRequirement,
                                         "Requirement \(quoted(text)) is not allowed: unexpected \(quoted(upcoming())) after the requirement; write one requirement per entry, markers after ';'")
                }
                pos = max(pos, specifierStart)
                throw error(specifier.isEmpty
                    ? "Expected semicolon (after name with no version specifier) or end"
                    : "Expected comma (within version specifier), semicolon (after version specifier) or end")
            }
            marker = try parseMarker()
            consumeWS()
        }
        guard atEnd else { throw error("Expected end of dependency specifier") }
        return Parsed(name: name, extras: extras, specifier: specifier, marker: marker)
    }

    /// extras = (LEFT_BRACKET WS? extras_list? WS? RIGHT_BRACKET)?
    mutating func parseExtras() throws(PackagingError) -> [String] {
        guard consume("[") else { return [] }
        consumeWS()
        var extras: [String] = []
        if let first = readIdentifier() {
            extras.append(first)
            while true {
                consumeWS()
                if identifierEnd() != nil { throw error("Expected comma between extra names") }
                guard consume(",") else { break }
                consumeWS()
                guard let next = readIdentifier() else { throw error("Expected extra name after comma") }
                extras.append(next)
            }
        }
        consumeWS()
        guard consume("]") else { throw error("Expected matching RIGHT_BRACKET for LEFT_BRACKET, after extras") }
        return extras
    }

    /// specifier = LEFT_PARENTHESIS WS? version_many WS? RIGHT_PARENTHESIS | WS? version_many WS?
    mutating func parseSpecifier() throws(PackagingError) -> String {
        let parenthesized = consume("(")
        consumeWS()
        var result = ""
        while !atEnd, let end = specifierEnd() {
            result += String(decoding: b[pos..<end], as: UTF8.self)
            pos = end
            if b[pos...].starts(with: Array(".*".utf8)) {
                throw error(".* suffix can only be used with `==` or `!=` operators")
            }
            if peek("+"), pos + 1 < b.count, b[pos + 1].isAlnum {
                throw error("Local version label can only be used with `==` or `!=` operators")
            }
            consumeWS()
            guard consume(",") else { break }
            result += ","
            consumeWS()
        }
        consumeWS()
        if parenthesized && !consume(")") {
            throw error("Expected matching RIGHT_PARENTHESIS for LEFT_PARENTHESIS, after version specifier")
        }
        return result
    }

    /// marker = marker_atom (BOOLOP marker_atom)*
    mutating func parseMarker() throws(PackagingError) -> MarkerNode {
        var nodes = [try parseMarkerAtom()]
        while let op = readBoolOp() {
            nodes.append(.boolOp(op))
            nodes.append(try parseMarkerAtom())
        }
        return .list(nodes)
    }

    mutating func readBoolOp() -> String? {
        for word in ["or", "and"] where b[pos...].starts(with: Array(word.utf8))
            && isBoundary(pos) && isBoundary(pos + word.utf8.count) {
            pos += word.utf8.count
            return word
        }
        return nil
    }

    /// marker_atom = WS? '(' WS? marker WS? ')' WS? | WS? marker_item WS?
    mutating func parseMarkerAtom() throws(PackagingError) -> MarkerNode {
        consumeWS()
        let node: MarkerNode
        if consume("(") {
            consumeWS()
            node = try parseMarker()
            consumeWS()
            guard consume(")") else {
                throw error("Expected matching RIGHT_PARENTHESIS for LEFT_PARENTHESIS, after marker expression")
            }
        } else {
            node = try parseMarkerItem()
        }
        consumeWS()
        return node
    }

    /// marker_item = WS? marker_var WS? marker_op WS? marker_var WS?
    mutating func parseMarkerItem() throws(PackagingError) -> MarkerNode {
        consumeWS()
        var lhs = try parseMarkerVar()
        consumeWS()
        let op = try parseMarkerOp()
        consumeWS()
        var rhs = try parseMarkerVar()
        consumeWS()
        // Names compared with `extra` are normalized (PEP 685). packaging does this
        // only at the top level of the marker, so its text for `(extra == "A_B")`
        // changes when parsed again; normalizing everywhere keeps ours a fixed point.
        do {
            if case .variable("extra") = lhs, case .value(let v) = rhs { rhs = .value(normalizePackageName(v)) }
            else if case .variable("extra") = rhs, case .value(let v) = lhs { lhs = .value(normalizePackageName(v)) }
        }
        return .item(lhs, op, rhs)
    }

    static let markerVariables: [String] = {
        var names = ["python_version", "python_full_version", "platform_release", "platform_system",
                     "python_implementation", "implementation_name", "implementation_version",
                     "extras", "extra", "dependency_groups"]
        for sep in ["_", "."] {
            names += ["os\(sep)name", "sys\(sep)platform", "platform\(sep)version",
                      "platform\(sep)machine", "platform\(sep)python_implementation"]
        }
        return names
    }()

    /// marker_var = VARIABLE | QUOTED_STRING
    mutating func parseMarkerVar() throws(PackagingError) -> MarkerNode.Operand {
        if isBoundary(pos) {
            for name in Self.markerVariables where b[pos...].starts(with: Array(name.utf8))
                && isBoundary(pos + name.utf8.count) {
                pos += name.utf8.count
                let canonical = String(name.map { $0 == "." ? "_" : $0 })
                return .variable(canonical == "python_implementation" ? "platform_python_implementation" : canonical)
            }
        }
        if pos < b.count, b[pos] == UInt8(ascii: "'") || b[pos] == UInt8(ascii: "\"") {
            let q = b[pos]
            guard let close = b[(pos + 1)...].firstIndex(of: q) else { throw error("Unterminated string") }
            let value = String(decoding: b[(pos + 1)..<close], as: UTF8.self)
            pos = close + 1
            return .value(value)
        }
        throw error("Expected a marker variable or quoted string")
    }

    /// marker_op = IN | NOT WS IN | OP
    mutating func parseMarkerOp() throws(PackagingError) -> String {
        func word(_ w: String) -> Bool {
            b[pos...].starts(with: Array(w.utf8)) && isBoundary(pos) && isBoundary(pos + w.utf8.count)
        }
        if word("in") { pos += 2; return "in" }
        if word("not") {
            pos += 3
            guard pos < b.count, b[pos] == 0x20 || b[pos] == 0x09 else { throw error("Expected whitespace after 'not'") }
            consumeWS()
            guard word("in") else { throw error("Expected 'in' after 'not'") }
            pos += 2
            return "not in"
        }
        for op in ["===", "==", "~=", "!=", "<=", ">=", "<", ">"] where b[pos...].starts(with: Array(op.utf8)) {
            pos += op.utf8.count
            return op
        }
        throw error("Expected marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in")
    }
}
