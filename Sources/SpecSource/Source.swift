import Foundation
import Remote

/// A read-only directory of specs and the revision it came from.
public struct SourceTree: Sendable, Equatable {
    /// The directory to load specs from. For git sources it is a clean checkout that
    /// nobody writes to (files and directories are made read-only).
    public var root: URL
    /// The full commit sha; nil for a plain directory that is not a git work tree.
    public var revision: String?
    /// The ref that was asked for, or for git sources without one the remote's default
    /// branch (e.g. `main`); nil for a plain directory.
    public var ref: String?
    /// Symbolic links that were removed from a git checkout because they resolve to
    /// somewhere outside `root` (paths relative to `root`), so callers can warn.
    public var removedSymlinks: [String]

    /// The first line of the commit's message (what the status page shows beside
    /// the sha); nil for a plain directory or when it cannot be read.
    public var subject: String?

    public init(root: URL, revision: String?, ref: String?, removedSymlinks: [String] = [], subject: String? = nil) {
        self.root = root
        self.revision = revision
        self.ref = ref
        self.removedSymlinks = removedSymlinks
        self.subject = subject
    }
}

/// Where desired state comes from: a local directory or a git repository.
public protocol Source: Sendable {
    /// Produces the current tree: for git, fetches and checks out the ref.
    func fetch() async throws -> SourceTree
}

public struct SourceError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The directory or repository does not exist.
        case notFound
        /// The branch, tag or commit is not in the repository.
        case refNotFound
        /// The ssh host key of the git server was refused (unknown or changed).
        case hostKey
        /// The git server did not accept any credential.
        case authentication
        /// Connecting to or talking with the git server failed.
        case network
        /// The checkout could not be made safe to read.
        case unsafeTree
        /// Anything else libgit2 or the file system reported.
        case git
    }

    public var kind: Kind
    public var message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// A local directory used as it is: what a laptop user runs `labsync plan` against.
public struct DirectorySource: Source {
    public var path: String

    public init(path: String) {
        self.path = path
    }

    public func fetch() async throws -> SourceTree {
        let root = URL(fileURLWithPath: expandTilde(path), isDirectory: true).standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SourceError(kind: .notFound, message: "\(path): no such directory")
        }
        // For a git work tree, HEAD names what the specs mostly are; uncommitted
        // changes are not reflected in it.
        let revision = try? await LibGit2.run { try LibGit2.workTreeHead(root.path) }
        return SourceTree(root: root, revision: revision ?? nil, ref: nil)
    }
}

/// Picks the source for `--repo` / `--ref`.
///
/// - A URL (`file://`, `ssh://`, `https://`, `http://`, `git://`) or scp-like `user@host:path`
///   is a git repository.
/// - A local path with a `ref`, or one that is a bare repository, is a git repository
///   cloned into the cache like any other.
/// - Any other local path is used as a directory (a missing one fails on `fetch()`).
///
/// Git mirrors and checkouts live under `<stateDirectory>/git`.
public func makeSource(
    repo: String, ref: String?, stateDirectory: URL,
    hostKeyPolicy: HostKeyPolicy = HostKeyPolicy(), credentials: GitCredentials = GitCredentials()
) -> any Source {
    let cache = stateDirectory.appendingPathComponent("git", isDirectory: true)
    func git(_ url: String) -> any Source {
        GitSource(url: url, ref: ref, cacheDirectory: cache, hostKeyPolicy: hostKeyPolicy, credentials: credentials)
    }
    if isRemoteURL(repo) {
        return git(repo)
    }
    let path = URL(fileURLWithPath: expandTilde(repo)).standardizedFileURL.path
    if ref != nil || isBareRepository(path) {
        return git(path)
    }
    return DirectorySource(path: path)
}

/// Git's own rule: a scheme, or a colon before the first slash (`host:path`,
/// `user@host:path`), means a remote; everything else is a local path.
func isRemoteURL(_ repo: String) -> Bool {
    if repo.contains("://") { return true }
    guard let colon = repo.firstIndex(of: ":") else { return false }
    if let slash = repo.firstIndex(of: "/"), slash < colon { return false }
    return colon != repo.startIndex
}

private func isBareRepository(_ path: String) -> Bool {
    let manager = FileManager.default
    var isDirectory: ObjCBool = false
    return manager.fileExists(atPath: path + "/HEAD")
        && manager.fileExists(atPath: path + "/objects", isDirectory: &isDirectory) && isDirectory.boolValue
        && manager.fileExists(atPath: path + "/refs", isDirectory: &isDirectory) && isDirectory.boolValue
}

func expandTilde(_ path: String) -> String {
    guard path == "~" || path.hasPrefix("~/") else { return path }
    let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
    return home + path.dropFirst()
}
