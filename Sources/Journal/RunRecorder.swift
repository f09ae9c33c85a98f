import Drivers
import Foundation
import Reconciler
import Remote

/// Writes one run's apply events into the journal as they arrive (called on the
/// transports' threads; each event is stored before the call returns).
///
/// A failing write (disk full) must not stop an apply halfway: the first error
/// is kept in `writeError` for the caller to report, and recording goes on.
public final class RunRecorder: @unchecked Sendable {
    public let journal: Journal
    public let run: Int64
    private let lock = NSLock()
    private var openSteps: [StepKey: Int64] = [:]
    private var firstError: (any Error)?

    struct StepKey: Hashable {
        var host: String
        var step: PlanStep
    }

    public init(journal: Journal, run: Int64) {
        self.journal = journal
        self.run = run
    }

    public var writeError: (any Error)? {
        lock.lock()
        defer { lock.unlock() }
        return firstError
    }

    /// A line of labsync's own about the run (not a step's output).
    public func note(_ text: String, host: String? = nil) {
        lock.lock()
        defer { lock.unlock() }
        attempt { try journal.addLine(run: run, host: host, stream: .labsync, text) }
    }

    public func handle(_ event: ApplyEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .waitingForLock(let host, let holder):
            attempt { try journal.addLine(run: run, host: host, stream: .labsync,
                                          "waiting for the host lock, held by \(holder.isEmpty ? "another labsync" : holder)") }
        case .locked(let host):
            attempt { try journal.addLine(run: run, host: host, stream: .labsync, "took the host lock") }
        case .stepStarted(let host, let step):
            attempt {
                let id = try journal.beginStep(run: run, host: host, step: step)
                openSteps[StepKey(host: host, step: step)] = id
                try journal.addLine(run: run, step: id, host: host, stream: .labsync,
                                    "\(step.action.rawValue) \(step.resource)\(step.packages.isEmpty ? "" : " (\(step.packages.joined(separator: ", ")))")")
            }
        case .output(let host, let step, let line):
            let id = openSteps[StepKey(host: host, step: step)]
            attempt { try journal.addLine(run: run, step: id, host: host, stream: .output, line) }
        case .stepFinished(let outcome):
            let key = StepKey(host: outcome.step.host, step: outcome.step)
            guard let id = openSteps.removeValue(forKey: key) else { return }
            let status: JournalStep.Status = switch outcome.status {
            case .succeeded: .succeeded
            case .failed: .failed
            case .skipped: .skipped
            }
            attempt {
                try journal.finishStep(id, status: status, exitCode: outcome.exitCode)
                try journal.addLine(run: run, step: id, host: outcome.step.host, stream: .labsync,
                                    "\(outcome.step.action.rawValue) \(outcome.step.resource): \(outcome.status.rawValue)\(outcome.exitCode.map { " (exit \($0))" } ?? "")")
            }
        case .hostFailed(let host, let message):
            attempt { try journal.addLine(run: run, host: host, stream: .labsync, "FAILED: \(message)") }
        }
    }

    /// After the apply: steps that never started are recorded as skipped.
    public func recordResults(_ results: [HostApplyResult]) {
        lock.lock()
        defer { lock.unlock() }
        for result in results {
            for outcome in result.outcomes where outcome.status == .skipped {
                if openSteps[StepKey(host: result.host, step: outcome.step)] != nil { continue }
                attempt { try journal.addSkippedStep(run: run, host: result.host, step: outcome.step) }
            }
        }
    }

    /// The run's end: its result and summary.
    public func finish(_ result: JournalRun.Result, summary: String) {
        lock.lock()
        defer { lock.unlock() }
        attempt { try journal.finish(run: run, result: result, summary: summary) }
    }

    private func attempt(_ body: () throws -> Void) {
        do { try body() } catch { if firstError == nil { firstError = error } }
    }
}

extension RunRecorder: RunRecording {
    public func finish(failed: Bool, summary: String) {
        finish(failed ? .failed : .succeeded, summary: summary)
    }
}

extension ApplyOutcome {
    /// The journal's word for the outcome.
    public var journalResult: JournalRun.Result { failed ? .failed : .succeeded }
}
