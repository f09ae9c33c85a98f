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
public struct ApplyPipeline: Sendable {
    public var reconciliation: Reconciliation

    public init(reconciliation: Reconciliation) {
        self.reconciliation = reconciliation
    }

    /// Applies `plan`, recording into `recorder` (when given) every event and at
    /// the end the run's result and summary; `events` sees each event as it
    /// happens, after the journal has it.
    public func run(_ plan: Plan, owner: String, recorder: (any RunRecording)? = nil,
                    events: @escaping @Sendable (ApplyEvent) -> Void = { _ in }) async -> ApplyOutcome {
        for error in plan.errors { recorder?.note("cannot plan: \(error.message)", host: error.host) }
        let results = await reconciliation.apply(plan, owner: owner) { event in
            recorder?.handle(event)
            events(event)
        }
        recorder?.recordResults(results)
        // Level-triggered: look again rather than trust the step results.
        let after = await reconciliation.observe()
        let outcome = ApplyOutcome(plan: plan, results: results, after: after, remaining: reconciliation.plan(after))
        recorder?.finish(failed: outcome.failed, summary: outcome.summary)
        return outcome
    }
}
