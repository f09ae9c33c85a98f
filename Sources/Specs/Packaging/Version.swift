/// A PEP 440 version, parsed and normalized exactly like `packaging.version.Version`
/// (packaging 26.2): `Version("v1.0-1")` is `1.0.post1`, `Version("1.0") == Version("1.0.0")`.
///
/// Deviation: numbers in the epoch, release, pre, post and dev segments must fit in
/// an `Int` (Python allows any size); larger ones are rejected as `.invalidVersion`.
/// Numeric local segments may be any length.
public struct Version: Hashable, Comparable, Sendable, CustomStringConvertible {
    public struct PreRelease: Hashable, Sendable {
        /// Ordered as PEP 440 orders them: a < b < rc.
        public enum Kind: String, Sendable, Comparable {
            case alpha = "a", beta = "b", releaseCandidate = "rc"
            var rank: Int { self == .alpha ? 0 : self == .beta ? 1 : 2 }
            public static func < (l: Kind, r: Kind) -> Bool { l.rank < r.rank }
        }
        public var kind: Kind
        public var number: Int
        public init(kind: Kind, number: Int) { self.kind = kind; self.number = number }
    }

    /// One dot-separated part of a local version label. Numbers compare numerically and
    /// sort after words (PEP 440); they are kept as digit strings so any length works.
    public enum LocalSegment: Hashable, Sendable, CustomStringConvertible {
        case number(String)   // digits, leading zeros removed ("0" for zero)
        case word(String)     // lowercase ASCII alphanumerics

        public var description: String {
            switch self { case .number(let s), .word(let s): return s }
        }
    }

    public var epoch: Int
    public var release: [Int]
    public var pre: PreRelease?
    public var post: Int?
    public var dev: Int?
    public var localSegments: [LocalSegment]?

    /// Parses and normalizes `text` as `packaging.version.Version(text)` does.
    public init(_ text: String) throws(PackagingError) {
        guard let parsed = VersionSyntax.parseVersion(text) else {
            throw PackagingError(.invalidVersion, "Invalid version: \(quoted(text))")
        }
        self = parsed
    }

    /// Builds a version from parts; `release` must not be empty.
    public init(epoch: Int = 0, release: [Int], pre: PreRelease? = nil, post: Int? = nil,
                dev: Int? = nil, localSegments: [LocalSegment]? = nil) {
        precondition(!release.isEmpty, "a version needs at least one release number")
        self.epoch = epoch
        self.release = release
        self.pre = pre
        self.post = post
        self.dev = dev
        self.localSegments = localSegments
    }

    /// Pre-release or development release (`packaging`'s `is_prerelease`).
    public var isPrerelease: Bool { pre != nil || dev != nil }
    public var isPostrelease: Bool { post != nil }
    public var isDevrelease: Bool { dev != nil }

    /// The local label, normalized (`"ubuntu.1"`), or nil.
    public var local: String? {
        localSegments.map { $0.map(\.description).joined(separator: ".") }
    }

    /// The version without its local label.
    public var publicVersion: Version {
        var v = self
        v.localSegments = nil
        return v
    }

    /// Epoch and release only: `1!2.0rc1.post3+x` → `1!2.0`.
    public var baseVersion: Version { Version(epoch: epoch, release: release) }

    public var description: String {
        var s = release.map(String.init).joined(separator: ".")
        if epoch != 0 { s = "\(epoch)!" + s }
        if let pre { s += pre.kind.rawValue + String(pre.number) }
        if let post { s += ".post\(post)" }
        if let dev { s += ".dev\(dev)" }
        if let local { s += "+" + local }
        return s
    }

    // MARK: Ordering — a transcription of packaging's `_cmpkey`.

    /// Release without trailing zeros: 1.0.0 orders (and hashes) like 1.
    var trimmedRelease: ArraySlice<Int> {
        var end = release.count
        while end > 0 && release[end - 1] == 0 { end -= 1 }
        return release[..<end]
    }

    /// (pre_rank, pre_n, post_rank, post_n, dev_rank, dev_n): dev-only releases sort
    /// before alphas, finals after release candidates, post after final, dev before
    /// whatever it is a dev release of.
    var suffixKey: [Int] {
        let preRank: Int, preN: Int
        if let pre {
            preRank = pre.kind.rank; preN = pre.number
        } else if post == nil && dev != nil {
            preRank = -1; preN = 0
        } else {
            preRank = 3; preN = 0
        }
        return [preRank, preN, post == nil ? 0 : 1, post ?? 0, dev == nil ? 1 : 0, dev ?? 0]
    }

