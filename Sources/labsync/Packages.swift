import ArgumentParser
import Drivers
import Foundation
import PackageIndex
import Reconciler
import Specs

/// `labsync packages …`: project names and versions from a package index,
/// known before anything touches a host.
struct Packages: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search package names and list installable versions (from a package index and a local name index).",
        subcommands: [Refresh.self, Search.self, Versions.self, BenchSearch.self])

    /// Only `--state-dir` matters here; same default as every other command.
    struct StateOptions: ParsableArguments {
        @Option(name: .customLong("state-dir"),
                help: "Caches, journal and recorded host keys (default: /var/lib/labsync as root, else ~/.local/state/labsync).")
        var stateDirectory: String?

        var resolved: URL { Packages.stateDirectory(stateDirectory) }
    }

    static func stateDirectory(_ given: String?) -> URL {
        if let given { return URL(fileURLWithPath: given) }
        if getuid() == 0 { return URL(fileURLWithPath: "/var/lib/labsync") }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/state/labsync")
    }

    static func httpCache(_ state: URL) -> URL { state.appendingPathComponent("package-index/http") }

    /// Shell completion for a project-name argument: prefix and substring
    /// matches from the local name index (nothing if it was never refreshed).
    /// The completion script passes the whole command line, so a `--state-dir`
    /// given there is honoured.
    static let nameCompletion = CompletionKind.custom { words, index, lastWordPrefix in
        // argument-parser 1.8 cuts the prefix from the *last* word, which is
        // wrong when options follow the name (`versions sci<TAB> --python 3.12`):
        // the word being completed is words[index].
        let prefix = words.indices.contains(index) ? words[index] : lastWordPrefix
        var given: String?
        if let i = words.firstIndex(of: "--state-dir"), i + 1 < words.count { given = words[i + 1] }
        if let w = words.first(where: { $0.hasPrefix("--state-dir=") }) { given = String(w.dropFirst("--state-dir=".count)) }
        guard !prefix.isEmpty, let reader = try? NameIndex(stateDirectory: stateDirectory(given)).open() else { return [] }
        return (try? reader.search(prefix, limit: 50)) ?? []
    }

    static func fail(_ error: IndexError) -> ExitCode {
        printError("error: \(error.message)")
        return ExitCode.failure
    }
}
