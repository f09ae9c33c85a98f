/// One PEP 440 version specifier such as `>=1.2`, `==1.4.*`, `~=2.2`, `===foo`,
/// parsed and decided exactly like `packaging.specifiers.Specifier` (packaging 26.2).
public struct Specifier: Hashable, Sendable, CustomStringConvertible {
    public enum Operator: String, Sendable, CaseIterable {
        case arbitrary = "===", equal = "==", notEqual = "!=", compatible = "~="
        case lessThanOrEqual = "<=", greaterThanOrEqual = ">=", lessThan = "<", greaterThan = ">"
    }

    public let op: Operator
    /// The version text as written after the operator (trimmed, not normalized),
    /// including a trailing `.*` for wildcards; packaging's `Specifier.version`.
    public let version: String
    /// The parsed version (without `.*`); nil only for `===`.
    public let parsedVersion: Version?

    public var isWildcard: Bool { version.hasSuffix(".*") && op != .arbitrary }

    public init(_ text: String) throws(PackagingError) {
        guard let (op, version) = SpecifierSyntax.fullMatch(text) else {
            throw PackagingError(.invalidSpecifier, "Invalid specifier: \(quoted(text))")
        }
        self.op = op
        self.version = version
        if op == .arbitrary {
            parsedVersion = nil
        } else {
            let base = version.hasSuffix(".*") ? String(version.dropLast(2)) : version
            // The grammar already matched, so this only fails on numbers beyond Int.
            guard let v = try? Version(base) else {
                throw PackagingError(.invalidSpecifier, "Invalid specifier: \(quoted(text)) (number too large)")
            }
            parsedVersion = v
        }
    }

    public var description: String { op.rawValue + version }

    /// Whether `v` satisfies this specifier. With `prereleases: true` this is
    /// `Specifier.contains(v, prereleases=True)`; with `false`, pre-releases never match.
    public func contains(_ v: Version, prereleases: Bool = true) -> Bool {
        if !prereleases && v.isPrerelease { return false }
        return matches(v)
    }

    /// The operator's decision, ignoring the pre-release policy. Each case is
    /// packaging's `_compare_<operator>`.
    func matches(_ v: Version) -> Bool {
        guard let spec = parsedVersion else {
            // ===: case-insensitive string equality with the normalized version.
            return v.description.lowercased() == version.lowercased()
        }
        switch op {
        case .arbitrary:
            return false  // unreachable: handled above
        case .equal:
            return equal(v, spec)
        case .notEqual:
            return !equal(v, spec)
        case .lessThanOrEqual:
            return v.publicVersion <= spec
        case .greaterThanOrEqual:
            return v.publicVersion >= spec
        case .lessThan:
            guard v < spec else { return false }
            // "<V must not allow a pre-release of V unless V is itself a pre-release."
            var earliestPre = spec
            earliestPre.dev = 0
            earliestPre.localSegments = nil
            return !(!spec.isPrerelease && v.isPrerelease && v >= earliestPre)
        case .greaterThan:
            guard v > spec else { return false }
            // ">V must not allow a post-release of V unless V is itself a post-release."
            var postBase = v
            postBase.post = nil
            postBase.dev = nil
            postBase.localSegments = nil
            if !spec.isPostrelease && v.isPostrelease && postBase == spec { return false }
            // ">V must not match a local version of V."
            if v.localSegments != nil && v.publicVersion == spec { return false }
            return true
        case .compatible:
            // ~=2.2 is >=2.2 together with ==2.*; the prefix is computed from the
            // version *text* as packaging does (this is why `~=1.0c1` means `==1.0.*`).
            let parts = SpecifierSyntax.versionSplit(version)
            let kept = parts.prefix(while: SpecifierSyntax.isNotSuffix).dropLast()
            let prefix = SpecifierSyntax.versionJoin(Array(kept))
            return v.publicVersion >= spec && SpecifierSyntax.wildcardEqual(v, prefix)
        }
    }

    private func equal(_ v: Version, _ spec: Version) -> Bool {
        if isWildcard { return SpecifierSyntax.wildcardEqual(v, String(version.dropLast(2))) }
        // Without a local label in the specifier, the candidate's label is ignored.
        return spec.localSegments == nil ? v.publicVersion == spec : v == spec
    }

