import Foundation
import Remote

/// How to authenticate to an ssh git server. libgit2 asks once per method; a method
/// that was refused is not offered again (libgit2 would otherwise ask forever).
public struct GitCredentials: Sendable {
    /// Used when the URL names no user (`ssh://host/…`); default: the current user.
    public var username: String?
    /// A private key file (ed25519 or ECDSA: libssh2 1.10 cannot sign with RSA in a way
    /// OpenSSH ≥ 8.8 accepts). `<identityFile>.pub` is used when it exists.
    public var identityFile: String?
    public var passphrase: String?
    /// Offer the keys of the ssh-agent at `SSH_AUTH_SOCK` (tried after the identity file).
    public var useAgent: Bool

    public init(username: String? = nil, identityFile: String? = nil, passphrase: String? = nil, useAgent: Bool = true) {
        self.username = username
        self.identityFile = identityFile
        self.passphrase = passphrase
        self.useAgent = useAgent
    }
}

/// A git repository, cloned once into a cache directory and fetched on every `fetch()`.
///
/// Layout under `cacheDirectory`:
/// - `mirrors/<sha1 of the URL>/` — a bare repository holding the remote's branches
///   (`refs/heads/*`) and tags (`refs/tags/*`), pruned on every fetch;
/// - `trees/<commit sha>/` — a read-only checkout of that commit, made once and reused
///   (commits are immutable, so the same sha always means the same files).
///
/// What a hostile repository cannot do here:
/// - run code: libgit2 never runs hooks (neither the server's nor any in the mirror),
///   no filters or smudge commands run (filters are disabled for the checkout), and
///   the checkout directory has no `.git`, so no later git command in it finds hooks;
/// - pull in other repositories: submodules are never initialised or fetched — a
///   submodule path is checked out as an empty directory;
/// - make a reader leave the tree: after checkout every symbolic link is resolved
///   inside the tree, and each one that would lead outside it (absolute targets,
///   too many `..`, loops) is deleted and listed in `SourceTree.removedSymlinks`.
///   Deleting rather than refusing the whole tree keeps one bad link in a pull request
///   from blocking every other spec; links inside the tree keep working.
///
/// ssh host keys are checked with `verifyHostKey` against `hostKeyPolicy` in libgit2's
/// `certificate_check` callback (without one, libgit2 1.5 would apply its own rules).
public struct GitSource: Source {
    public var url: String
    public var ref: String?
    public var cacheDirectory: URL
    public var hostKeyPolicy: HostKeyPolicy
    public var credentials: GitCredentials

    public init(
        url: String, ref: String?, cacheDirectory: URL,
        hostKeyPolicy: HostKeyPolicy = HostKeyPolicy(), credentials: GitCredentials = GitCredentials()
    ) {
        self.url = url
        self.ref = ref
        self.cacheDirectory = cacheDirectory
        self.hostKeyPolicy = hostKeyPolicy
        self.credentials = credentials
    }

    public func fetch() async throws -> SourceTree {
        let request = self
        return try await LibGit2.run { try LibGit2.fetchAndCheckOut(request) }
    }

    /// The ssh port the URL names (for host-key lookup); libgit2 reports only the host.
    var sshPort: Int {
        if url.contains("://"), let port = URLComponents(string: url)?.port { return port }
        return 22
    }
}
