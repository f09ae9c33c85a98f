import ArgumentParser
import Foundation
import Reconciler
import Remote
import Specs
import SpecSource

/// Where the specs come from; shared by every command that reads them.
struct RepositoryOptions: ParsableArguments {
    @Option(name: .long, help: "Path or git URL (file://, ssh://, https://, user@host:path) of the spec repository (default: current directory).")
    var repo: String?

    @Option(name: .long, help: "Branch, tag or commit to read when --repo is a git repository (default: its default branch).")
    var ref: String?

    @Option(name: .customLong("state-dir"),
            help: "Caches, journal and recorded host keys (default: /var/lib/labsync as root, else ~/.local/state/labsync).")
    var stateDirectory: String?

    @Flag(name: .customLong("accept-new-host-keys"),
          help: "Trust and record the key of a host (or git server) seen for the first time. A changed key is always refused.")
    var acceptNewHostKeys = false

    @Option(name: .customLong("git-identity-file"),
            help: "Private key (ed25519 or ECDSA) for ssh:// git repositories (default: the ssh-agent).")
    var gitIdentityFile: String?

    var resolvedStateDirectory: URL {
        if let stateDirectory { return URL(fileURLWithPath: stateDirectory) }
        if getuid() == 0 { return URL(fileURLWithPath: "/var/lib/labsync") }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/state/labsync")
    }

    /// Keys labsync trusts besides those pinned in specs: the user's
    /// known_hosts, and the keys it recorded itself on first use.
    func hostKeyPolicy(pinned: [HostKey] = [], knownHostsFile: String? = nil) -> HostKeyPolicy {
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        let known = knownHostsFile.map { $0.hasPrefix("~/") ? home + $0.dropFirst(1) : $0 } ?? home + "/.ssh/known_hosts"
        return HostKeyPolicy(
            pinned: pinned, knownHostsFile: known, acceptNew: acceptNewHostKeys,
            recordFile: resolvedStateDirectory.appendingPathComponent("known_hosts").path)
    }

    /// Fetches the tree (a directory, or a checkout of the git ref) and loads
    /// its specs. Warnings about the tree (removed symlinks) go to stderr.
    func load(path: String? = nil) async throws -> (tree: SourceTree, result: LoadResult) {
        let source: any Source
        if let path {
            source = DirectorySource(path: path)
        } else {
            let passphrase = ProcessInfo.processInfo.environment["LABSYNC_SSH_PASSPHRASE"]
            source = makeSource(
                repo: repo ?? ".", ref: ref, stateDirectory: resolvedStateDirectory,
                hostKeyPolicy: hostKeyPolicy(),
                credentials: GitCredentials(identityFile: gitIdentityFile, passphrase: passphrase))
        }
        let tree: SourceTree
        do {
            tree = try await source.fetch()
        } catch let error as SourceError {
            printError("error: \(error.message)")
            throw ExitCode.failure
        }
        for link in tree.removedSymlinks {
            printError("warning: \(link): symbolic link points outside the repository; ignored")
        }
        return (tree, SpecLoader().load(directory: tree.root))
    }
}

/// Standard output, unbuffered: progress from several hosts must appear in
/// the order it happens, interleaved correctly with everything else.
func say(_ message: String, newline: Bool = true) {
    FileHandle.standardOutput.write(Data((newline ? message + "\n" : message).utf8))
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
