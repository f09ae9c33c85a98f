// The daemon's decisions as a value (the way swift-nio-ssh keeps its protocol in a
// state machine with no IO): which revision to reconcile against, which hosts wait
// out a backoff, whether to apply or only observe, when to run again. Events come
// in as method calls with plain values (a fetched revision, a validation verdict,
// the hosts that failed, the current time); decisions come out as return values.
// `DaemonController` does the IO around it: fetching, loading specs, SSH, the
// journal, metrics, the clock. DESIGN.md ("The daemon's state machine") has the
// table of states, events and decisions.

import Foundation
import Reconciler

/// Why a reconcile runs.
public enum Trigger: String, Sendable {
    case start, interval, webhook, retry
}

/// The daemon's state and decisions. `Payload` is what a valid revision carries
/// (the controller's loaded specs; a plain value in tests).
public struct DaemonCore<Payload: Sendable>: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Seconds between reconciles without a trigger (drift correction)…
        public var interval: Double
        /// …each one `interval` ± this fraction.
        public var jitter: Double
        /// A failing host is retried after `retryBase`, `2·retryBase`, … up to `retryMax` seconds.
        public var retryBase: Double
        public var retryMax: Double

        public init(interval: Double, jitter: Double = 0, retryBase: Double, retryMax: Double) {
            self.interval = interval
            self.jitter = jitter
            self.retryBase = retryBase
            self.retryMax = retryMax
        }
    }

    /// A validated revision and what it carries.
    public struct Revision: Sendable {
        public var id: String
        public var payload: Payload
        public init(id: String, payload: Payload) {
            self.id = id
            self.payload = payload
        }
    }

    /// What a fetch or a validation leads to.
    public enum Choice: Sendable {
        /// A revision not seen before: load and validate it, then call `validated`.
        case validate(String)
        /// Reconcile the hosts against this revision; `isNew` when it has just been
        /// validated and is not in force yet.
        case reconcile(Revision, isNew: Bool)
        /// No valid revision yet: nothing to reconcile against.
        case nothingToReconcile
    }

    public enum Validation: Sendable {
        case valid(Payload)
        case invalid(problem: String)
    }

    /// What to do once the hosts are planned.
    public enum AfterPlan: Sendable, Equatable {
        case apply
        /// Nothing to change, but a new revision is worth a line in the history.
        case recordQuietRun
        /// Only observe: suspended, or nothing to change.
        case observeOnly
    }

    /// What the end of a run decided.
    public struct RunEnd: Sendable, Equatable {
        /// The revision that became the applied one in this run, if any.
        public var promoted: String?
        /// Everything matched: no changes, no errors, no failing or waiting host, not suspended.
        public var healthy: Bool
        /// A trigger came in meanwhile: run again.
        public var runAgain: Bool
    }

    /// The revisions kept across restarts (`daemon-state.json`).
    public struct SavedState: Codable, Sendable, Equatable {
        public var lastAppliedRevision: String?
        public var lastAttemptedRevision: String?
        public var lastAttemptError: String?
        public var rejectedRevision: String?
    }

    /// One reconcile in progress.
    struct Pass: Sendable {
        var trigger: Trigger
        var suspended: Bool
        var candidate: Revision?
        var eligible: [String] = []
        var waiting: Set<String> = []
    }

    public let settings: Settings

    // Revisions (Flux's lastAppliedRevision / lastAttemptedRevision).
    /// The revision whose specs are in force, with them. May lag `appliedRevision`
    /// after a restart if its specs could not be loaded again.
    public private(set) var inForce: Revision?
    public private(set) var appliedRevision: String?
    public private(set) var attemptedRevision: String?
    public private(set) var attemptError: String?
    /// Found invalid: never validated again until the ref moves to another commit.
    public private(set) var rejectedRevision: String?
    public private(set) var fetchError: String?

    // Hosts.
    private(set) var backoff: [String: HostBackoff] = [:]
    /// "host/resource" → why its last step failed; cleared when one succeeds.
    public private(set) var stepFailures: [String: String] = [:]

    // Runs.
    /// The trigger of the next run; later triggers coalesce into it.
    public private(set) var pending: Trigger?
    public private(set) var running: Trigger?
    /// Triggers that found a run already pending (a webhook storm is one run).
    public private(set) var coalesced = 0
    public private(set) var stopping = false
    public private(set) var suspended = false
    var pass: Pass?

    // Schedule.
    public private(set) var nextIntervalAt: Date?
    /// Retry times already turned into a `.retry` trigger (each fires once).
    private var firedRetries: Set<Date> = []

    public init(settings: Settings, restoring saved: SavedState? = nil) {
        self.settings = settings
        appliedRevision = saved?.lastAppliedRevision
        attemptedRevision = saved?.lastAttemptedRevision
        attemptError = saved?.lastAttemptError
        rejectedRevision = saved?.rejectedRevision
    }

    public var saved: SavedState {
        SavedState(lastAppliedRevision: appliedRevision, lastAttemptedRevision: attemptedRevision,
                   lastAttemptError: attemptError, rejectedRevision: rejectedRevision)
    }

    /// After a restart: the applied revision's specs, loaded again.
    public mutating func restoreInForce(_ revision: Revision) {
        guard revision.id == appliedRevision else { return }
        inForce = revision
    }

    // MARK: Triggers and runs

    /// A reason to reconcile. True when it made a run pending (wake the loop);
    /// false when it coalesced into one already pending, or the daemon stops.
    public mutating func request(_ trigger: Trigger) -> Bool {
        guard !stopping else { return false }
        if pending != nil {
            coalesced += 1
            return false
        }
        pending = trigger
        return true
    }

    /// Starts the pending run, if any and none is running. `suspended`: whether
    /// the suspend file exists now (hosts are observed, never changed).
    public mutating func startRun(suspended: Bool) -> Trigger? {
        guard !stopping, running == nil, let trigger = pending else { return nil }
        pending = nil
        running = trigger
        self.suspended = suspended
        pass = Pass(trigger: trigger, suspended: suspended)
        return trigger
    }

    /// No new runs; a running one may finish.
    public mutating func stop() {
        stopping = true
        pending = nil
    }

    /// The clock, as a value: `.interval` when the interval is up, `.retry` when a
    /// failing host's retry time has come (once per retry time), else nil.
    /// `jitter` is a random number in -1...1 (scaled by `settings.jitter`).
    public mutating func tick(now: Date, jitter: Double) -> Trigger? {
        let next = now.addingTimeInterval(settings.interval * (1 + settings.jitter * jitter))
        guard let due = nextIntervalAt else {
            nextIntervalAt = next
            return nil
        }
        if now >= due {
            nextIntervalAt = next
            return .interval
        }
        let retries = Set(backoff.values.compactMap(\.retryAt).filter { $0 <= now && !firedRetries.contains($0) })
        guard !retries.isEmpty else { return nil }
        // Forget retry times long past, so the set stays small.
        firedRetries = firedRetries.union(retries).filter { $0 > now.addingTimeInterval(-3600) }
        return .retry
    }

    // MARK: Which revision

    /// The source was fetched; `revision` is its commit (nil: none).
    public mutating func fetched(revision: String?) -> Choice {
        fetchError = nil
        if let revision, revision != inForce?.id, revision != rejectedRevision {
            return .validate(revision)
        }
        return inForceChoice
    }

    /// Fetching failed: the specs in force stay in force.
    public mutating func fetchFailed(_ message: String) -> Choice {
        fetchError = message
        return inForceChoice
    }

    /// The verdict on a revision `fetched` asked to validate. An invalid one is
    /// remembered and never validated again; the specs in force stay.
    public mutating func validated(_ revision: String, _ validation: Validation) -> Choice {
        attemptedRevision = revision
        switch validation {
        case .invalid(let problem):
            rejectedRevision = revision
            attemptError = problem
            return inForceChoice
        case .valid(let payload):
            attemptError = nil
            let candidate = Revision(id: revision, payload: payload)
            pass?.candidate = candidate
            return .reconcile(candidate, isNew: true)
        }
    }

    private var inForceChoice: Choice {
        inForce.map { .reconcile($0, isNew: false) } ?? .nothingToReconcile
    }

    // MARK: Which hosts, and what to do

    /// Hosts of the chosen revision to observe now; the others wait out a backoff.
    public mutating func hostsToReconcile(_ hosts: [String], now: Date) -> (eligible: [String], waiting: Set<String>) {
        let waiting = Set(hosts.filter { backoff[$0]?.isWaiting(at: now) ?? false })
        let eligible = hosts.filter { !waiting.contains($0) }
        pass?.eligible = eligible
        pass?.waiting = waiting
        return (eligible, waiting)
    }

    public func afterPlan(hasChanges: Bool) -> AfterPlan {
        guard let pass, !pass.suspended else { return .observeOnly }
        if hasChanges { return .apply }
        return pass.candidate != nil ? .recordQuietRun : .observeOnly
    }

    /// The steps' results: a resource's failure is remembered until a step of it succeeds.
    public mutating func recordResults(_ results: [HostApplyResult]) {
        for result in results {
            for outcome in result.outcomes {
                let key = "\(result.host)/\(outcome.step.resource)"
                switch outcome.status {
                case .succeeded: stepFailures[key] = nil
                case .failed: stepFailures[key] = "\(outcome.step.action.rawValue) failed (exit \(outcome.exitCode.map(String.init) ?? "?"))"
                case .skipped: break
                }
            }
        }
    }

    /// The run is over. `failedHosts`: hosts that could not be observed, or whose
    /// apply failed; `clean`: the last plan has no steps and no errors.
    ///
    /// A new valid revision becomes the applied one unless suspended, even when
    /// some hosts failed: those are retried with backoff against it.
    public mutating func endRun(failedHosts: Set<String>, clean: Bool, now: Date) -> RunEnd {
        var end = RunEnd(promoted: nil, healthy: false, runAgain: false)
        if let pass {
            if let candidate = pass.candidate, !pass.suspended {
                inForce = candidate
                appliedRevision = candidate.id
                end.promoted = candidate.id
            }
            for host in pass.eligible {
                if failedHosts.contains(host) {
                    backoff[host, default: HostBackoff()].failed(at: now, base: settings.retryBase, max: settings.retryMax)
                } else {
                    backoff[host] = nil
                }
            }
            end.healthy = clean && failedHosts.isEmpty && pass.waiting.isEmpty && !pass.suspended
        }
        pass = nil
        running = nil
        end.runAgain = pending != nil && !stopping
        return end
    }
}
