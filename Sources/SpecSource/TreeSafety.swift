import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Makes a fresh checkout safe to hand to a spec loader.
enum TreeSafety {
    /// Links resolved through more than this many other links are treated as escaping
    /// (the kernel's own limit is 40; a loop never ends otherwise).
    private static let maximumLinkExpansions = 40

    /// Deletes every symbolic link under `root` whose target, followed link by link,
    /// would leave `root`; returns their paths relative to `root`, sorted.
    ///
    /// Resolution is done by hand, inside the tree only: an absolute target, or a `..`
    /// above `root` at any step, counts as escaping — even when the target does not
    /// exist yet, since something could create it later. Nothing outside `root` is
    /// ever looked at.
    static func removeEscapingSymlinks(root: String) throws(SourceError) -> [String] {
        var escaping: [[String]] = []
        var pending: [[String]] = [[]]  // directories to visit, as components below root
        while let directory = pending.popLast() {
            let directoryPath = path(root, directory)
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: directoryPath)
            } catch {
                throw SourceError(kind: .unsafeTree, message: "read \(directoryPath): \(error.localizedDescription)")
            }
            for name in names {
                let components = directory + [name]
                let fullPath = path(root, components)
                var info = stat()
                guard lstat(fullPath, &info) == 0 else { continue }
                switch info.st_mode & S_IFMT {
                case S_IFDIR:
                    pending.append(components)
                case S_IFLNK:
                    if !staysInside(root: root, link: components) { escaping.append(components) }
                default:
                    break
                }
            }
        }
        // Removed only after all are judged: deleting one first could make another that
        // leads through it look harmless.
        var removed: [String] = []
        for components in escaping {
            let fullPath = path(root, components)
            guard unlink(fullPath) == 0 else {
                throw SourceError(kind: .unsafeTree, message:
                    "remove symlink \(fullPath) leading outside the tree: \(String(cString: strerror(errno)))")
            }
            removed.append(components.joined(separator: "/"))
        }
        return removed.sorted()
    }

    /// Whether following the link at `link` (components below `root`) stays in `root`.
    static func staysInside(root: String, link: [String]) -> Bool {
        var resolved = Array(link.dropLast())  // where relative targets start from
        guard var remaining = linkTarget(path(root, link)) else { return false }
        var expansions = 1
        while !remaining.isEmpty {
            let component = remaining.removeFirst()
            switch component {
            case "", ".":
                continue
            case "..":
                if resolved.isEmpty { return false }
                resolved.removeLast()
            default:
                resolved.append(component)
                var info = stat()
                let current = path(root, resolved)
                if lstat(current, &info) == 0, info.st_mode & S_IFMT == S_IFLNK {
                    expansions += 1
                    guard expansions <= maximumLinkExpansions, let target = linkTarget(current) else { return false }
                    resolved.removeLast()
                    remaining = target + remaining
                }
            }
        }
        return true
    }

    /// The components of a link's target, or nil when it is absolute or unreadable.
    private static func linkTarget(_ path: String) -> [String]? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink(path, &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        let target = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard !target.hasPrefix("/") else { return nil }
        return target.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    }

    /// Creates `relative` (a submodule path from the tree) below `root` as an empty
    /// directory, refusing odd components and never passing through a symlink.
    static func createEmptyDirectory(_ relative: String, in root: String) throws(SourceError) {
        var current = root
        for component in relative.split(separator: "/", omittingEmptySubsequences: false).map(String.init) {
            guard !["", ".", ".."].contains(component), component.lowercased() != ".git" else {
                throw SourceError(kind: .unsafeTree, message: "submodule path \(relative) is not a plain relative path")
            }
            current += "/" + component
            var info = stat()
            if lstat(current, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFDIR else {
                    throw SourceError(kind: .unsafeTree, message: "submodule path \(relative) crosses a non-directory")
                }
            } else if mkdir(current, 0o755) != 0 {
                throw SourceError(kind: .unsafeTree, message: "create \(current): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Removes write permission everywhere under `root`, so that nothing that reads
    /// specs from the tree can change it by accident.
    static func makeReadOnly(root: String) {
        var directories: [String] = []
        var pending = [root]
        while let directory = pending.popLast() {
            directories.append(directory)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
                let fullPath = directory + "/" + name
                var info = stat()
                guard lstat(fullPath, &info) == 0 else { continue }
                switch info.st_mode & S_IFMT {
                case S_IFDIR: pending.append(fullPath)
                case S_IFREG: chmod(fullPath, info.st_mode & 0o555)
                default: break  // symlinks have no permissions of their own
                }
            }
        }
        // Directories last: a read-only directory's entries could not be changed.
        for directory in directories.reversed() { chmod(directory, 0o555) }
    }

    /// Deletes a tree made read-only by `makeReadOnly`.
    static func removeTree(_ root: String) {
        var info = stat()
        guard lstat(root, &info) == 0 else { return }
        var pending = [root]
        while let directory = pending.popLast() {
            guard lstat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else { continue }
            chmod(directory, 0o755)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
                pending.append(directory + "/" + name)
            }
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    private static func path(_ root: String, _ components: [String]) -> String {
        components.isEmpty ? root : root + "/" + components.joined(separator: "/")
    }
}
