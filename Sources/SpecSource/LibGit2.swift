import CLibGit2
import Foundation
import Remote

/// Every libgit2 call of labsync happens in here, on one dedicated serial queue:
/// - libgit2 calls block (network, disk), and Swift's cooperative pool has only as
///   many threads as cores — a blocking fetch there would stall everything else;
/// - `git_error_last` is per thread, so `check` must run right after the failing call
///   on the same thread;
/// - one queue means two sources never work in the same cache at once in this process
///   (another process is kept out by a lock file, see `withMirrorLock`).
enum LibGit2 {
    private static let queue = DispatchQueue(label: "labsync.libgit2", qos: .userInitiated)

    private static let initialized: Bool = {
        git_libgit2_init()
        // Only a repository's own config counts: ~/.gitconfig or /etc/gitconfig
        // (url.insteadOf, core.symlinks, …) must not change what gets checked out.
        for level in [GIT_CONFIG_LEVEL_PROGRAMDATA, GIT_CONFIG_LEVEL_SYSTEM,
                      GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL] {
            _ = labsync_git_set_search_path(Int32(level.rawValue), "")
        }
        return true
    }()

    /// Runs `body` on the libgit2 queue and resumes the caller with its result.
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                _ = initialized
                continuation.resume(with: Result { try body() })
            }
        }
    }
}

// MARK: - Errors

/// The one place a libgit2 return code becomes a `SourceError`. Call it right after the
/// libgit2 call, on the same thread. When a callback refused (host key, credentials),
/// its own error says more than libgit2's and wins.
func check(_ code: Int32, _ action: @autoclosure () -> String, callbacks: RemoteCallbacks? = nil) throws(SourceError) {
    guard code < 0 else { return }
    if let failure = callbacks?.failure { throw failure }
    let last = git_error_last()
    let detail = last.flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "libgit2 error \(code)"
    let errorClass = last.map { $0.pointee.klass } ?? 0

    let kind: SourceError.Kind
    switch code {
    case GIT_ENOTFOUND.rawValue: kind = .notFound
    case GIT_EAMBIGUOUS.rawValue, GIT_EINVALIDSPEC.rawValue, GIT_EPEEL.rawValue: kind = .refNotFound
    case GIT_EAUTH.rawValue: kind = .authentication
    case GIT_ECERTIFICATE.rawValue: kind = .hostKey
    default:
        let networkClasses = [GIT_ERROR_NET, GIT_ERROR_SSH, GIT_ERROR_HTTP, GIT_ERROR_SSL].map { Int32($0.rawValue) }
        kind = networkClasses.contains(errorClass) ? .network : .git
    }
    throw SourceError(kind: kind, message: "\(action()): \(detail)")
}

// MARK: - Fetch and checkout

extension LibGit2 {
    /// Brings the mirror of `source.url` up to date and returns a checkout of the ref.
    static func fetchAndCheckOut(_ source: GitSource) throws -> SourceTree {
        if let path = localRepositoryPath(source.url), !FileManager.default.fileExists(atPath: path) {
            // libgit2 reports a missing local path as "unsupported URL protocol".
            throw SourceError(kind: .notFound, message: "\(source.url): no such repository")
        }
        let cache = source.cacheDirectory.standardizedFileURL
        let mirrorPath = cache.appendingPathComponent("mirrors/\(try sha1Hex(of: source.url))").path
        // The cache sits in the state directory: created (or tightened) 0700 first.
        do { try StateDirectory.prepare(cache.deletingLastPathComponent()) } catch {
            throw SourceError(kind: .git, message: error.description)
        }
        try createDirectory(cache.appendingPathComponent("mirrors").path)
        try createDirectory(cache.appendingPathComponent("trees").path)

        return try withMirrorLock(mirrorPath + ".lock") {
            let repository = try openOrCreateMirror(at: mirrorPath, url: source.url)
            defer { git_repository_free(repository) }

            let defaultBranch = try fetch(source, into: repository)
            let (commit, refName) = try resolve(source.ref, defaultBranch: defaultBranch, in: repository, url: source.url)
            let (root, removed) = try checkOut(commit, from: repository, treesDirectory: cache.appendingPathComponent("trees"))
            return SourceTree(root: root, revision: commit, ref: refName, removedSymlinks: removed,
                              subject: commitSubject(commit, in: repository))
        }
    }

    /// The commit message's first paragraph, joined into one line (`git_commit_summary`);
    /// nil when it cannot be read: a subject is for people, never a reason to fail a fetch.
    static func commitSubject(_ commit: String, in repository: OpaquePointer) -> String? {
        var oid = git_oid()
        guard git_oid_fromstr(&oid, commit) == 0 else { return nil }
        var object: OpaquePointer?
        guard git_commit_lookup(&object, repository, &oid) == 0 else { return nil }
        defer { git_commit_free(object) }
        return git_commit_summary(object).map { String(cString: $0) }
    }

