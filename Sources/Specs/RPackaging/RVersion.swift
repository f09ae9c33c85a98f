/// An error from parsing an R version or an R package requirement.
///
/// `kind` is what callers match on; `message` is for people and quotes the input.
public struct RPackagingError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Not numbers separated by `.` or `-` (what R's `numeric_version` rejects),
        /// or a component too large for R's integers.
        case invalidVersion
        /// Not `name` or `name (op version)`.
        case invalidRequirement
        /// Refused on purpose because it would reach R as something other than a
        /// package name: URLs, paths, `user/repo` remotes, options, R code.
        case forbiddenRequirement
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// A version as R's `package_version` / `numeric_version` sees it: integers
/// separated by `.` or `-`. `1.1-4` equals `1.1.4` and sorts after `1.1.3`;
/// `1.10` sorts after `1.9`; `1.0.1` sorts after `1.0`.
///
/// R has two orders that differ only on trailing zeros, and both are here:
/// - `==`, `<` and `compare` follow the `package_version` operators, which
///   R's installers use for dependency checks (`install.packages`,
///   `remotes`): missing components count as zero, so `1.0 == 1.0.0`.
/// - `compareVersion(_:_:)` follows base R's `compareVersion()`, where the
///   longer of two versions with an equal prefix is greater (`1.0.0` > `1.0`).
/// Both are cross-checked against R by scripts/gen-rversion-cases.R.
///
/// The text is kept as written (`description`) because the driver hands it back
/// to R and shows it in plans; equality and ordering use the numbers only.
public struct RVersion: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// R keeps components in 32-bit integers; larger ones turn into NA there.
    public static let maxComponent = Int(Int32.max)

    public let components: [Int]
    public let description: String

    public init(_ text: String) throws(RPackagingError) {
        var components: [Int] = []
        var current: Int?
        func bad(_ why: String) -> RPackagingError {
            RPackagingError(.invalidVersion, "'\(text)' is not an R version: \(why)")
        }
        for ch in text.unicodeScalars {
            if ("0"..."9").contains(ch) {
                let digit = Int(ch.value) - 48
                let next = (current ?? 0) * 10 + digit
                guard next <= Self.maxComponent else { throw bad("a number is larger than \(Self.maxComponent)") }
                current = next
            } else if ch == "." || ch == "-" {
                guard let c = current else { throw bad("numbers must be separated by single '.' or '-'") }
                components.append(c)
                current = nil
            } else {
                throw bad("use numbers separated by '.' or '-', such as 1.2-3")
            }
        }
        guard let last = current else {
            throw bad(text.isEmpty ? "it is empty" : "it must end with a number")
        }
        components.append(last)
        self.components = components
        self.description = text
    }

    /// The `package_version` order: -1, 0 or 1; missing components count as zero.
    public static func compare(_ a: RVersion, _ b: RVersion) -> Int {
        for i in 0..<max(a.components.count, b.components.count) {
            let x = i < a.components.count ? a.components[i] : 0
            let y = i < b.components.count ? b.components[i] : 0
            if x != y { return x < y ? -1 : 1 }
        }
        return 0
    }

    /// Base R's `compareVersion(a, b)`: -1, 0 or 1; with an equal prefix the
    /// longer version is greater, so `compareVersion("1.0", "1.0.0")` is -1.
    public static func compareVersion(_ a: RVersion, _ b: RVersion) -> Int {
        for (x, y) in zip(a.components, b.components) where x != y { return x < y ? -1 : 1 }
        return a.components.count == b.components.count ? 0 : (a.components.count < b.components.count ? -1 : 1)
    }

    public static func < (a: RVersion, b: RVersion) -> Bool { compare(a, b) < 0 }
    public static func == (a: RVersion, b: RVersion) -> Bool { compare(a, b) == 0 }
    /// Trailing zeros dropped, so that equal versions hash alike (`1.0` and `1.0.0`).
    public func hash(into hasher: inout Hasher) {
        var significant = components[...]
        while significant.last == 0 { significant = significant.dropLast() }
        hasher.combine(Array(significant))
    }
}
