// The one apply sequence that `labsync apply` and the daemon share: apply the
// plan (the host script takes each host's lock), record it in the journal,
// observe again, plan again, and say what that means. Callers keep only what is
// theirs: the CLI its confirmation and printing, the daemon its metrics (both
// through `events`) and its bookkeeping.

import Drivers
import Foundation

/// What one apply came to. "Converged" is what the plan made after applying
/// says (level-triggered), not what the steps reported.
public struct ApplyOutcome: Sendable {
    /// The plan that was applied.
    public var plan: Plan
    public var results: [HostApplyResult]
    /// The observation made after applying.
    public var after: ObservationReport
    /// What is left to do according to `after`.
    public var remaining: Plan

    public init(plan: Plan, results: [HostApplyResult], after: ObservationReport, remaining: Plan) {
        self.plan = plan
        self.results = results
        self.after = after
        self.remaining = remaining
    }

    public var converged: Bool { remaining.isEmpty && remaining.errors.isEmpty }

    /// A step failed, a host failed or could not be observed again, the plan
    /// had errors, or the hosts still differ from the specs.
    public var failed: Bool {
        !plan.errors.isEmpty || results.contains { !$0.succeeded } || !after.failures.isEmpty || !converged
    }

    /// Hosts whose apply failed, or that could not be observed afterwards.
    public var failedHosts: Set<String> {
        Set(results.filter { !$0.succeeded }.map(\.host)).union(after.failures.keys)
    }


    /// The run's summary in the journal: "converged: 1 to add, …" or
    /// "not converged: 1 step(s) remain; …".
    public var summary: String {
        converged ? "converged: \(plan.oneLineSummary)"
                  : "not converged: \(remaining.whatRemains); \(remaining.oneLineSummary)"
    }

    /// The closing line of `labsync apply`.
    public var closingLine: String {
        converged ? "Converged: the hosts match the specs."
                  : "Not converged: \(remaining.whatRemains); run apply again or see the errors above."
    }
}

extension Plan {
    /// What keeps a plan from being "converged", for the closing line: "2 step(s)
    /// remain", "host far could not be observed", "1 resource cannot be planned".
    /// Never "0 step(s) remain": a host that could not be observed is named.
    var whatRemains: String {
        var parts: [String] = []
        if !steps.isEmpty || errors.isEmpty { parts.append("\(steps.count) step(s) remain") }
        let unobserved = unobservedHostList
        if !unobserved.isEmpty { parts.append(Plan.unobservedNote(unobserved)) }
        let planErrors = errors.filter { !unobserved.contains($0.host) }
        if !planErrors.isEmpty {
            parts.append("\(planErrors.count) resource\(planErrors.count == 1 ? "" : "s") cannot be planned")
        }
        return parts.joined(separator: ", ")
    }

}

/// Where a run's events and result go: the journal (Journal.RunRecorder),
/// kept behind a protocol so this module links no database.
public protocol RunRecording: Sendable {
    func note(_ text: String, host: String?)
    func handle(_ event: ApplyEvent)
    func recordResults(_ results: [HostApplyResult])
    /// The run ends: failed or succeeded, with its summary.
    func finish(failed: Bool, summary: String)
}

/// plan → apply (locks taken on the hosts) → journal → observe → plan again.
///
/// Plan after the lock (issue 11 #7): a host's script refuses the plan when
/// another run changed the host after the plan's observation (`stale`). The
/// pipeline then observes and plans those hosts again, once, and applies the new
/// plan only if it does nothing the approved plan did not show (its steps are a
/// subset: the other run usually did the rest). A saved plan is never re-planned
/// (`replanWhenStale: false`): it is refused.
public struct ApplyPipeline: Sendable {
    public var reconciliation: Reconciliation
    public var replanWhenStale: Bool
    static let staleRounds = 3

    public init(reconciliation: Reconciliation, replanWhenStale: Bool = true) {
        self.reconciliation = reconciliation
        self.replanWhenStale = replanWhenStale
    }

    /// The stale hosts' results after one re-plan: applied if the new plan is
    /// within the approved one, refused otherwise.
    func retryStale(_ results: [HostApplyResult], approved: Plan, owner: String, recorder: (any RunRecording)?,
                    events: @escaping @Sendable (ApplyEvent) -> Void) async -> [HostApplyResult] {
        let stale = Set(results.filter(\.stale).map(\.host))
        guard !stale.isEmpty else { return results }
        var replaced: [String: HostApplyResult] = [:]
        if !replanWhenStale {
            for host in stale {
                let message = "the saved plan is stale: another run changed the host while this one waited for its lock; nothing was done, plan again"
                recorder?.note(message, host: host)
                events(.hostFailed(host: host, message: message))
                replaced[host] = HostApplyResult(host: host, outcomes: [], error: message)
            }
        } else {
            let fresh = reconciliation.plan(await reconciliation.observe())
            var accepted: [PlannedStep] = []
            for host in stale.sorted() {
                let allowed = Set(approved.steps.filter { $0.host == host })
                let work = fresh.work.filter { $0.host == host }
                if fresh.summary.unobservedHosts?.contains(host) == true || !work.allSatisfy({ allowed.contains(PlanStep($0)) }) {
                    let message = "another run changed the host while this one waited for its lock, and a new plan differs from the approved one; nothing was done, plan again"
                    recorder?.note(message, host: host)
                    events(.hostFailed(host: host, message: message))
                    replaced[host] = HostApplyResult(host: host, outcomes: [], error: message)
                } else if work.isEmpty {
                    recorder?.note("another run changed the host while this one waited; nothing is left to do", host: host)
                    replaced[host] = HostApplyResult(host: host, outcomes: [], error: nil)
                } else {
                    recorder?.note("another run changed the host while this one waited; planned again", host: host)
                    accepted += work
                }
            }
            var retry = Plan(revision: fresh.revision, work: accepted)
            retry.generations = fresh.generations
            for result in await reconciliation.apply(retry, owner: owner, events: { event in
                recorder?.handle(event)
                events(event)
            }) {
                replaced[result.host] = result
            }
        }
        return results.map { replaced[$0.host] ?? $0 }
    }

    /// Applies `plan`, recording into `recorder` (when given) every event and at
    /// the end the run's result and summary; `events` sees each event as it
    /// happens, after the journal has it.
    public func run(_ plan: Plan, owner: String, recorder: (any RunRecording)? = nil,
                    events: @escaping @Sendable (ApplyEvent) -> Void = { _ in }) async -> ApplyOutcome {
        for error in plan.errors { recorder?.note("cannot plan: \(error.message)", host: error.host) }
        let firstResults = await reconciliation.apply(plan, owner: owner) { event in
            recorder?.handle(event)
            events(event)
        }
        // A busy host (several repositories or daemons applying to it) can change
        // again while the re-plan runs: up to three rounds, each still bounded by
        // the approved plan, before the host is reported as failed.
        var results = firstResults
        for _ in 0..<Self.staleRounds where results.contains(where: \.stale) {
            results = await retryStale(results, approved: plan, owner: owner, recorder: recorder, events: events)
        }
        for result in results where result.stale {
            let message = (result.error ?? "another run changed the host") + " (\(Self.staleRounds) re-plans)"
            recorder?.note(message, host: result.host)
            events(.hostFailed(host: result.host, message: message))
        }
        recorder?.recordResults(results)
        // Level-triggered: look again rather than trust the step results.
        let after = await reconciliation.observe()
        let outcome = ApplyOutcome(plan: plan, results: results, after: after, remaining: reconciliation.plan(after))
        recorder?.finish(failed: outcome.failed, summary: outcome.summary)
        return outcome
    }
}