    /// Opens the bare mirror, or creates it; a directory that is not a repository any
    /// more (interrupted first clone, damaged cache) is replaced.
    private static func openOrCreateMirror(at path: String, url: String) throws(SourceError) -> OpaquePointer {
        var repository: OpaquePointer?
        if FileManager.default.fileExists(atPath: path) {
            if git_repository_open_bare(&repository, path) == 0, let repository { return repository }
            try? FileManager.default.removeItem(atPath: path)
        }
        var options = git_repository_init_options()
        try check(git_repository_init_options_init(&options, UInt32(GIT_REPOSITORY_INIT_OPTIONS_VERSION)),
                  "initialise repository options")
        // No GIT_REPOSITORY_INIT_EXTERNAL_TEMPLATE: no hook samples from the system's
        // template directory (libgit2 never runs hooks either way).
        options.flags = GIT_REPOSITORY_INIT_BARE.rawValue | GIT_REPOSITORY_INIT_MKPATH.rawValue
        try check(git_repository_init_ext(&repository, path, &options), "create mirror \(path)")
        guard let repository else { throw SourceError(kind: .git, message: "create mirror \(path): no repository") }
        do {
            try configureNewMirror(repository, path: path, url: url)
        } catch {
            git_repository_free(repository)
            throw error
        }
        return repository
    }

    private static func configureNewMirror(_ repository: OpaquePointer, path: String, url: String) throws(SourceError) {
        var config: OpaquePointer?
        try check(git_repository_config(&config, repository), "open config of \(path)")
        defer { git_config_free(config) }
        // Real symlinks, so links inside the tree work; the ones leading out are removed
        // after checkout. (With core.symlinks=false a link would become a small text file
        // holding its target: safe, but every legitimate link would break.)
        try check(git_config_set_bool(config, "core.symlinks", 1), "set core.symlinks")
        // For people looking at the cache: which URL this hashed directory mirrors.
        try check(git_config_set_string(config, "labsync.url", url), "set labsync.url")
    }

