// The daemon's state machine on its own: no socket, no sshd, no clock. Time is a
// `Date` the test moves; a revision's payload is a string standing for its specs.

import Foundation
import Reconciler
import LabsyncTestSupport
import Testing
@testable import Daemon

private typealias Core = DaemonCore<String>

private let t0 = Date(timeIntervalSince1970: 1_000_000)

private func makeCore(retryBase: Double = 1, retryMax: Double = 4, saved: Core.SavedState? = nil) -> Core {
    Core(settings: .init(interval: 60, jitter: 0.5, retryBase: retryBase, retryMax: retryMax), restoring: saved)
}

/// What a `Choice` says, as a comparable value.
private func describe(_ choice: Core.Choice) -> String {
    switch choice {
    case .validate(let revision): "validate \(revision)"
    case .reconcile(let revision, let isNew): "reconcile \(revision.id) (\(revision.payload))\(isNew ? " new" : "")"
    case .nothingToReconcile: "nothing"
    }
}

extension Core {
    /// One whole run as the controller drives it: fetch `head`, validate it with
    /// `verdict` if asked, then end the run with `failedHosts` failing.
    /// Returns what the fetch decided, and what the run end decided.
    fileprivate mutating func run(head: String?, verdict: (String) -> Validation = { .valid("specs@\($0)") },
                                  hosts: [String] = ["h1"], failedHosts: Set<String> = [], hasChanges: Bool = false,
                                  suspended: Bool = false, now: Date = t0) -> (choices: [String], afterPlan: AfterPlan?, end: RunEnd) {
        _ = request(.interval)
        guard startRun(suspended: suspended) != nil else { Issue.record("no run started"); return ([], nil, endRun(failedHosts: [], clean: false, now: now)) }
        var choices: [String] = []
        var choice = fetched(revision: head)
        choices.append(describe(choice))
        if case .validate(let revision) = choice {
            choice = validated(revision, verdict(revision))
            choices.append(describe(choice))
        }
        guard case .reconcile = choice else {
            return (choices, nil, endRun(failedHosts: [], clean: false, now: now))
        }
        let (eligible, _) = hostsToReconcile(hosts, now: now)
        let decision = afterPlan(hasChanges: hasChanges)
        let failed = failedHosts.intersection(eligible)
        return (choices, decision, endRun(failedHosts: failed, clean: failed.isEmpty, now: now))
    }
}

@Suite(.unit) struct DaemonCoreTests {
    @Test func aBadRevisionIsNeverHotRetried() {
        var core = makeCore()
        var validations = 0
        let verdict: (String) -> Core.Validation = { revision in
            validations += 1
            return revision == "bad" ? .invalid(problem: "bad.yaml:4:28: unknown field 'colour'") : .valid("specs@\(revision)")
        }
        #expect(core.run(head: "good", verdict: verdict).end.promoted == "good")
        #expect(validations == 1)

        // The ref moves to a bad commit: validated once, rejected, the good one reconciled instead.
        let first = core.run(head: "bad", verdict: verdict)
        #expect(first.choices == ["validate bad", "reconcile good (specs@good)"])
        #expect(first.end.promoted == nil)
        #expect(core.rejectedRevision == "bad")
        // Every later run (interval, webhook, retry) sees the same head: never validated again.
        for _ in 0..<5 {
            #expect(core.run(head: "bad", verdict: verdict).choices == ["reconcile good (specs@good)"])
        }
        #expect(validations == 2)

        // Nor after a restart: the rejection is part of the saved state.
        var restarted = makeCore(saved: core.saved)
        restarted.restoreInForce(.init(id: "good", payload: "specs@good"))
        #expect(restarted.run(head: "bad", verdict: verdict).choices == ["reconcile good (specs@good)"])
        #expect(validations == 2)

        // The ref moves on: the new commit is validated.
        #expect(core.run(head: "fixed", verdict: verdict).choices == ["validate fixed", "reconcile fixed (specs@fixed) new"])
        #expect(validations == 3 && core.appliedRevision == "fixed")
    }

