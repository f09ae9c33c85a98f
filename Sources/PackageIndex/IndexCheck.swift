import Foundation
import Specs

/// `validate --check-index`: every requirement of every PythonEnvironment must
/// name a project its index has, and admit a release installable for the
/// env's Python.
///
/// The Python is the spec's `python: "3.X"`, on `InstallTarget.defaultPlatform`.
/// For `"3"` and `latest` the version is not known before observing the host,
/// so only the name and the specifier are checked (some non-yanked release
/// must match). A requirement with a marker is checked for its name only:
/// its marker may exclude it from this Python entirely.
public struct IndexCheck: Sendable {
    public var stateDirectory: URL
    public var platform: String
    /// Concurrent project-page fetches.
    public var parallelism = 8

    public init(stateDirectory: URL, platform: String = InstallTarget.defaultPlatform) {
        self.stateDirectory = stateDirectory
        self.platform = platform
    }

    private struct Item: Sendable {
        var requirement: Located<Requirement>
        var settings: IndexSettings?
        var python: String?
        var platform: String
    }

    /// Where an env's packages will be installed, as observed (for `plan`).
    public struct ObservedTarget: Sendable, Hashable {
        public var python: String
        public var platform: String
        public init(python: String, platform: String) {
            self.python = python
            self.platform = platform
        }
    }

    /// Checks the environments and returns one error per failing requirement.
    /// `observed` maps an env name to the Pythons observed for it on its
    /// hosts (plan); they replace what the spec says.
    public func check(_ specs: SpecSet, observed: [String: Set<ObservedTarget>] = [:]) async -> [Diagnostic] {
        let hosts = Dictionary(specs.hosts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var items: [Item] = []
        for env in specs.environments where env.state == .present {
            var settings = env.index
            if settings == nil, case .host(let name) = env.target.value { settings = hosts[name]?.index }
            var targets: [(python: String?, platform: String)] = []
            if let seen = observed[env.name], !seen.isEmpty {
                targets = seen.sorted { ($0.python, $0.platform) < ($1.python, $1.platform) }.map { ($0.python, $0.platform) }
            } else if case .minor(let m) = env.python {
                targets = [("3.\(m)", platform)]
            } else {
                targets = [(nil, platform)]
            }
            for target in targets {
                items += env.requirements.map { Item(requirement: $0, settings: settings, python: target.python, platform: target.platform) }
            }
        }
        let cache = HTTPCache(directory: stateDirectory.appendingPathComponent("package-index/http"))
        let names = try? NameIndex(stateDirectory: stateDirectory).open()

        // One fetch per (index settings, project), shared by every env using it.
        struct Key: Hashable, Sendable { var settings: IndexSettings?; var project: String }
        let keys = Array(Set(items.map { Key(settings: $0.settings, project: $0.requirement.value.normalizedName) }))
        var pages: [Key: Result<[IndexFile], IndexError>] = [:]
        await withTaskGroup(of: (Key, Result<[IndexFile], IndexError>).self) { group in
            var next = 0
            func add() {
                guard next < keys.count else { return }
                let key = keys[next]
                next += 1
                group.addTask {
                    let client = IndexClient(settings: key.settings, cache: cache)
                    do throws(IndexError) {
                        return (key, .success(try await client.files(project: key.project)))
                    } catch {
                        return (key, .failure(error))
                    }
                }
            }
            for _ in 0..<parallelism { add() }
            for await (key, result) in group {
                pages[key] = result
                add()
            }
        }

        var diagnostics: [Diagnostic] = []
        for item in items {
            let requirement = item.requirement.value
            let location = item.requirement.location
            switch pages[Key(settings: item.settings, project: requirement.normalizedName)] {
            case .failure(let error) where error.kind == .projectNotFound:
                var message = "\(requirement.name): \(error.message)"
                if let suggestions = try? names?.closest(to: requirement.name), !suggestions.isEmpty {
                    message += "; did you mean \(suggestions.joined(separator: ", "))?"
                }
                diagnostics.append(.error(location, message))
            case .failure(let error):
                diagnostics.append(.error(location, "\(requirement.name): cannot check against the package index: \(error.message)"))
            case .success(let files):
                if requirement.marker != nil { continue }
                if let message = Self.problem(requirement, files: files, python: item.python, platform: item.platform) {
                    diagnostics.append(.error(location, message))
                }
            case nil:
                continue
            }
        }
        return diagnostics
    }

    /// Why `requirement` has no installable release among `files`, or nil.
    static func problem(_ requirement: Requirement, files: [IndexFile], python: String?, platform: String) -> String? {
        let project = requirement.normalizedName
        let specifier = requirement.specifier
        guard let python, let target = try? InstallTarget(python: python, platform: platform) else {
            let releases = Set(files.filter { $0.yanked == nil }.compactMap { DistributionFilename($0.filename, project: project)?.version })
            if releases.contains(where: { specifier.contains($0) }) { return nil }
            let newest = releases.max().map { " (newest: \($0))" } ?? ""
            return "\(requirement): no release of \(requirement.name) matches \(specifier.isEmpty ? "any version" : specifier.description)\(newest)"
        }
        let installable = Installability(target: target).installableVersions(files, project: project)
        if installable.contains(where: { specifier.contains($0.version) }) { return nil }
        let matchingReleases = Installability.allVersions(files, project: project).filter { specifier.contains($0) }
        let newest = installable.first.map { "; newest that does: \($0.version)" } ?? "; no release does"
        if matchingReleases.isEmpty {
            return "\(requirement): no release of \(requirement.name) matches \(specifier)\(newest)"
        }
        let what = specifier.isEmpty ? "no release of \(requirement.name)" : "no release matching \(specifier)"
        return "\(requirement): \(what) has a file installable on \(target)\(newest)"
    }
}