    public static func == (l: Version, r: Version) -> Bool { compare(l, r) == 0 }
    public static func < (l: Version, r: Version) -> Bool { compare(l, r) < 0 }

    public func hash(into h: inout Hasher) {
        h.combine(epoch)
        h.combine(Array(trimmedRelease))
        h.combine(suffixKey)
        h.combine(localSegments)
    }

    /// -1, 0, 1 like Python's tuple comparison of the two `_cmpkey`s.
    static func compare(_ l: Version, _ r: Version) -> Int {
        if l.epoch != r.epoch { return l.epoch < r.epoch ? -1 : 1 }
        let c = lexicographic(l.trimmedRelease, r.trimmedRelease, by: { $0 < $1 ? -1 : $0 == $1 ? 0 : 1 })
        if c != 0 { return c }
        let s = lexicographic(l.suffixKey[...], r.suffixKey[...], by: { $0 < $1 ? -1 : $0 == $1 ? 0 : 1 })
        if s != 0 { return s }
        switch (l.localSegments, r.localSegments) {
        case (nil, nil): return 0
        case (nil, _): return -1
        case (_, nil): return 1
        case let (a?, b?): return lexicographic(a[...], b[...], by: compareLocal)
        }
    }

    /// Words sort before numbers; numbers numerically; words by bytes.
    static func compareLocal(_ a: LocalSegment, _ b: LocalSegment) -> Int {
        switch (a, b) {
        case (.word, .number): return -1
        case (.number, .word): return 1
        case let (.number(x), .number(y)):
            if x.utf8.count != y.utf8.count { return x.utf8.count < y.utf8.count ? -1 : 1 }
            return lexicographic(ArraySlice(x.utf8), ArraySlice(y.utf8), by: { $0 < $1 ? -1 : $0 == $1 ? 0 : 1 })
        case let (.word(x), .word(y)):
            return lexicographic(ArraySlice(x.utf8), ArraySlice(y.utf8), by: { $0 < $1 ? -1 : $0 == $1 ? 0 : 1 })
        }
    }
}

/// Python sequence comparison: first difference decides, else the shorter is smaller.
func lexicographic<T>(_ a: ArraySlice<T>, _ b: ArraySlice<T>, by cmp: (T, T) -> Int) -> Int {
    for (x, y) in zip(a, b) {
        let c = cmp(x, y)
        if c != 0 { return c }
    }
    return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
}

/// The PEP 440 grammar as hand-written matchers that make the same choices as
/// packaging's regular expressions (`VERSION_PATTERN`, `Specifier._regex`): every
/// optional group is tried greedily and dropped whole when it does not match.
enum VersionSyntax {
    /// The suffix segments after the release numbers.
    struct Suffixes {
        var pre: Version.PreRelease?
        var post: Int?
        var dev: Int?
    }

    enum Failure: Error { case noMatch, overflow }

    static func parseVersion(_ text: String) -> Version? {
        let raw = Array(text.utf8)
        // packaging's fast path: digits and dots only (including the empty string).
        if raw.allSatisfy({ $0.isDigit || $0 == 0x2E }) {
            var release: [Int] = []
            for part in raw.split(separator: 0x2E, omittingEmptySubsequences: false) {
                guard !part.isEmpty, let n = parseInt(part) else { return nil }
                release.append(n)
            }
            return Version(release: release)
        }
        let stripped = pythonStrip(text)
        guard stripped.utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
        var c = ByteCursor(Array(stripped.utf8))
        guard let v = try? matchVersion(&c, allowLocal: true), c.atEnd else { return nil }
        return v
    }

    /// `v? (N!)? N(.N)* pre? post? dev? (+local)?` at the cursor (prefix match).
    static func matchVersion(_ c: inout ByteCursor, allowLocal: Bool) throws(Failure) -> Version {
        c.match { $0.lowered == UInt8(ascii: "v") }
        let (epoch, release) = try matchEpochAndRelease(&c, minimumParts: 1)
        let s = try matchSuffixes(&c)
        var v = Version(epoch: epoch, release: release, pre: s.pre, post: s.post, dev: s.dev)
        if allowLocal { v.localSegments = matchLocal(&c) }
        return v
    }

