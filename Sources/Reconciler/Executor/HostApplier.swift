import Drivers
import Foundation
import Remote

/// What happened to one step.
public struct StepOutcome: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable { case succeeded, failed, skipped }
    public var step: PlanStep
    public var status: Status
    public var exitCode: Int32?
    public var duration: Duration?
    /// The step's output (stdout and stderr merged), last lines kept.
    public var output: [String]
    /// Skipped because this host-wide step (its kind's name) failed; nil for a step
    /// skipped because its own resource or the script failed first.
    public var skippedBecause: String? = nil
}

/// Progress of a host's apply, as it happens (for the terminal, and the journal).
public enum ApplyEvent: Sendable {
    case waitingForLock(host: String, holder: String)
    case locked(host: String)
    case stepStarted(host: String, step: PlanStep)
    case output(host: String, step: PlanStep, line: String)
    case stepFinished(StepOutcome)
    case hostFailed(host: String, message: String)
}

public struct HostApplyResult: Sendable {
    public var host: String
    public var outcomes: [StepOutcome]
    /// Why the host as a whole failed (unreachable, lock timeout), if it did.
    public var error: String?
    /// The script refused the plan once it held the lock: another run changed the
    /// host after the plan's observation (`HostObservation.generation`).
    public var stale = false
    public var succeeded: Bool { error == nil && outcomes.allSatisfy { $0.status == .succeeded } }
}

/// Applies one host's steps through its transport: one remote script (see
/// `HostScript`), whose marker lines are turned back into step outcomes.
public struct HostApplier: Sendable {
    public var host: String
    public var transport: any Transport
    public var become: Become
    public var lockTimeoutSeconds: Int
    public var parallelism: Int
    public var owner: String
    /// Bounds the whole script (apt and pip can be slow, but not forever).
    public var timeout: Duration
    /// Lines kept per step for the outcome (the event stream sees them all).
    public var keptLines = 200
    /// See `HostScript.lockDirectory` (tests).
    public var lockDirectory: String?
    /// See `HostScript.expectedGeneration`.
    public var expectedGeneration: String?

    public init(host: String, transport: any Transport, become: Become, lockTimeoutSeconds: Int = 600,
                parallelism: Int = 4, owner: String, timeout: Duration = .seconds(3 * 3600)) {
        self.host = host
        self.transport = transport
        self.become = become
        self.lockTimeoutSeconds = lockTimeoutSeconds
        self.parallelism = parallelism
        self.owner = owner
        self.timeout = timeout
    }

    public func apply(_ steps: [PlannedStep], events: @escaping @Sendable (ApplyEvent) -> Void) async -> HostApplyResult {
        // Secrets (the hub's OAuth client secret) are read here, at apply time, and
        // only go into the script sent on stdin (see HostScript).
        let secretValues: [String: String]
        do throws(HostScript.SecretError) {
            secretValues = try HostScript.resolveSecrets(for: steps)
        } catch {
            events(.hostFailed(host: host, message: error.message))
            return HostApplyResult(host: host, outcomes: [], error: error.message)
        }
        let script = HostScript(steps: steps, lockTimeoutSeconds: lockTimeoutSeconds, parallelism: parallelism,
                                owner: owner, secretValues: secretValues, lockDirectory: lockDirectory,
                                expectedGeneration: expectedGeneration)
        let planSteps = steps.map(PlanStep.init)
        let tracker = StepTracker(host: host, steps: planSteps, nonce: script.nonce, keptLines: keptLines, events: events)
        var command = RemoteCommand("/bin/sh", ["-s"], stdin: Array(script.render().utf8), become: become)
        command.holdStdinOpen = true  // its end kills the script's work on the host (see HostScript.render)
        do {
            let result = try await transport.run(command, timeout: timeout) { line in
                tracker.consume(line)
            }
            var outcomes = tracker.outcomes()
            if let holder = tracker.lockTimeoutHolder {
                let message = "could not take the host lock within \(lockTimeoutSeconds) s; held by: \(holder.isEmpty ? "unknown" : holder)"
                events(.hostFailed(host: host, message: message))
                return HostApplyResult(host: host, outcomes: outcomes, error: message)
            }
            if tracker.sawStale {
                let message = "another run changed the host after this plan was made (seen once the host lock was held); nothing was done"
                var result = HostApplyResult(host: host, outcomes: outcomes, error: message)
                result.stale = true
                return result
            }
            if !tracker.sawLock {
                let message = "apply script failed before taking the host lock (\(result.statusDescription)): \(result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))"
                events(.hostFailed(host: host, message: message))
                return HostApplyResult(host: host, outcomes: outcomes, error: message)
            }
            // A step that began but never ended: the script died under it.
            for i in outcomes.indices where outcomes[i].status == .skipped && tracker.began.contains(i) {
                outcomes[i].status = .failed
            }
            return HostApplyResult(host: host, outcomes: outcomes, error: nil)
        } catch {
            let message = "\(error)"
            events(.hostFailed(host: host, message: message))
            var outcomes = tracker.outcomes()
            for i in outcomes.indices where tracker.began.contains(i) && outcomes[i].status == .skipped {
                outcomes[i].status = .failed
            }
            return HostApplyResult(host: host, outcomes: outcomes, error: message)
        }
    }
}

