import Specs

/// One release and the files of it that would install on a target.
public struct InstallableVersion: Sendable, Hashable, CustomStringConvertible {
    public var version: Version
    /// Installable files, wheels first (in the target's tag preference), then sdists.
    public var files: [String]
    public var hasWheel: Bool
    public var hasSdist: Bool

    /// `2.1.0  wheel+sdist`: the version, then what would be installed.
    public var description: String {
        let kinds = [hasWheel ? "wheel" : nil, hasSdist ? "sdist" : nil].compactMap { $0 }.joined(separator: "+")
        return "\(version)  \(kinds)\(version.isPrerelease ? "  pre-release" : "")"
    }
}

/// Why a file does not count, for explanations.
public enum FileVerdict: Sendable, Hashable {
    case installable
    case yanked
    case requiresPython(String)
    case incompatibleTags
    case unrecognizedFilename
}

/// pip's rules for "could this file be installed there", without downloading it.
public struct Installability: Sendable {
    public var target: InstallTarget
    /// Tag → preference (lower is better); built once per target.
    private let tagRank: [WheelTag: Int]

    public init(target: InstallTarget) {
        self.target = target
        var rank: [WheelTag: Int] = [:]
        for (i, tag) in target.supportedTags.enumerated() where rank[tag] == nil { rank[tag] = i }
        tagRank = rank
    }

    public func verdict(_ file: IndexFile, project: String) -> (FileVerdict, DistributionFilename?) {
        guard let parsed = DistributionFilename(file.filename, project: project) else { return (.unrecognizedFilename, nil) }
        if file.yanked != nil { return (.yanked, parsed) }
        // An unparseable requires-python is ignored, as pip does.
        if let text = file.requiresPython, !text.trimmingCharacters(in: .whitespaces).isEmpty,
           let specifier = try? SpecifierSet(text), !specifier.contains(target.pythonVersion, prereleases: true) {
            return (.requiresPython(text), parsed)
        }
        if parsed.kind == .wheel, bestRank(parsed) == nil { return (.incompatibleTags, parsed) }
        return (.installable, parsed)
    }

    private func bestRank(_ filename: DistributionFilename) -> Int? {
        filename.tags.compactMap { tagRank[$0] }.min()
    }

    /// Releases with at least one installable file, newest first.
    public func installableVersions(_ files: [IndexFile], project: String) -> [InstallableVersion] {
        var byVersion: [Version: [(file: String, rank: Int, kind: DistributionFilename.Kind)]] = [:]
        for file in files {
            let (verdict, parsed) = verdict(file, project: project)
            guard verdict == .installable, let parsed else { continue }
            let rank = parsed.kind == .wheel ? bestRank(parsed) ?? Int.max : Int.max
            byVersion[parsed.version, default: []].append((file.filename, rank, parsed.kind))
        }
        return byVersion.map { version, files in
            let sorted = files.sorted { ($0.rank, $0.file) < ($1.rank, $1.file) }
            return InstallableVersion(version: version, files: sorted.map(\.file),
                                      hasWheel: files.contains { $0.kind == .wheel },
                                      hasSdist: files.contains { $0.kind == .sdist })
        }.sorted { $0.version > $1.version }
    }

    /// Every release the files name (installable here or not), newest first.
    public static func allVersions(_ files: [IndexFile], project: String) -> [Version] {
        Array(Set(files.compactMap { DistributionFilename($0.filename, project: project)?.version })).sorted(by: >)
    }
}
