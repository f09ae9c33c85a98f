import ArgumentParser
import Foundation
import Journal
import Reconciler

struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a recorded run's output: every line of every step, as it was written.",
        discussion: "With --follow, a run still in progress is followed until it ends (the journal is polled).")

    @Argument(help: "The run's number (see `labsync history`).")
    var run: Int64

    @Option(name: .customLong("state-dir"),
            help: "Where the journal is (default: /var/lib/labsync as root, else ~/.local/state/labsync).")
    var stateDirectory: String?

    @Flag(name: [.short, .long], help: "Keep printing lines as they are written until the run ends.")
    var follow = false

    func run() async throws {
        let journal = try openJournalForReading(stateDirectory)
        var record: JournalRun
        do { record = try journal.run(run) } catch let error as JournalError where error.kind == .noSuchRun {
            printError("error: \(error.message)")
            throw ExitCode.failure
        }
        say("run \(record.id): \(record.kind.rawValue) (\(record.trigger)) started \(record.startedAt.formatted(.iso8601))"
            + (record.revision.map { " at revision \($0)" } ?? ""))
        var last: Int64 = 0
        while true {
            let lines = try journal.lines(run: run, after: last)
            for line in lines { say(Self.render(line)) }
            last = lines.last?.id ?? last
            if lines.count == 10_000 { continue }  // more waiting: no pause
            record = try journal.run(run)
            guard follow, record.result == .running else { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        // Lines written between the last read and the run's end.
        for line in try journal.lines(run: run, after: last) { say(Self.render(line)) }
        if record.result == .running {
            say("run \(record.id) is still running (follow it with --follow)")
        } else {
            say("run \(record.id): \(record.result.rawValue)"
                + (record.finishedAt.map { " after \(formatSeconds($0.timeIntervalSince(record.startedAt)))" } ?? "")
                + (record.summary.map { ": \($0)" } ?? ""))
        }
    }

    /// `12:00:01 loopback │ Successfully installed alpha-1.0` for a step's
    /// output, `12:00:01 loopback: install …` for labsync's own lines.
    static func render(_ line: JournalLine) -> String {
        let time = line.at.formatted(.iso8601.time(includingFractionalSeconds: false))
        let host = line.host ?? "labsync"
        switch line.stream {
        case .output: return "\(time) \(host) │ \(line.text)"
        case .labsync: return "\(time) \(host): \(line.text)"
        }
    }
}