    /// packaging's `_canonical_spec`: what equality and hashing are based on, so
    /// `==1.0` equals `== 1.0.0` but `~=1.0` differs from `~=1.0.0`.
    var canonical: String {
        guard let v = parsedVersion, !isWildcard else { return op.rawValue + version }
        var c = v
        if op != .compatible {
            var end = c.release.count
            while end > 1 && c.release[end - 1] == 0 { end -= 1 }
            c.release = Array(c.release[..<end])
        }
        return op.rawValue + c.description
    }

    public static func == (l: Specifier, r: Specifier) -> Bool { l.canonical == r.canonical }
    public func hash(into h: inout Hasher) { h.combine(canonical) }
}

/// A comma-separated list of specifiers, all of which must hold; `""` allows any
/// version. Mirrors `packaging.specifiers.SpecifierSet`.
public struct SpecifierSet: Hashable, Sendable, CustomStringConvertible {
    /// In the order written.
    public var specifiers: [Specifier]

    public init(_ text: String) throws(PackagingError) {
        var specs: [Specifier] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = pythonStrip(item)
            if trimmed.isEmpty { continue }
            specs.append(try Specifier(String(trimmed)))
        }
        specifiers = specs
    }

    public init(_ specifiers: [Specifier]) { self.specifiers = specifiers }

    /// No specifiers: every version matches.
    public var isEmpty: Bool { specifiers.isEmpty }

    /// `SpecifierSet(s).contains(v, prereleases=...)`. `true` is pip's rule for
    /// deciding whether an installed version already satisfies a requirement.
    public func contains(_ v: Version, prereleases: Bool = true) -> Bool {
        if !prereleases && v.isPrerelease { return false }
        return specifiers.allSatisfy { $0.matches(v) }
    }

    /// Sorted by text, duplicates (by canonical form) removed, as packaging prints it.
    var canonicalSpecifiers: [Specifier] {
        let sorted = specifiers.sorted {
            $0.description.unicodeScalars.lexicographicallyPrecedes($1.description.unicodeScalars)
        }
        var seen = Set<String>()
        return sorted.filter { seen.insert($0.canonical).inserted }
    }

    public var description: String { canonicalSpecifiers.map(\.description).joined(separator: ",") }

    public static func == (l: SpecifierSet, r: SpecifierSet) -> Bool {
        l.canonicalSpecifiers.map(\.canonical) == r.canonicalSpecifiers.map(\.canonical)
    }

    public func hash(into h: inout Hasher) { h.combine(canonicalSpecifiers.map(\.canonical)) }
}

/// The specifier grammar (packaging's `Specifier._specifier_regex_str`) and the
/// string helpers packaging uses for `==X.*` and `~=`.
enum SpecifierSyntax {
    /// `Specifier(text)`: the whole text, with surrounding whitespace, must match.
    /// Returns the operator and the trimmed version text.
    static func fullMatch(_ text: String) -> (Specifier.Operator, String)? {
        let stripped = pythonStrip(text)
        if stripped.hasPrefix("===") {
            // `===\s*[^\s;)]*`: anything but whitespace, ';' and ')'.
            let rest = pythonStrip(stripped.dropFirst(3))
            guard !rest.unicodeScalars.contains(where: { isPythonSpace($0) || $0 == ";" || $0 == ")" })
            else { return nil }
            return (.arbitrary, String(rest))
        }
        guard stripped.utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
        let bytes = Array(stripped.utf8)
        guard let (op, _, end) = prefixMatch(bytes, at: 0), end == bytes.count else { return nil }
        let version = pythonStrip(String(decoding: bytes[op.rawValue.utf8.count...], as: UTF8.self))
        return (op, version)
    }

