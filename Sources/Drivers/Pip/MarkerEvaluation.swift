// PEP 508 environment markers (`; python_version >= "3.8"`), evaluated against the
// venv's python so that a requirement pip would skip is not planned forever.
//
// Known variables: python_version, python_full_version, implementation_version,
// sys_platform, platform_system, os_name, implementation_name,
// platform_python_implementation, and platform_machine when observed. Any comparison
// that involves another variable (platform_release, extra, …) counts as TRUE: the
// requirement is planned and pip has the last word. That can only over-plan, never
// silently drop a declared package.

import Specs

/// Marker variables for a CPython venv on Linux. `pythonVersion` may be partial
/// while the interpreter is not installed yet ("3", "3.13" from APT): the parts not
/// known are left out, so markers on them count as true.
public func markerEnvironment(pythonVersion: String, machine: String?) -> [String: String] {
    var env = [
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    ]
    let parts = pythonVersion.split(separator: ".")
    if parts.count >= 2 { env["python_version"] = minorVersion(of: pythonVersion) }
    if parts.count >= 3 {
        env["python_full_version"] = pythonVersion
        env["implementation_version"] = pythonVersion
    }
    if let machine, !machine.isEmpty { env["platform_machine"] = machine }
    return env
}

/// Evaluates a marker in the canonical form `Requirement.marker` holds. A marker
/// that does not parse counts as true (see above).
public func evaluateMarker(_ marker: String, environment: [String: String]) -> Bool {
    var parser = MarkerParser(tokens: MarkerParser.tokenize(marker), environment: environment)
    guard let value = parser.expression(), parser.atEnd else { return true }
    return value
}

private struct MarkerParser {
    enum Token: Equatable { case word(String), string(String), op(String), open, close }
    var tokens: [Token]
    var position = 0
    let environment: [String: String]

    init(tokens: [Token], environment: [String: String]) {
        self.tokens = tokens
        self.environment = environment
    }

    var atEnd: Bool { position == tokens.count }

    static func tokenize(_ text: String) -> [Token] {
        var tokens: [Token] = []
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == " " || c == "\t" { i += 1; continue }
            if c == "(" { tokens.append(.open); i += 1; continue }
            if c == ")" { tokens.append(.close); i += 1; continue }
            if c == "\"" || c == "'" {
                var j = i + 1
                while j < chars.count && chars[j] != c { j += 1 }
                tokens.append(.string(String(chars[(i + 1)..<min(j, chars.count)])))
                i = j + 1
                continue
            }
            if "<>=!~".contains(c) {
                var j = i
                while j < chars.count && "<>=!~".contains(chars[j]) { j += 1 }
                tokens.append(.op(String(chars[i..<j])))
                i = j
                continue
            }
            var j = i
            while j < chars.count && !" \t()\"'<>=!~".contains(chars[j]) { j += 1 }
            if j == i { j += 1 }
            tokens.append(.word(String(chars[i..<j])))
            i = j
        }
        return tokens
    }

    mutating func next() -> Token? {
        guard position < tokens.count else { return nil }
        defer { position += 1 }
        return tokens[position]
    }

    func peek() -> Token? { position < tokens.count ? tokens[position] : nil }

    mutating func expression() -> Bool? {
        guard var value = conjunction() else { return nil }
        while peek() == .word("or") {
            position += 1
            guard let rhs = conjunction() else { return nil }
            value = value || rhs
        }
        return value
    }

    mutating func conjunction() -> Bool? {
        guard var value = atom() else { return nil }
        while peek() == .word("and") {
            position += 1
            guard let rhs = atom() else { return nil }
            value = value && rhs
        }
        return value
    }

    mutating func atom() -> Bool? {
        if peek() == .open {
            position += 1
            let value = expression()
            guard next() == .close else { return nil }
            return value
        }
        guard let lhs = next() else { return nil }
        var op: String
        switch next() {
        case .op(let o)?: op = o
        case .word("in")?: op = "in"
        case .word("not")?:
            guard next() == .word("in") else { return nil }
            op = "not in"
        default: return nil
        }
        guard let rhs = next() else { return nil }
        return compare(lhs, op, rhs)
    }

    /// nil value: an unknown variable.
    func value(_ token: Token) -> (text: String?, isVersion: Bool)? {
        switch token {
        case .string(let s): return (s, false)
        case .word(let variable):
            let isVersion = variable.hasSuffix("_version")
            return (environment[variable], isVersion)
        default: return nil
        }
    }

    func compare(_ lhsToken: Token, _ op: String, _ rhsToken: Token) -> Bool? {
        guard let lhs = value(lhsToken), let rhs = value(rhsToken) else { return nil }
        guard let l = lhs.text, let r = rhs.text else { return true }  // unknown variable
        switch op {
        case "in": return r.contains(l)
        case "not in": return !r.contains(l)
        default: break
        }
        // As packaging does: a version comparison when the right side is a valid
        // specifier version and the left a version, else string comparison.
        if lhs.isVersion || rhs.isVersion,
           let specifier = try? Specifier(op + r), let version = try? Version(l) {
            return specifier.contains(version, prereleases: true)
        }
        switch op {
        case "==", "===": return l == r
        case "!=": return l != r
        case "<": return l < r
        case "<=": return l <= r
        case ">": return l > r
        case ">=": return l >= r
        default: return true
        }
    }
}
