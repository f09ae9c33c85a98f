/// One entry of `REnvironment.spec.packages`, in R's own DESCRIPTION syntax:
/// `name` or `name (op version)` with op one of `>=`, `>`, `<=`, `<`, `==`.
///
/// The parser is deliberately narrow: the name and version end up in an R
/// command line on the host, so anything that is not exactly this shape —
/// URLs, paths, `user/repo` remotes, options, R code — is refused here,
/// before it could reach R.
public struct RRequirement: Hashable, Sendable, CustomStringConvertible {
    public enum Operator: String, Sendable, Hashable, CaseIterable {
        case greaterOrEqual = ">="
        case greater = ">"
        case lessOrEqual = "<="
        case less = "<"
        case equal = "=="
    }

    public struct Constraint: Hashable, Sendable, CustomStringConvertible {
        public var op: Operator
        public var version: RVersion
        public init(_ op: Operator, _ version: RVersion) { self.op = op; self.version = version }
        public var description: String { "\(op.rawValue) \(version)" }

        public func isSatisfied(by v: RVersion) -> Bool {
            let c = RVersion.compare(v, version)
            switch op {
            case .greaterOrEqual: return c >= 0
            case .greater: return c > 0
            case .lessOrEqual: return c <= 0
            case .less: return c < 0
            case .equal: return c == 0
            }
        }
    }

    /// As written; R package names are case-sensitive (`Matrix` is not `matrix`).
    public var name: String
    /// Nil for a bare name: any version does.
    public var constraint: Constraint?

    public init(name: String, constraint: Constraint? = nil) {
        self.name = name
        self.constraint = constraint
    }

    /// `name (op version)` with R's spacing, as `export` prints it.
    public var description: String { constraint.map { "\(name) (\($0))" } ?? name }

    /// The version pinned by `==`, the one the driver installs from the archive.
    public var pinnedVersion: RVersion? { constraint?.op == .equal ? constraint?.version : nil }

    public func isSatisfied(by version: RVersion) -> Bool { constraint?.isSatisfied(by: version) ?? true }

    /// Longest entry accepted; a real one is a few dozen characters.
    static let maxLength = 200

    public init(parsing text: String) throws(RPackagingError) {
        func refuse(_ why: String) -> RPackagingError { RPackagingError(.forbiddenRequirement, "'\(text)': \(why)") }
        let syntax = "expected name or name (op version), op one of >=, >, <=, <, =="
        guard text.count <= Self.maxLength else { throw refuse("longer than \(Self.maxLength) characters") }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw refuse("contains control characters")
        }
        let trimmed = Substring(text).trimmingWhitespace()
        if trimmed.contains("://") {
            throw refuse("URLs are not allowed; name the package and list its repository in spec.repos")
        }
        if trimmed.hasPrefix("-") { throw refuse("options are not allowed; \(syntax)") }
        if Self.isRemotesReference(trimmed) {
            throw refuse("remotes-style 'user/repo' references are not allowed; only packages from spec.repos")
        }
        if trimmed.hasPrefix("/") || trimmed.hasPrefix(".") || trimmed.hasPrefix("~") || trimmed.contains("/")
            || trimmed.hasSuffix(".tar.gz") {
            throw refuse("paths are not allowed; name the package and list its repository in spec.repos")
        }

        // name, then optionally "(op version)" and nothing else.
        let nameEnd = trimmed.firstIndex { !(Self.isNameCharacter($0)) } ?? trimmed.endIndex
        let name = String(trimmed[..<nameEnd])
        var rest = trimmed[nameEnd...].trimmingWhitespace()
        if let problem = Self.checkName(name) {
            throw rest.isEmpty ? RPackagingError(.invalidRequirement, "'\(text)': \(problem)")
                               : RPackagingError(.invalidRequirement, "'\(text)' is not an R package requirement: \(syntax)")
        }
        if rest.isEmpty { self.init(name: name); return }
        guard rest.hasPrefix("("), rest.hasSuffix(")"), rest.count >= 2 else {
            throw RPackagingError(.invalidRequirement, "'\(text)' is not an R package requirement: \(syntax)")
        }
        rest = rest.dropFirst().dropLast().trimmingWhitespace()
        // Longest operator first so that ">=" is not read as ">" followed by "=1.0".
        guard let op = Operator.allCases.sorted(by: { $0.rawValue.count > $1.rawValue.count })
            .first(where: { rest.hasPrefix($0.rawValue) }) else {
            throw RPackagingError(.invalidRequirement, "'\(text)' is not an R package requirement: the version needs an operator, one of >=, >, <=, <, ==")
        }
        let versionText = String(rest.dropFirst(op.rawValue.count).trimmingWhitespace())
        let version: RVersion
        do throws(RPackagingError) { version = try RVersion(versionText) } catch {
            throw RPackagingError(.invalidRequirement, "'\(text)': \(error.message)")
        }
        self.init(name: name, constraint: Constraint(op, version))
    }

    /// R's rule for package names (Writing R Extensions 1.1.1): ASCII letters,
    /// digits and '.', at least two characters, starting with a letter, not
    /// ending with '.'.
    public static func checkName(_ s: String) -> String? {
        guard s.count >= 2, let first = s.first, first.isASCII && first.isLetter, s.last != ".",
              s.allSatisfy(isNameCharacter)
        else {
            return "'\(s)' is not an R package name: ASCII letters, digits and '.', at least two characters, "
                + "starting with a letter and not ending with '.'"
        }
        return nil
    }

    static func isNameCharacter(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == ".") }

    /// `user/repo`, `user/repo@ref`, `github::user/repo`, `user/repo#123`: what
    /// `remotes::install_github` takes; refused with its own message so the
    /// author knows why.
    static func isRemotesReference(_ s: some StringProtocol) -> Bool {
        var body = Substring(s)
        if let colons = body.range(of: "::") { body = body[colons.upperBound...] }
        let parts = body.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 2, let user = parts.first, !user.isEmpty else { return false }
        let ident: (Character) -> Bool = { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        return user.allSatisfy(ident) && !user.hasPrefix(".") && !parts[1].isEmpty && parts[1].first.map(ident) == true
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        guard let start = firstIndex(where: { !$0.isWhitespace }), let end = lastIndex(where: { !$0.isWhitespace }) else {
            return self[endIndex...]
        }
        return self[start...end]
    }
}