    /// Matches a specifier starting at `start` the way `re.match` does (the
    /// requirement tokenizer uses it mid-string). Returns the operator, where the
    /// version starts and where the match ends. `===` is not handled here.
    static func prefixMatch(_ bytes: [UInt8], at start: Int) -> (Specifier.Operator, Int, Int)? {
        var c = ByteCursor(bytes, at: start)
        let op: Specifier.Operator
        if c.match(word: "==") { op = .equal }
        else if c.match(word: "!=") { op = .notEqual }
        else if c.match(word: "~=") { op = .compatible }
        else if c.match(word: "<=") { op = .lessThanOrEqual }
        else if c.match(word: ">=") { op = .greaterThanOrEqual }
        else if c.match(word: "<") { op = .lessThan }
        else if c.match(word: ">") { op = .greaterThan }
        else { return nil }
        // `\s*` between operator and version; only ASCII reaches here.
        while let b = c.peek, b == 0x20 || (b >= 0x09 && b <= 0x0D) || (b >= 0x1C && b <= 0x1F) { c.pos += 1 }
        let versionStart = c.pos
        c.match { $0.lowered == UInt8(ascii: "v") }
        // Numbers beyond Int are refused here, although Python would accept them.
        guard (try? VersionSyntax.matchEpochAndRelease(&c, minimumParts: op == .compatible ? 2 : 1)) != nil
        else { return nil }
        if op == .equal || op == .notEqual {
            if c.peek == UInt8(ascii: "."), c.pos + 1 < bytes.count, bytes[c.pos + 1] == UInt8(ascii: "*") {
                return (op, versionStart, c.pos + 2)
            }
        }
        guard (try? VersionSyntax.matchSuffixes(&c)) != nil else { return nil }
        if op == .equal || op == .notEqual { _ = VersionSyntax.matchLocal(&c) }
        return (op, versionStart, c.pos)
    }

    /// packaging's `_version_split`: "1!2.0rc1" → ["1", "2", "0", "rc1"].
    static func versionSplit(_ version: String) -> [String] {
        var epoch = ""
        var rest = Substring(version)
        if let bang = version.lastIndex(of: "!") {
            epoch = String(version[..<bang])
            rest = version[version.index(after: bang)...]
        }
        var result = [epoch.isEmpty ? "0" : epoch]
        for item in rest.split(separator: ".", omittingEmptySubsequences: false) {
            if let (number, pre) = splitNumberAndPre(item) {
                result.append(number)
                result.append(pre)
            } else {
                result.append(String(item))
            }
        }
        return result
    }

    /// `([0-9]+)((?:a|b|c|rc)[0-9]+)` as a full match, case-sensitive.
    private static func splitNumberAndPre(_ item: Substring) -> (String, String)? {
        let b = Array(item.utf8)
        var i = 0
        while i < b.count && b[i].isDigit { i += 1 }
        guard i > 0 else { return nil }
        var j = i
        if j + 1 < b.count && b[j] == UInt8(ascii: "r") && b[j + 1] == UInt8(ascii: "c") { j += 2 }
        else if j < b.count && (b[j] == UInt8(ascii: "a") || b[j] == UInt8(ascii: "b") || b[j] == UInt8(ascii: "c")) { j += 1 }
        else { return nil }
        guard j < b.count, b[j...].allSatisfy(\.isDigit) else { return nil }
        return (String(decoding: b[..<i], as: UTF8.self), String(decoding: b[i...], as: UTF8.self))
    }

    static func versionJoin(_ parts: [String]) -> String {
        (parts.first ?? "") + "!" + parts.dropFirst().joined(separator: ".")
    }

    static func isNotSuffix(_ segment: String) -> Bool {
        !["dev", "a", "b", "rc", "post"].contains(where: { segment.hasPrefix($0) })
    }

    static func isDigits(_ s: String) -> Bool { !s.isEmpty && s.utf8.allSatisfy(\.isDigit) }

    /// packaging's `_compare_equal` for `==prefix.*` (`prefix` without the `.*`).
    static func wildcardEqual(_ v: Version, _ prefix: String) -> Bool {
        // canonicalize_version(prefix, strip_trailing_zero=False): the normalized form,
        // or the text unchanged when it is not a version.
        let normalized = (try? Version(prefix))?.description ?? prefix
        let spec = versionSplit(normalized)
        let specNumeric = spec.prefix(while: isDigits).count
        var candidate = versionSplit(v.publicVersion.description)
        let numeric = candidate.prefix(while: isDigits).count
        if specNumeric > numeric {
            candidate.insert(contentsOf: repeatElement("0", count: specNumeric - numeric), at: numeric)
        }
        return Array(candidate.prefix(spec.count)) == spec
    }
}
