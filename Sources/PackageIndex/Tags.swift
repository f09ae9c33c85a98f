import Specs

/// A wheel compatibility tag, `python-abi-platform` (PEP 425), lowercased.
public struct WheelTag: Hashable, Sendable, CustomStringConvertible {
    public var interpreter: String
    public var abi: String
    public var platform: String
    public init(_ interpreter: String, _ abi: String, _ platform: String) {
        self.interpreter = interpreter.lowercased()
        self.abi = abi.lowercased()
        self.platform = platform.lowercased()
    }
    public var description: String { "\(interpreter)-\(abi)-\(platform)" }
}

/// Where a file would be installed: a CPython `major.minor[.micro]` on one platform.
///
/// The tag list mirrors `packaging.tags.sys_tags()` for CPython (what pip
/// uses), with the platform given instead of read from the running machine:
/// `manylinux_2_36_x86_64` stands for "glibc 2.36 on x86_64" and accepts every
/// older manylinux tag, the legacy aliases and `linux_x86_64`;
/// `musllinux_1_2_x86_64` likewise for musl. Any other platform string (a
/// macOS or Windows tag) is accepted only as itself.
public struct InstallTarget: Sendable, Hashable, CustomStringConvertible {
    /// Debian 12 on x86_64: what labsync's hosts run unless told otherwise.
    public static let defaultPlatform = "manylinux_2_36_x86_64"

    public var major: Int
    public var minor: Int
    /// For `requires-python`: pip compares the full version and pads a
    /// `major.minor` with `.0`, so `>=3.11.2` excludes a bare `3.11`.
    public var pythonVersion: Version
    public var platform: String

    public init(python: String, platform: String = InstallTarget.defaultPlatform) throws(IndexError) {
        let parts = python.split(separator: ".").map { Int($0) }
        guard parts.count >= 2, parts.count <= 3, parts.allSatisfy({ $0 != nil && $0! >= 0 }), parts[0] == 3 else {
            throw IndexError(.invalidArgument, "python must be 3.X or 3.X.Y, not \"\(python)\"")
        }
        major = parts[0]!
        minor = parts[1]!
        let padded = (parts.map { $0! } + [0, 0]).prefix(3)
        pythonVersion = Version(release: Array(padded))
        self.platform = platform.lowercased().replacingOccurrences(of: "-", with: "_")
            .replacingOccurrences(of: ".", with: "_")
    }

    public var description: String { "Python \(major).\(minor) (\(platform))" }

    /// Every tag this target accepts, most preferred first.
    public var supportedTags: [WheelTag] {
        let platforms = Self.compatiblePlatforms(platform)
        let interpreter = "cp\(major)\(minor)"
        let abi = minor >= 8 ? interpreter : interpreter + "m"
        var tags: [WheelTag] = []
        // packaging.tags.cpython_tags
        tags += platforms.map { WheelTag(interpreter, abi, $0) }
        let abi3 = minor >= 2
        if abi3 { tags += platforms.map { WheelTag(interpreter, "abi3", $0) } }
        tags += platforms.map { WheelTag(interpreter, "none", $0) }
        if abi3 {
            for older in stride(from: minor - 1, through: 2, by: -1) {
                tags += platforms.map { WheelTag("cp\(major)\(older)", "abi3", $0) }
            }
        }
        // packaging.tags.compatible_tags
        let pyRange = ["py\(major)\(minor)", "py\(major)"] + stride(from: minor - 1, through: 0, by: -1).map { "py\(major)\($0)" }
        for py in pyRange { tags += platforms.map { WheelTag(py, "none", $0) } }
        tags.append(WheelTag(interpreter, "none", "any"))
        tags += pyRange.map { WheelTag($0, "none", "any") }
        return tags
    }