    @Test func theLastGoodRevisionStaysInForce() {
        var core = makeCore()
        // Nothing valid yet: nothing to reconcile against, and an invalid head changes that not.
        #expect(core.run(head: "broken", verdict: { _ in .invalid(problem: "no") }).choices == ["validate broken", "nothing"])
        #expect(core.appliedRevision == nil && core.inForce == nil)

        _ = core.run(head: "r1")
        _ = core.run(head: "r2", verdict: { _ in .invalid(problem: "r2 is broken") })
        #expect(core.inForce?.id == "r1" && core.inForce?.payload == "specs@r1")
        #expect(core.appliedRevision == "r1")

        // A failed fetch keeps it too, and says why until the next fetch works.
        _ = core.request(.interval)
        _ = core.startRun(suspended: false)
        #expect(describe(core.fetchFailed("connection refused")) == "reconcile r1 (specs@r1)")
        #expect(core.fetchError == "connection refused")
        _ = core.endRun(failedHosts: [], clean: true, now: t0)
        #expect(core.run(head: "r2").choices == ["reconcile r1 (specs@r1)"])
        #expect(core.fetchError == nil)

        // After a restart whose in-force specs cannot be loaded again, the applied
        // revision is still shown, and the head (the same commit) is validated again.
        var restarted = makeCore(saved: Core.SavedState(lastAppliedRevision: "r1"))
        #expect(restarted.appliedRevision == "r1" && restarted.inForce == nil)
        #expect(restarted.run(head: "r1").choices == ["validate r1", "reconcile r1 (specs@r1) new"])
        // restoreInForce accepts only the applied revision.
        var other = makeCore(saved: Core.SavedState(lastAppliedRevision: "r1"))
        other.restoreInForce(.init(id: "r9", payload: "specs@r9"))
        #expect(other.inForce == nil)
    }

