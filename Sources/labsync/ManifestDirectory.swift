import ArgumentParser
import Drivers
import Foundation
import Reconciler
import Specs

/// `--manifests DIR` of plan and apply: the GitOps directory Kubernetes hubs are
/// planned against and written to.
struct ManifestOptions: ParsableArguments {
    @Option(name: .customLong("manifests"),
            help: "Plan (and apply) the Kubernetes hubs against this directory (usually the path Flux watches).")
    var manifests: String?

    /// The plan's manifest section: the directory read here (the IO), compared by the drivers (pure).
    func section(_ specs: SpecSet) throws -> ManifestSection? {
        let rendered = DriverRegistry.renderManifests(specs)
        guard let manifests else { return ManifestSection.plan(rendered, changes: nil, directory: nil) }
        let existing = try ManifestDirectory(manifests).read()
        return ManifestSection.plan(rendered, changes: DriverRegistry.planManifests(specs, existing: existing),
                                    directory: manifests)
    }
}

/// The files of a manifests directory: read for planning, written by apply and render.
struct ManifestDirectory {
    let root: URL
    init(_ path: String) { root = URL(fileURLWithPath: path) }

    /// Every regular `.yaml`/`.yml` file under the directory (relative path → text),
    /// hidden folders (`.git`) and symbolic links left out. A missing directory is empty.
    func read() throws -> [String: String] {
        var files: [String: String] = [:]
        guard FileManager.default.fileExists(atPath: root.path) else { return files }
        guard let walker = FileManager.default.enumerator(
            at: root, includingPropertiesForKeys: [.isRegularFileKey, .isSymbolicLinkKey, .fileSizeKey],
            options: [.skipsHiddenFiles]) else { return files }
        let base = root.standardizedFileURL.path
        for case let url as URL in walker {
            let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .isSymbolicLinkKey, .fileSizeKey])
            guard values?.isSymbolicLink != true, values?.isRegularFile == true,
                  ["yaml", "yml"].contains(url.pathExtension), (values?.fileSize ?? 0) <= 1 << 20 else { continue }
            let path = url.standardizedFileURL.path
            guard path.hasPrefix(base + "/") else { continue }
            do {
                files[String(path.dropFirst(base.count + 1))] = try String(contentsOf: url, encoding: .utf8)
            } catch {
                printError("error: cannot read \(path): \(error.localizedDescription)")
                throw ExitCode.failure
            }
        }
        return files
    }

    /// Writes a file atomically, never through a symbolic link planted in the directory.
    func write(_ relative: String, _ content: String) throws {
        try refuseSymbolicLinks(relative)
        let url = root.appendingPathComponent(relative)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(content.utf8).write(to: url, options: .atomic)
        } catch {
            printError("\(url.path): cannot write: \(error.localizedDescription)")
            throw ExitCode.failure
        }
    }

    /// Removes a file, then the folders it leaves empty (up to, not including, the root).
    func delete(_ relative: String) throws {
        try refuseSymbolicLinks(relative)
        var url = root.appendingPathComponent(relative)
        do { try FileManager.default.removeItem(at: url) } catch {
            printError("\(url.path): cannot remove: \(error.localizedDescription)")
            throw ExitCode.failure
        }
        for _ in relative.split(separator: "/").dropLast() {
            url.deleteLastPathComponent()
            guard (try? FileManager.default.contentsOfDirectory(atPath: url.path))?.isEmpty == true else { break }
            try? FileManager.default.removeItem(at: url)
        }
    }

    /// Carries out the plan's manifest changes, in its order.
    func apply(_ changes: [ManifestChange]) throws {
        for change in changes {
            if let content = change.content { try write(change.path, content) } else { try delete(change.path) }
        }
    }

    /// DIR is often a checkout of someone else's repository: a symbolic link
    /// planted inside it must not send labsync's writes elsewhere.
    private func refuseSymbolicLinks(_ relative: String) throws {
        var url = root
        for component in relative.split(separator: "/") {
            url.appendPathComponent(String(component))
            var info = stat()
            if lstat(url.path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK {
                printError("\(url.path): is a symbolic link; refusing to write through it")
                throw ExitCode.failure
            }
        }
    }
}
