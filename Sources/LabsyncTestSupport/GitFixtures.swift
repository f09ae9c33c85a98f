import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real bare git repository for tests, built with the `git` command-line tool.
///
/// Changes are made in a private working clone (`workDirectory`) and pushed to the bare
/// repository (`bareDirectory`), which is what the code under test clones from — over a
/// path, `file://`, or `ssh://` through the test sshd.
public struct GitFixture: Sendable {
    /// The bare repository: clone this.
    public let bareDirectory: URL
    /// The working clone the fixture commits in.
    public let workDirectory: URL

    public var path: String { bareDirectory.path }
    public var fileURL: String { "file://" + bareDirectory.path }

    /// Creates `<parent>/<name>.git` (bare) with one commit holding `files` on `branch`,
    /// which becomes the bare repository's HEAD.
    public static func create(
        in parent: URL, name: String = "specs", branch: String = "main",
        files: [String: String], message: String = "initial"
    ) throws -> GitFixture {
        let bare = parent.appendingPathComponent("\(name).git")
        let work = parent.appendingPathComponent("\(name)-work")
        try runGit(["init", "--quiet", "--bare", "--initial-branch=\(branch)", bare.path])
        try runGit(["init", "--quiet", "--initial-branch=\(branch)", work.path])
        let fixture = GitFixture(bareDirectory: bare, workDirectory: work)
        try fixture.git("remote", "add", "origin", bare.path)
        try fixture.commit(files: files, message: message)
        return fixture
    }

    /// Writes `files` (path → content) into the working clone, removes `removing`,
    /// commits everything, pushes the current branch, and returns the new commit's sha.
    @discardableResult
    public func commit(files: [String: String] = [:], removing: [String] = [], message: String) throws -> String {
        for (path, content) in files {
            let url = workDirectory.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(content.utf8).write(to: url)
        }
        for path in removing {
            try git("rm", "-r", "--quiet", "--", path)
        }
        try git("add", "-A")
        try git("commit", "--quiet", "--allow-empty", "-m", message)
        try push()
        return try headSHA()
    }

    /// Adds a symbolic link `path` → `target` (stored verbatim, as git does) and commits it.
    @discardableResult
    public func commitSymlink(_ path: String, target: String, message: String = "add symlink") throws -> String {
        let url = workDirectory.appendingPathComponent(path)
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard symlink(target, url.path) == 0 else {
            throw GitFixtureError(message: "symlink \(path) -> \(target): \(String(cString: strerror(errno)))")
        }
        return try commit(message: message)
    }

    /// Commits a submodule: a `.gitmodules` entry plus a gitlink (mode 160000) at `path`
    /// pointing at `commit`, without cloning anything — exactly what a hostile repository
    /// can contain. The submodule URL can be anything, e.g. a path whose checkout would
    /// plant files.
    @discardableResult
    public func commitSubmoduleEntry(path: String, url: String, commit sha: String) throws -> String {
        let modules = """
            [submodule "\(path)"]
            \tpath = \(path)
            \turl = \(url)

            """
        try Data(modules.utf8).write(to: workDirectory.appendingPathComponent(".gitmodules"))
        try git("add", ".gitmodules")
        try git("update-index", "--add", "--cacheinfo", "160000,\(sha),\(path)")
        try git("commit", "--quiet", "-m", "add submodule \(path)")
        try push()
        return try headSHA()
    }

    /// Creates `name` at the current commit (or `at`) and pushes it.
    public func createBranch(_ name: String, at revision: String? = nil) throws {
        try git(["branch", "--force", name] + (revision.map { [$0] } ?? []))
        try git("push", "--quiet", "--force", "origin", "refs/heads/\(name):refs/heads/\(name)")
    }

    /// Switches the working clone to `name` (later commits go there).
    public func checkout(_ name: String) throws {
        try git("checkout", "--quiet", name)
    }

    /// Creates a tag (annotated when `annotated`) at the current commit (or `at`) and pushes it.
    public func createTag(_ name: String, at revision: String? = nil, annotated: Bool = false) throws {
        var arguments = ["tag", "--force"]
        if annotated { arguments += ["-a", "-m", "tag \(name)"] }
        arguments.append(name)
        if let revision { arguments.append(revision) }
        try git(arguments)
        try git("push", "--quiet", "--force", "origin", "refs/tags/\(name):refs/tags/\(name)")
    }

    /// Installs an executable hook script in the bare repository (`hooks/<name>`), e.g.
    /// one that creates a marker file; a test then asserts the marker never appears.
    /// Install hooks after the fixture's last change: the fixture's own pushes run the
    /// bare repository's receive-side hooks (which also proves a hook works).
    public func installHook(_ name: String, script: String) throws {
        let hooks = bareDirectory.appendingPathComponent("hooks")
        try FileManager.default.createDirectory(at: hooks, withIntermediateDirectories: true)
        let url = hooks.appendingPathComponent(name)
        try Data(script.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
    }

    public func headSHA() throws -> String {
        try git("rev-parse", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func push() throws {
        let branch = try git("symbolic-ref", "--short", "HEAD").trimmingCharacters(in: .whitespacesAndNewlines)
        try git("push", "--quiet", "--force", "origin", "refs/heads/\(branch):refs/heads/\(branch)")
    }

    @discardableResult
    public func git(_ arguments: String...) throws -> String {
        try git(arguments)
    }

    @discardableResult
    public func git(_ arguments: [String]) throws -> String {
        try GitFixture.runGit(["-C", workDirectory.path] + arguments)
    }

    /// Runs `git` with a clean, fixed configuration: no user or system config, fixed
    /// identity, so fixtures are the same on every machine.
    @discardableResult
    public static func runGit(_ arguments: [String]) throws -> String {
        let environment = [
            "HOME": "/nonexistent",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": "labsync test", "GIT_AUTHOR_EMAIL": "test@labsync.invalid",
            "GIT_COMMITTER_NAME": "labsync test", "GIT_COMMITTER_EMAIL": "test@labsync.invalid",
        ]
        let result = try Spawn.run(["git"] + arguments, env: environment)
        guard result.status == 0 else {
            throw GitFixtureError(message:
                "git \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderrText)")
        }
        return result.stdoutText
    }

    /// Makes a fresh directory under the system temp directory.
    public static func makeTemporaryDirectory(prefix: String = "git") throws -> URL {
        URL(fileURLWithPath: try Spawn.makeTempDirectory(prefix: prefix), isDirectory: true)
    }

    /// Removes a directory tree, first giving back write permission to read-only
    /// directories (checked-out trees are made read-only).
    public static func removeTree(_ url: URL) {
        if let walker = FileManager.default.enumerator(atPath: url.path) {
            chmod(url.path, 0o755)
            while let relative = walker.nextObject() as? String {
                let path = url.appendingPathComponent(relative).path
                var info = stat()
                if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { chmod(path, 0o755) }
            }
        }
        try? FileManager.default.removeItem(at: url)
    }
}

public struct GitFixtureError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