    /// `(N!)? N(.N)*` with at least `minimumParts` release numbers. A dot not
    /// followed by a digit is left unconsumed.
    static func matchEpochAndRelease(_ c: inout ByteCursor, minimumParts: Int) throws(Failure) -> (Int, [Int]) {
        guard var digits = c.matchDigits() else { throw .noMatch }
        var epoch = 0
        if c.peek == UInt8(ascii: "!") {
            let save = c.pos
            c.pos += 1
            if let next = c.matchDigits() {
                guard let e = parseInt(digits) else { throw .overflow }
                epoch = e
                digits = next
            } else {
                c.pos = save
            }
        }
        guard let first = parseInt(digits) else { throw .overflow }
        var release = [first]
        while c.peek == UInt8(ascii: "."), c.pos + 1 < c.bytes.count, c.bytes[c.pos + 1].isDigit {
            c.pos += 1
            guard let n = parseInt(c.matchDigits()!) else { throw .overflow }
            release.append(n)
        }
        guard release.count >= minimumParts else { throw .noMatch }
        return (epoch, release)
    }

    static func matchSuffixes(_ c: inout ByteCursor) throws(Failure) -> Suffixes {
        var s = Suffixes()
        // pre: [._-]? (alpha|a|beta|b|preview|pre|c|rc) [._-]? N?
        var save = c.pos
        c.match(\.isSeparator)
        if let letter = c.match(anyOf: ["alpha", "a", "beta", "b", "preview", "pre", "c", "rc"]) {
            c.match(\.isSeparator)
            let kind: Version.PreRelease.Kind =
                letter.hasPrefix("a") ? .alpha : letter.hasPrefix("b") ? .beta : .releaseCandidate
            s.pre = .init(kind: kind, number: try optionalNumber(&c))
        } else {
            c.pos = save
        }
        // post: -N | [._-]? (post|rev|r) [._-]? N?
        save = c.pos
        if c.peek == UInt8(ascii: "-"), c.pos + 1 < c.bytes.count, c.bytes[c.pos + 1].isDigit {
            c.pos += 1
            s.post = try optionalNumber(&c)
        } else {
            c.match(\.isSeparator)
            if c.match(anyOf: ["post", "rev", "r"]) != nil {
                c.match(\.isSeparator)
                s.post = try optionalNumber(&c)
            } else {
                c.pos = save
            }
        }
        // dev: [._-]? dev [._-]? N?
        save = c.pos
        c.match(\.isSeparator)
        if c.match(word: "dev") {
            c.match(\.isSeparator)
            s.dev = try optionalNumber(&c)
        } else {
            c.pos = save
        }
        return s
    }

    private static func optionalNumber(_ c: inout ByteCursor) throws(Failure) -> Int {
        guard let d = c.matchDigits() else { return 0 }
        guard let n = parseInt(d) else { throw .overflow }
        return n
    }

    /// `(+ [a-z0-9]+ ([._-][a-z0-9]+)*)?`; nil (and nothing consumed) when absent.
    static func matchLocal(_ c: inout ByteCursor) -> [Version.LocalSegment]? {
        guard c.peek == UInt8(ascii: "+"), c.pos + 1 < c.bytes.count, c.bytes[c.pos + 1].isAlnum else { return nil }
        c.pos += 1
        var segments: [Version.LocalSegment] = []
        while true {
            let start = c.pos
            while c.match(\.isAlnum) {}
            segments.append(localSegment(c.bytes[start..<c.pos]))
            guard let sep = c.peek, sep.isSeparator, c.pos + 1 < c.bytes.count, c.bytes[c.pos + 1].isAlnum else { break }
            c.pos += 1
        }
        return segments
    }

    static func localSegment(_ bytes: ArraySlice<UInt8>) -> Version.LocalSegment {
        if bytes.allSatisfy(\.isDigit) {
            let trimmed = bytes.drop(while: { $0 == UInt8(ascii: "0") })
            return .number(trimmed.isEmpty ? "0" : String(decoding: trimmed, as: UTF8.self))
        }
        return .word(String(decoding: bytes.map(\.lowered), as: UTF8.self))
    }
}