/// Parses the script's marker lines (called on the transport's thread).
final class StepTracker: @unchecked Sendable {
    private let lock = NSLock()
    private let host: String
    private let steps: [PlanStep]
    private let prefix: String
    private let keptLines: Int
    private let events: @Sendable (ApplyEvent) -> Void
    private var started: [Int: ContinuousClock.Instant] = [:]
    private var finished: [Int: StepOutcome] = [:]
    private var lines: [Int: [String]] = [:]
    private(set) var began = Set<Int>()
    private(set) var sawLock = false
    private(set) var sawStale = false
    private(set) var lockTimeoutHolder: String?

    init(host: String, steps: [PlanStep], nonce: String, keptLines: Int, events: @escaping @Sendable (ApplyEvent) -> Void) {
        self.host = host
        self.steps = steps
        self.prefix = "@@\(nonce) "
        self.keptLines = keptLines
        self.events = events
    }

    func consume(_ line: OutputLine) {
        guard line.stream == .stdout, line.text.hasPrefix(prefix) else {
            // Output outside any step (sh's own complaints): attach to nothing.
            return
        }
        let rest = line.text.dropFirst(prefix.count)
        let words = rest.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        lock.lock()
        var event: ApplyEvent?
        switch words.first {
        case "locked":
            sawLock = true
            event = .locked(host: host)
        case "stale":
            sawStale = true
        case "waiting":
            event = .waitingForLock(host: host, holder: words.dropFirst().joined(separator: " "))
        case "lock-timeout":
            lockTimeoutHolder = words.dropFirst().joined(separator: " ")
        case "begin":
            if let i = index(words, 1) {
                began.insert(i)
                started[i] = ContinuousClock.now
                event = .stepStarted(host: host, step: steps[i])
            }
        case "out":
            if let i = index(words, 1) {
                let text = words.count > 2 ? words[2] : ""
                lines[i, default: []].append(text)
                if lines[i]!.count > keptLines { lines[i]!.removeFirst(lines[i]!.count - keptLines) }
                event = .output(host: host, step: steps[i], line: text)
            }
        case "skip":
            if let i = index(words, 1) {
                finished[i] = StepOutcome(step: steps[i], status: .skipped, exitCode: nil, duration: nil, output: [],
                                          skippedBecause: words.count > 2 ? words[2] : "")
            }
        case "end":
            if let i = index(words, 1) {
                let code = words.count > 2 ? Int32(words[2]) : nil
                let outcome = StepOutcome(
                    step: steps[i], status: code == 0 ? .succeeded : .failed, exitCode: code,
                    duration: started[i].map { ContinuousClock.now - $0 }, output: lines[i] ?? [])
                finished[i] = outcome
                event = .stepFinished(outcome)
            }
        default: break
        }
        lock.unlock()
        if let event { events(event) }
    }

    private func index(_ words: [String], _ at: Int) -> Int? {
        guard words.count > at, let i = Int(words[at]), steps.indices.contains(i) else { return nil }
        return i
    }

    func outcomes() -> [StepOutcome] {
        lock.lock()
        defer { lock.unlock() }
        return steps.indices.map { i in
            finished[i] ?? StepOutcome(step: steps[i], status: .skipped, exitCode: nil, duration: nil,
                                       output: lines[i] ?? [])
        }
    }
}