    @Test func appliedAndAttemptedRevisionsAreKeptApart() {
        var core = makeCore()
        _ = core.run(head: "r1")
        #expect(core.appliedRevision == "r1" && core.attemptedRevision == "r1" && core.attemptError == nil)

        // A valid revision is attempted as soon as it validated, applied only at the run's end.
        _ = core.request(.webhook)
        _ = core.startRun(suspended: false)
        _ = core.validated("r2", .valid("specs@r2"))
        #expect(core.attemptedRevision == "r2" && core.appliedRevision == "r1")
        #expect(core.endRun(failedHosts: [], clean: true, now: t0).promoted == "r2")
        #expect(core.appliedRevision == "r2")

        // Invalid: attempted with its error, not applied.
        _ = core.run(head: "r3", verdict: { _ in .invalid(problem: "r3: bad") })
        #expect(core.attemptedRevision == "r3" && core.attemptError == "r3: bad" && core.appliedRevision == "r2")

        // Valid again: the error goes.
        _ = core.run(head: "r4")
        #expect(core.attemptedRevision == "r4" && core.attemptError == nil && core.appliedRevision == "r4")

        // A host that failed does not hold the revision back: it is applied to the
        // hosts reached, and the failing one is retried against it.
        let partly = core.run(head: "r5", hosts: ["h1", "h2"], failedHosts: ["h2"], hasChanges: true)
        #expect(partly.end.promoted == "r5" && !partly.end.healthy)
        #expect(core.backoff["h2"]?.consecutiveFailures == 1)

        #expect(core.saved == Core.SavedState(lastAppliedRevision: "r5", lastAttemptedRevision: "r5",
                                              lastAttemptError: nil, rejectedRevision: "r3"))
    }

    @Test func aFailingHostBacksOffAloneAndRecovers() {
        var core = makeCore(retryBase: 1, retryMax: 4)
        var now = t0
        _ = core.tick(now: now, jitter: 0)  // schedules the first interval
        _ = core.run(head: "r1", hosts: ["up", "down"], failedHosts: ["down"], now: now)

        var delays: [Double] = []
        for _ in 0..<5 {
            let backoff = try! #require(core.backoff["down"])
            delays.append(backoff.delay)
            // While it waits, runs leave it out; the other host goes on.
            let waiting = core.run(head: "r1", hosts: ["up", "down"], failedHosts: ["down"], now: now.addingTimeInterval(backoff.delay / 2))
            #expect(waiting.afterPlan != nil)
            #expect(core.backoff["down"] == backoff, "a waiting host's backoff does not move")
            // Its retry time comes: the clock turns it into one retry trigger, once.
            now = try! #require(backoff.retryAt)
            #expect(core.tick(now: now, jitter: 0) == .retry)
            #expect(core.tick(now: now, jitter: 0) == nil, "each retry time fires once")
            #expect(!backoff.isWaiting(at: now))
            _ = core.run(head: "r1", hosts: ["up", "down"], failedHosts: ["down"], now: now)
        }
        #expect(delays == [1, 2, 4, 4, 4])
        #expect(core.backoff["up"] == nil, "the healthy host never backs off")
        #expect(core.backoff["down"]?.consecutiveFailures == 6)

        // One success resets it.
        now = try! #require(core.backoff["down"]?.retryAt)
        let recovered = core.run(head: "r1", hosts: ["up", "down"], now: now)
        #expect(core.backoff["down"] == nil && recovered.end.healthy)
    }

    @Test func suspendedObservesButNeverChangesNorPromotes() {
        var core = makeCore()
        _ = core.run(head: "r1")

        // Suspended: a new valid revision is validated and planned, never applied.
        let suspended = core.run(head: "r2", hasChanges: true, suspended: true)
        #expect(suspended.choices == ["validate r2", "reconcile r2 (specs@r2) new"])
        #expect(suspended.afterPlan == .observeOnly)
        #expect(suspended.end.promoted == nil && !suspended.end.healthy)
        #expect(core.suspended && core.appliedRevision == "r1" && core.attemptedRevision == "r2")
        // Drift on the in-force revision is not repaired either.
        #expect(core.run(head: "r1", hasChanges: true, suspended: true).afterPlan == .observeOnly)

        // Resumed: the same head is taken up again and applied.
        let resumed = core.run(head: "r2", hasChanges: true, suspended: false)
        #expect(resumed.choices == ["validate r2", "reconcile r2 (specs@r2) new"])
        #expect(resumed.afterPlan == .apply && resumed.end.promoted == "r2")
        #expect(!core.suspended && core.appliedRevision == "r2")

        // A new revision with nothing to change still gets a line in the history; an old one not.
        #expect(core.run(head: "r3").afterPlan == .recordQuietRun)
        #expect(core.run(head: "r3").afterPlan == .observeOnly)
    }

    @Test func aWebhookStormCoalescesIntoOneRun() {
        var core = makeCore()
        // Idle: the first hook makes a run pending, the other 99 join it.
        let woke = (0..<100).map { _ in core.request(.webhook) }
        #expect(woke.filter { $0 }.count == 1 && woke.first == true)
        #expect(core.startRun(suspended: false) == .webhook)
        #expect(core.startRun(suspended: false) == nil, "one run, and no second at once")

        // During the run: a storm (and an interval) become one more run after it.
        let during = (0..<50).map { _ in core.request(.webhook) } + [core.request(.interval)]
        #expect(during.filter { $0 }.count == 1)
        #expect(core.startRun(suspended: false) == nil, "never two runs at once")
        let end = core.endRun(failedHosts: [], clean: true, now: t0)
        #expect(end.runAgain)
        #expect(core.startRun(suspended: false) == .webhook)
        #expect(core.endRun(failedHosts: [], clean: true, now: t0).runAgain == false)
        #expect(core.startRun(suspended: false) == nil)
        #expect(core.coalesced == 99 + 50)

        // Stopping: nothing more is taken.
        _ = core.request(.webhook)
        core.stop()
        #expect(core.request(.webhook) == false)
        #expect(core.startRun(suspended: false) == nil)
    }

    @Test func theClockFiresIntervalsWithJitter() {
        var core = makeCore()
        #expect(core.tick(now: t0, jitter: 1) == nil)
        #expect(core.nextIntervalAt == t0.addingTimeInterval(90), "60 s + 50 % jitter")
        #expect(core.tick(now: t0.addingTimeInterval(89), jitter: 0) == nil)
        #expect(core.tick(now: t0.addingTimeInterval(90), jitter: -1) == .interval)
        #expect(core.nextIntervalAt == t0.addingTimeInterval(90 + 30), "60 s − 50 % jitter")
    }
}