    /// Fetches all branches and tags (pruning deleted ones) and returns the remote's
    /// default branch (`refs/heads/…`), or nil when the remote does not say.
    private static func fetch(_ source: GitSource, into repository: OpaquePointer) throws -> String? {
        var remote: OpaquePointer?
        try check(git_remote_create_anonymous(&remote, repository, source.url), "use remote \(source.url)")
        defer { git_remote_free(remote) }

        let state = RemoteCallbacks(source: source)
        return try withExtendedLifetime(state) {
            var callbacks = git_remote_callbacks()
            try check(git_remote_init_callbacks(&callbacks, UInt32(GIT_REMOTE_CALLBACKS_VERSION)), "initialise callbacks")
            state.install(in: &callbacks)

            // Connect first so the remote's HEAD can be read; the fetch reuses the connection.
            try check(git_remote_connect(remote, GIT_DIRECTION_FETCH, &callbacks, nil, nil),
                      "connect to \(source.url)", callbacks: state)
            defer { git_remote_disconnect(remote) }

            var defaultBranch: String?
            var buffer = git_buf()
            let code = git_remote_default_branch(&buffer, remote)
            if code == 0, let pointer = buffer.ptr { defaultBranch = String(cString: pointer) }
            git_buf_dispose(&buffer)
            if code != GIT_ENOTFOUND.rawValue {  // GIT_ENOTFOUND: empty repo or detached HEAD
                try check(code, "read default branch of \(source.url)", callbacks: state)
            }

            var options = git_fetch_options()
            try check(git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION)), "initialise fetch options")
            options.callbacks = callbacks
            options.prune = GIT_FETCH_PRUNE
            options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE  // the refspec below takes all tags
            options.update_fetchhead = 0
            try withStringArray(["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]) { refspecs in
                try check(git_remote_fetch(remote, refspecs, &options, "labsync fetch"),
                          "fetch \(source.url)", callbacks: state)
            }
            return defaultBranch
        }
    }

    /// Finds the commit `ref` names: a branch, then a tag, then a (short) commit sha;
    /// without a ref the remote's default branch. Returns the sha and the ref's name.
    private static func resolve(
        _ ref: String?, defaultBranch: String?, in repository: OpaquePointer, url: String
    ) throws(SourceError) -> (commit: String, ref: String) {
        guard let ref else {
            guard let defaultBranch, let commit = try commitOfReference(defaultBranch, in: repository) else {
                throw SourceError(kind: .refNotFound, message: "\(url) has no default branch (empty repository?); pass a ref")
            }
            return (commit, defaultBranch.hasPrefix("refs/heads/") ? String(defaultBranch.dropFirst(11)) : defaultBranch)
        }
        let candidates = ref.hasPrefix("refs/") ? [ref] : ["refs/heads/\(ref)", "refs/tags/\(ref)"]
        for name in candidates {
            if let commit = try commitOfReference(name, in: repository) { return (commit, ref) }
        }
        if (4...40).contains(ref.count), ref.allSatisfy(\.isHexDigit), let commit = try commitWithPrefix(ref, in: repository) {
            return (commit, ref)
        }
        throw SourceError(kind: .refNotFound, message: "\(ref) is not a branch, tag or commit of \(url)")
    }

    /// The commit a reference points at (tags peeled), or nil when there is no such reference.
    private static func commitOfReference(_ name: String, in repository: OpaquePointer) throws(SourceError) -> String? {
        var reference: OpaquePointer?
        let code = git_reference_lookup(&reference, repository, name)
        if code == GIT_ENOTFOUND.rawValue || code == GIT_EINVALIDSPEC.rawValue { return nil }
        try check(code, "look up \(name)")
        defer { git_reference_free(reference) }
        var commit: OpaquePointer?
        try check(git_reference_peel(&commit, reference, GIT_OBJECT_COMMIT), "\(name) does not name a commit")
        defer { git_object_free(commit) }
        return String(cString: git_oid_tostr_s(git_object_id(commit)))
    }

    private static func commitWithPrefix(_ hex: String, in repository: OpaquePointer) throws(SourceError) -> String? {
        var oid = git_oid()
        try check(git_oid_fromstrn(&oid, hex, hex.utf8.count), "parse \(hex)")
        var object: OpaquePointer?
        let code = git_object_lookup_prefix(&object, repository, &oid, hex.utf8.count, GIT_OBJECT_ANY)
        if code == GIT_ENOTFOUND.rawValue { return nil }
        try check(code, "look up commit \(hex)")
        defer { git_object_free(object) }
        var commit: OpaquePointer?
        try check(git_object_peel(&commit, object, GIT_OBJECT_COMMIT), "\(hex) does not name a commit")
        defer { git_object_free(commit) }
        return String(cString: git_oid_tostr_s(git_object_id(commit)))
    }

    /// Checks `commit` out into `<trees>/<commit>` unless it is already there: first into
    /// a temporary directory, which is made safe and read-only, then renamed into place —
    /// so a directory with the final name is always complete and checked.
    private static func checkOut(
        _ commit: String, from repository: OpaquePointer, treesDirectory: URL
    ) throws -> (root: URL, removedSymlinks: [String]) {
        let root = treesDirectory.appendingPathComponent(commit, isDirectory: true)
        let removedList = treesDirectory.appendingPathComponent("\(commit).removed-symlinks")
        if FileManager.default.fileExists(atPath: root.path) {
            return (root, readRemovedList(removedList))
        }

        let temporary = treesDirectory.appendingPathComponent(".tmp-\(commit)-\(getpid())", isDirectory: true)
        TreeSafety.removeTree(temporary.path)
        try createDirectory(temporary.path)

        var oid = git_oid()
        try check(git_oid_fromstr(&oid, commit), "parse \(commit)")
        var commitObject: OpaquePointer?
        try check(git_commit_lookup(&commitObject, repository, &oid), "look up commit \(commit)")
        defer { git_commit_free(commitObject) }
        var tree: OpaquePointer?
        try check(git_commit_tree(&tree, commitObject), "read tree of \(commit)")
        defer { git_tree_free(tree) }

        var options = git_checkout_options()
        try check(git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), "initialise checkout options")
        // FORCE: write every file of the tree. DONT_UPDATE_INDEX: the bare mirror has no
        // index to keep. Filters off: files arrive byte for byte (no CRLF or `ident`
        // rewriting from a .gitattributes in the repository).
        options.checkout_strategy = GIT_CHECKOUT_FORCE.rawValue | GIT_CHECKOUT_DONT_UPDATE_INDEX.rawValue
        options.disable_filters = 1
        // Check out from an in-memory index of the tree minus its submodules (gitlinks):
        // libgit2's checkout would look submodules up (which a bare mirror cannot), and
        // labsync never initialises, clones or updates them. Like git without
        // `--recurse-submodules`, each one becomes an empty directory.
        var index: OpaquePointer?
        try check(git_index_new(&index), "create index")
        defer { git_index_free(index) }
        try check(git_index_read_tree(index, tree), "read tree of \(commit)")
        var submodules: [String] = []
        for position in 0..<git_index_entrycount(index) {
            if let entry = git_index_get_byindex(index, position), entry.pointee.mode == GIT_FILEMODE_COMMIT.rawValue {
                submodules.append(String(cString: entry.pointee.path))
            }
        }
        for path in submodules {
            try check(git_index_remove(index, path, 0), "leave out submodule \(path)")
        }
        try temporary.path.withCString { target in
            options.target_directory = target
            try check(git_checkout_index(repository, index, &options), "check out \(commit)")
        }
        for path in submodules {
            try TreeSafety.createEmptyDirectory(path, in: temporary.path)
        }

        let removed = try TreeSafety.removeEscapingSymlinks(root: temporary.path)
        TreeSafety.makeReadOnly(root: temporary.path)
        if !removed.isEmpty {
            try? Data(removed.joined(separator: "\n").utf8).write(to: removedList)
        }
        if rename(temporary.path, root.path) != 0 {
            // Another process finished the same commit first: use theirs.
            let error = errno
            TreeSafety.removeTree(temporary.path)
            guard FileManager.default.fileExists(atPath: root.path) else {
                throw SourceError(kind: .git, message: "move checkout to \(root.path): \(String(cString: strerror(error)))")
            }
        }
        return (root, removed)
    }

    private static func readRemovedList(_ url: URL) -> [String] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init)
    }

    /// HEAD's commit of the work tree containing `path`, or nil when it is none.
    static func workTreeHead(_ path: String) throws -> String? {
        var repository: OpaquePointer?
        guard git_repository_open_ext(&repository, path, 0, nil) == 0 else { return nil }
        defer { git_repository_free(repository) }
        var oid = git_oid()
        guard git_reference_name_to_id(&oid, repository, "HEAD") == 0 else { return nil }
        return String(cString: git_oid_tostr_s(&oid))
    }

    /// The branch checked out in the work tree at exactly `path` (not a parent):
    /// `.branch("main")`, `.detached` at a commit, or nil when `path` is no work tree.
    static func workTreeBranch(_ path: String) -> WorkTreeHead? {
        var repository: OpaquePointer?
        let noSearch = UInt32(GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue)
        guard git_repository_open_ext(&repository, path, noSearch, nil) == 0 else { return nil }
        defer { git_repository_free(repository) }
        guard git_repository_is_bare(repository) == 0 else { return nil }
        if git_repository_head_detached(repository) == 1 { return .detached }
        var head: OpaquePointer?
        // An unborn branch (no commit yet) has no HEAD reference to read.
        guard git_repository_head(&head, repository) == 0, let head else { return nil }
        defer { git_reference_free(head) }
        return .branch(String(cString: git_reference_shorthand(head)))
    }
}

