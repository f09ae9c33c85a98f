// The manifests directory (`--manifests DIR`, the path Flux watches) as plan,
// apply, render and the daemon read and write it: the IO around the manifest
// drivers' pure comparison.

import Drivers
import Foundation
import Specs

/// Why a manifests directory could not be read or written: "PATH: message".
public struct ManifestDirectoryError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }
}

/// The files of a manifests directory: read for planning, written by apply and render.
public struct ManifestDirectory: Sendable {
    public let root: URL
    public init(_ path: String) { root = URL(fileURLWithPath: path) }

    /// The plan's manifest section for `specs` against this directory: read here,
    /// compared by the manifest drivers (pure).
    public func section(_ specs: SpecSet) throws -> ManifestSection? {
        let rendered = DriverRegistry.renderManifests(specs)
        return ManifestSection.plan(rendered, changes: DriverRegistry.planManifests(specs, existing: try read()),
                                    directory: root.relativePath)
    }

    /// Every regular `.yaml`/`.yml` file under the directory (relative path → text),
    /// hidden folders (`.git`) and symbolic links left out. A missing directory is empty.
    public func read() throws -> [String: String] {
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
                throw ManifestDirectoryError(path: path, message: "cannot read: \(error.localizedDescription)")
            }
        }
        return files
    }

    /// Writes a file atomically, never through a symbolic link planted in the directory.
    public func write(_ relative: String, _ content: String) throws {
        try refuseSymbolicLinks(relative)
        let url = root.appendingPathComponent(relative)
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(content.utf8).write(to: url, options: .atomic)
        } catch {
            throw ManifestDirectoryError(path: url.path, message: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Removes a file, then the folders it leaves empty (up to, not including, the root).
    public func delete(_ relative: String) throws {
        try refuseSymbolicLinks(relative)
        var url = root.appendingPathComponent(relative)
        do { try FileManager.default.removeItem(at: url) } catch {
            throw ManifestDirectoryError(path: url.path, message: "cannot remove: \(error.localizedDescription)")
        }
        for _ in relative.split(separator: "/").dropLast() {
            url.deleteLastPathComponent()
            guard (try? FileManager.default.contentsOfDirectory(atPath: url.path))?.isEmpty == true else { break }
            try? FileManager.default.removeItem(at: url)
        }
    }

    /// Carries out the plan's manifest changes, in its order.
    public func apply(_ changes: [ManifestChange]) throws {
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
                throw ManifestDirectoryError(path: url.path, message: "is a symbolic link; refusing to write through it")
            }
        }
    }
}
