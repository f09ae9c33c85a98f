import ArgumentParser
import Foundation
import Journal
import Reconciler

extension RepositoryOptions {
    /// The journal in the state directory. A journal that cannot be opened (a
    /// read-only state directory in CI) costs a warning, never the command.
    func openJournal() -> Journal? {
        do {
            let journal = try Journal(stateDirectory: resolvedStateDirectory)
            try? journal.reapAbandonedRuns()
            return journal
        } catch {
            printError("warning: this run is not recorded: \(error)")
            return nil
        }
    }
}

/// The journal calls of a CLI run, each one silent on failure after a warning:
/// recording is an audit aid, the plan or apply itself must go on.
struct CLIRunRecord {
    let journal: Journal
    let id: Int64

    static func begin(_ repository: RepositoryOptions, kind: JournalRun.Kind, revision: String?, plan: Reconciler.Plan)
        -> CLIRunRecord? {
        guard let journal = repository.openJournal() else { return nil }
        do {
            let id = try journal.begin(kind: kind, trigger: "cli", revision: revision, plan: plan)
            return CLIRunRecord(journal: journal, id: id)
        } catch {
            printError("warning: this run is not recorded: \(error)")
            return nil
        }
    }

    func finish(_ result: JournalRun.Result, _ summary: String? = nil) {
        do { try journal.finish(run: id, result: result, summary: summary) } catch {
            printError("warning: could not record the end of run \(id): \(error)")
        }
    }
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List recorded runs (plan, apply, daemon), newest first.",
        discussion: "Runs are recorded in <state-dir>/journal.sqlite. `labsync logs RUN` shows one run's output.")

    @Option(name: .customLong("state-dir"),
            help: "Where the journal is (default: /var/lib/labsync as root, else ~/.local/state/labsync).")
    var stateDirectory: String?

    @Option(help: "How many runs to list.")
    var limit: Int = 20

    @Option(help: "Only runs that touched this host.")
    var host: String?

    @Flag(help: "Print the runs as JSON.")
    var json = false

    func run() async throws {
        let journal = try openJournalForReading(stateDirectory)
        let runs = try journal.runs(limit: limit, host: host)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            say(String(decoding: try encoder.encode(runs.map(JournalRun.Listing.init)), as: UTF8.self))
            return
        }
        if runs.isEmpty {
            say("No runs recorded\(host.map { " for host \($0)" } ?? "").")
            return
        }
        var rows = [["RUN", "KIND", "TRIGGER", "STARTED", "TOOK", "RESULT", "REVISION", "HOSTS"]]
        for run in runs {
            rows.append([
                "\(run.id)", run.kind.rawValue, run.trigger, run.startedAt.formatted(.iso8601),
                run.finishedAt.map { formatSeconds($0.timeIntervalSince(run.startedAt)) } ?? "-",
                run.result.rawValue, run.revision.map { String($0.prefix(12)) } ?? "-",
                run.hosts.joined(separator: ","),
            ])
        }
        say(table(rows))
    }
}

func openJournalForReading(_ stateDirectory: String?) throws -> Journal {
    var options = RepositoryOptions()
    options.stateDirectory = stateDirectory
    let directory = options.resolvedStateDirectory
    guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("journal.sqlite").path) else {
        printError("error: no journal in \(directory.path) (runs are recorded there by plan, apply and the daemon)")
        throw ExitCode.failure
    }
    do { return try Journal(stateDirectory: directory) } catch {
        printError("error: \(error)")
        throw ExitCode.failure
    }
}

func formatSeconds(_ seconds: TimeInterval) -> String {
    seconds < 60 ? String(format: "%.1fs", seconds) : String(format: "%dm%02ds", Int(seconds) / 60, Int(seconds) % 60)
}
