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

    struct Refresh: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download the index's project list into the local name index.",
            discussion: "A second refresh of an unchanged index costs one conditional request (ETag / Last-Modified).")

        @Option(help: "Simple API URL (default: \(IndexClient.defaultIndexURL)).")
        var index: String?

        @OptionGroup var state: StateOptions

        func run() async throws {
            do { try await perform() } catch { throw Packages.fail(error) }
        }

        func perform() async throws(IndexError) {
            let started = Date()
            let url = index ?? IndexClient.defaultIndexURL
            let client = IndexClient(settings: nil, overrideURL: url, cacheDirectory: Packages.httpCache(state.resolved))
            let names = NameIndex(stateDirectory: state.resolved)
            let tty = isatty(STDERR_FILENO) == 1
            if tty { FileHandle.standardError.write(Data("downloading the project list from \(url)…".utf8)) }
            do throws(IndexError) {
                let response = try await client.projectListResponse()
                if response.notModified, let info = try? names.open().info(),
                   info.indexURL == client.indexURLs.first, info.validator == response.validator {
                    if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
                    say("up to date: \(info.count) names from \(url) (not modified since \(info.refreshedAt ?? "the last refresh"))")
                    return
                }
                let list = try IndexClient.projectNames(response)
                var progress: (@Sendable (Int, Int) -> Void)?
                if tty {
                    progress = { done, total in
                        FileHandle.standardError.write(Data("\r\u{1B}[Kindexing names: \(done)/\(total)".utf8))
                    }
                }
                if tty { FileHandle.standardError.write(Data("\r\u{1B}[Kindexing \(list.count) names…".utf8)) }
                let count = try await names.rebuild(names: list, indexURL: client.indexURLs.first ?? url,
                                                    validator: response.validator, progress: progress)
                if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
                let seconds = Date().timeIntervalSince(started)
                say("indexed \(count) names from \(url) in \(String(format: "%.1f", seconds)) s (\(Int(Double(count) / max(seconds, 0.001))) names/s)")
            } catch {
                if tty { FileHandle.standardError.write(Data("\n".utf8)) }
                throw error
            }
        }
    }

    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Project names from the local name index: prefix matches first, then names containing TEXT.",
            discussion: "Names are compared normalized (Foo_Bar is foo-bar). Substring matches need at least 3 characters. Run `labsync packages refresh` first.")

        @Argument(help: "Start or part of a project name.", completion: Packages.nameCompletion)
        var text: String

        @Option(help: "At most this many names.")
        var limit = 20

        @OptionGroup var state: StateOptions

        func run() async throws {
            do throws(IndexError) {
                for name in try NameIndex(stateDirectory: state.resolved).open().search(text, limit: limit) { say(name) }
            } catch {
                throw Packages.fail(error)
            }
        }
    }

    struct Versions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Versions of a project with a file installable on a given Python and platform, newest first.",
            discussion: """
                A version counts when one of its files is not yanked, its requires-python admits the \
                Python (3.X is taken as 3.X.0, as pip does), and it is an sdist or a wheel whose tags \
                the platform accepts (manylinux_2_36_x86_64 also accepts older manylinux, the legacy \
                manylinux1/2010/2014 aliases and linux_x86_64). After each version: wheel, sdist or both.
                """)

        @Argument(help: "Project name.", completion: Packages.nameCompletion)
        var name: String

        @Option(help: "Target CPython, 3.X or 3.X.Y.")
        var python: String

        @Option(help: "Target platform tag.")
        var platform = InstallTarget.defaultPlatform

        @Option(help: "Simple API URL (default: \(IndexClient.defaultIndexURL)).")
        var index: String?

        @OptionGroup var state: StateOptions

        func run() async throws {
            do { try await perform() } catch { throw Packages.fail(error) }
        }

        func perform() async throws(IndexError) {
            let target = try InstallTarget(python: python, platform: platform)
            let client = IndexClient(settings: nil, overrideURL: index ?? IndexClient.defaultIndexURL,
                                     cacheDirectory: Packages.httpCache(state.resolved))
            let files: [IndexFile]
            do throws(IndexError) {
                files = try await client.files(project: name)
            } catch {
                guard error.kind == .projectNotFound else { throw error }
                var message = error.message
                if let close = try? NameIndex(stateDirectory: state.resolved).open().closest(to: name), !close.isEmpty {
                    message += "; did you mean \(close.joined(separator: ", "))?"
                }
                throw IndexError(.projectNotFound, message)
            }
            let versions = Installability(target: target).installableVersions(files, project: name)
            guard !versions.isEmpty else {
                throw IndexError(.projectNotFound, "\(normalizePackageName(name)): no version has a file installable on \(target)")
            }
            for version in versions { say(version.description) }
        }
    }

    /// For `make bench`: search latency inside one process, so the numbers
    /// are the index's and not process start-up's.
    struct BenchSearch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench-search", abstract: "Time searches (one query a line in FILE).", shouldDisplay: false)

        @Argument var queries: String
        @Option var limit = 20
        @Option(name: .customLong("slowest")) var showSlowest = 0
        @OptionGroup var state: StateOptions

        func run() async throws {
            let lines = try String(contentsOfFile: queries, encoding: .utf8).split(separator: "\n").map(String.init)
            do throws(IndexError) {
                let reader = try NameIndex(stateDirectory: state.resolved).open()
                var times: [Double] = []
                var slowest: [(Double, String)] = []
                var found = 0
                for query in lines {
                    let start = DispatchTime.now().uptimeNanoseconds
                    found += try reader.search(query, limit: limit).count
                    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                    times.append(elapsed)
                    slowest.append((elapsed, query))
                }
                if showSlowest > 0 {
                    for (time, query) in slowest.sorted(by: { $0.0 > $1.0 }).prefix(showSlowest) {
                        printError(String(format: "%8.2f ms  ", time) + query)
                    }
                }
                times.sort()
                func pct(_ p: Double) -> String { String(format: "%.2f", times[min(times.count - 1, Int(Double(times.count) * p))]) }
                say("search: \(times.count) queries, \(found) names returned, p50 \(pct(0.5)) ms, p99 \(pct(0.99)) ms, max \(pct(1.0)) ms")
            } catch {
                throw Packages.fail(error)
            }
        }
    }
}

/// `validate --check-index` and `plan --check-index`: the errors, sorted, or nothing.
enum PackageCheck {
    static func run(_ specs: SpecSet, stateDirectory: URL) async -> [Diagnostic] {
        await IndexCheck(stateDirectory: stateDirectory).check(specs).sortedForDisplay()
    }

    /// For `plan`: each env is checked against the Python it has (or will
    /// get) on each of its hosts, as observed, on the host's architecture.
    /// Prints the errors; false when there were any.
    static func plan(_ specs: SpecSet, _ report: ObservationReport, stateDirectory: URL) async -> Bool {
        var observed: [String: Set<IndexCheck.ObservedTarget>] = [:]
        for env in specs.environments {
            for host in specs.hosts(for: env) {
                guard let facts = report.observations[host.name] else { continue }
                // Debian 12's glibc; the observation has no glibc version (yet).
                let platform = "manylinux_2_36_\(facts.os.machine ?? "x86_64")"
                if let python = env.observedPython(in: facts) {
                    observed[env.name, default: []].insert(.init(python: python, platform: platform))
                }
            }
        }
        let problems = await IndexCheck(stateDirectory: stateDirectory).check(specs, observed: observed).sortedForDisplay()
        for problem in problems { printError(problem.description) }
        return problems.isEmpty
    }
}
