import ArgumentParser
import Foundation

/// Where the specs come from; shared by every command that reads them.
struct RepositoryOptions: ParsableArguments {
    @Option(name: .long, help: "Path or git URL of the spec repository (default: current directory).")
    var repo: String?

    @Option(name: .long, help: "Branch, tag or commit to read when --repo is a git repository.")
    var ref: String?

    @Option(name: .customLong("state-dir"),
            help: "Caches, journal and recorded host keys (default: /var/lib/labsync as root, else ~/.local/state/labsync).")
    var stateDirectory: String?

    var resolvedStateDirectory: URL {
        if let stateDirectory { return URL(fileURLWithPath: stateDirectory) }
        if getuid() == 0 { return URL(fileURLWithPath: "/var/lib/labsync") }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/state/labsync")
    }
}

/// An error already reported to the user: exit non-zero without repeating it.
struct ReportedFailure: Error {}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