    /// Platform tags a machine described by `platform` accepts, best first.
    static func compatiblePlatforms(_ platform: String) -> [String] {
        let legacyToModern = ["manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)]
        for (legacy, glibc) in legacyToModern where platform.hasPrefix(legacy + "_") {
            let arch = String(platform.dropFirst(legacy.count + 1))
            return manylinuxPlatforms(glibc: glibc, arch: arch)
        }
        if let (a, b, arch) = splitVersioned(platform, prefix: "manylinux_") {
            return manylinuxPlatforms(glibc: (a, b), arch: arch)
        }
        if let (a, b, arch) = splitVersioned(platform, prefix: "musllinux_") {
            return archs(arch).flatMap { arch in stride(from: b, through: 0, by: -1).map { "musllinux_\(a)_\($0)_\(arch)" } }
                + archs(arch).map { "linux_\($0)" }
        }
        return [platform]
    }

    private static func archs(_ arch: String) -> [String] { arch == "armv8l" ? ["armv8l", "armv7l"] : [arch] }

    /// `packaging._manylinux.platform_tags` for a given glibc, then `linux_<arch>`.
    private static func manylinuxPlatforms(glibc: (Int, Int), arch: String) -> [String] {
        let legacy = ["2.17": "manylinux2014", "2.12": "manylinux2010", "2.5": "manylinux1"]
        // The oldest glibc manylinux covers: 2.5 on x86, 2.17 elsewhere.
        let tooOld = (arch == "x86_64" || arch == "i686") ? (2, 4) : (2, 16)
        // Compatibility is assumed across glibc majors (each older major up to minor 50).
        var maxima = [glibc]
        if glibc.0 > 2 { for major in stride(from: glibc.0 - 1, through: 2, by: -1) { maxima.append((major, 50)) } }
        var result: [String] = []
        for arch in archs(arch) {
            for maximum in maxima {
                let minMinor = maximum.0 == tooOld.0 ? tooOld.1 : -1
                var minorValue = maximum.1
                while minorValue > minMinor {
                    result.append("manylinux_\(maximum.0)_\(minorValue)_\(arch)")
                    if let alias = legacy["\(maximum.0).\(minorValue)"] { result.append("\(alias)_\(arch)") }
                    minorValue -= 1
                }
            }
        }
        return result + archs(arch).map { "linux_\($0)" }
    }

    /// `manylinux_2_36_x86_64` → (2, 36, "x86_64").
    private static func splitVersioned(_ s: String, prefix: String) -> (Int, Int, String)? {
        guard s.hasPrefix(prefix) else { return nil }
        let parts = s.dropFirst(prefix.count).split(separator: "_", maxSplits: 2)
        guard parts.count == 3, let a = Int(parts[0]), let b = Int(parts[1]), !parts[2].isEmpty else { return nil }
        return (a, b, String(parts[2]))
    }
}

/// What a distribution file's name says: project, version, and for wheels the tags.
public struct DistributionFilename: Sendable, Hashable {
    public enum Kind: String, Sendable { case wheel, sdist }
    public var kind: Kind
    public var normalizedName: String
    public var version: Version
    /// Empty for sdists.
    public var tags: [WheelTag]

    static let sdistExtensions = [".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip"]

    /// Parses a wheel (`name-version[-build]-py-abi-plat.whl`, compressed tag
    /// sets like `cp311.cp312` expanded) or an sdist archive. Sdist names are
    /// ambiguous (`foo-bar-1.0.tar.gz`), so the project's name, when known,
    /// decides where the version starts, as pip does. Nil for anything else
    /// (eggs, installers, unparseable versions).
    public init?(_ filename: String, project: String? = nil) {
        let lower = filename.lowercased()
        if lower.hasSuffix(".whl") {
            let stem = filename.dropLast(4)
            let parts = stem.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 5 || parts.count == 6 else { return nil }
            guard parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }),
                  let version = try? Version(String(parts[1])) else { return nil }
            if parts.count == 6 { guard parts[2].first?.isNumber == true else { return nil } }
            let n = parts.count
            var tags: [WheelTag] = []
            for py in parts[n - 3].split(separator: ".") {
                for abi in parts[n - 2].split(separator: ".") {
                    for plat in parts[n - 1].split(separator: ".") { tags.append(WheelTag(String(py), String(abi), String(plat))) }
                }
            }
            guard !tags.isEmpty else { return nil }
            self.init(kind: .wheel, normalizedName: normalizePackageName(String(parts[0])), version: version, tags: tags)
            return
        }
        guard let ext = Self.sdistExtensions.first(where: { lower.hasSuffix($0) }) else { return nil }
        let stem = String(filename.dropLast(ext.count))
        var split: String.Index?
        if let project {
            let wanted = normalizePackageName(project)
            var i = stem.startIndex
            while let dash = stem[i...].firstIndex(of: "-") {
                if normalizePackageName(String(stem[..<dash])) == wanted { split = dash; break }
                i = stem.index(after: dash)
            }
        } else {
            split = stem.lastIndex(of: "-")
        }
        guard let dash = split, let version = try? Version(String(stem[stem.index(after: dash)...])) else { return nil }
        self.init(kind: .sdist, normalizedName: normalizePackageName(String(stem[..<dash])), version: version, tags: [])
    }

    init(kind: Kind, normalizedName: String, version: Version, tags: [WheelTag]) {
        self.kind = kind
        self.normalizedName = normalizedName
        self.version = version
        self.tags = tags
    }
}