/// What a work tree has checked out.
public enum WorkTreeHead: Sendable, Equatable {
    case branch(String)
    case detached
}

/// What `path` has checked out, when it is the top of a (non-bare) git work tree;
/// nil otherwise.
public func workTreeHead(at path: String) async -> WorkTreeHead? {
    let path = URL(fileURLWithPath: expandTilde(path)).standardizedFileURL.path
    return try? await LibGit2.run { LibGit2.workTreeBranch(path) }
}

// MARK: - Helpers

/// The file-system path of a local repository URL (`/path`, `file:///path`), else nil.
private func localRepositoryPath(_ url: String) -> String? {
    if url.hasPrefix("file://") { return URLComponents(string: url)?.path ?? String(url.dropFirst(7)) }
    return isRemoteURL(url) ? nil : url
}

/// The cache directory name for a URL: its SHA-1 (via libgit2, which has one), so any
/// URL maps to a stable, file-system-safe name.
private func sha1Hex(of text: String) throws(SourceError) -> String {
    var oid = git_oid()
    let bytes = Array(text.utf8)
    try check(git_odb_hash(&oid, bytes, bytes.count, GIT_OBJECT_BLOB), "hash \(text)")
    return String(cString: git_oid_tostr_s(&oid))
}

private func createDirectory(_ path: String) throws(SourceError) {
    do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
        throw SourceError(kind: .git, message: "create \(path): \(error.localizedDescription)")
    }
}

/// Holds an exclusive `flock` on `path` while `body` runs, so two labsync processes
/// (say the daemon and a `labsync plan`) never fetch into the same mirror at once.
private func withMirrorLock<T>(_ path: String, _ body: () throws -> T) throws -> T {
    let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else {
        throw SourceError(kind: .git, message: "open lock \(path): \(String(cString: strerror(errno)))")
    }
    defer { close(descriptor) }  // closing releases the lock
    while flock(descriptor, LOCK_EX) != 0 {
        guard errno == EINTR else {
            throw SourceError(kind: .git, message: "lock \(path): \(String(cString: strerror(errno)))")
        }
    }
    return try body()
}

private func withStringArray<R>(_ strings: [String], _ body: (UnsafePointer<git_strarray>) throws -> R) rethrows -> R {
    var pointers = strings.map { strdup($0) }
    defer { pointers.forEach { free($0) } }
    return try pointers.withUnsafeMutableBufferPointer { buffer in
        var array = git_strarray(strings: buffer.baseAddress, count: buffer.count)
        return try body(&array)
    }
}
