import Drivers
import Foundation
import Logging
import Reconciler
import ServiceLifecycle
import Specs

/// Why a reconcile runs.
public enum Trigger: String, Sendable {
    case start, interval, webhook, retry
}

/// The daemon's single worker: fetch → validate → observe → plan → apply, one
/// reconcile at a time (never two runs at once), woken by the interval timer,
/// a webhook, or a host's retry time.
///
/// Revisions follow Flux: a fetched revision is *attempted*; it becomes *applied*
/// once it validated and was applied to the hosts that could be reached (those
/// that could not are shown failed and retried with backoff). An invalid revision
/// is recorded and shown, never applied, and not validated again — the last
/// applied revision's specs stay in force and keep correcting drift.
public actor DaemonController: Service {
    public let configuration: DaemonConfiguration
    public let journal: Journal
    public let metrics: DaemonMetrics
    let logger: Logger

    private(set) var status: DaemonStatus
    /// The specs in force: the last applied revision's.
    private var inForce: (tree: SourceTree, specs: SpecSet, settings: RepositorySettings)?
    /// A revision found invalid: not validated again until the ref moves.
    private var rejectedRevision: String?
    private var backoff: [String: HostBackoff] = [:]
    /// Per host/resource: why its last step failed (cleared when it succeeds).
    private var stepFailures: [String: String] = [:]
    private var ready = false
    private var stopping = false

    private let wakeups: AsyncStream<Trigger>
    private let wake: AsyncStream<Trigger>.Continuation

    public init(configuration: DaemonConfiguration, journal: Journal, metrics: DaemonMetrics, logger: Logger) {
        self.configuration = configuration
        self.journal = journal
        self.metrics = metrics
        self.logger = logger
        status = DaemonStatus(repo: configuration.repo, ref: configuration.ref,
                              intervalSeconds: configuration.interval.seconds)
        // Wakeups while a reconcile runs collapse into one: the next reconcile
        // fetches the newest revision anyway.
        (wakeups, wake) = AsyncStream.makeStream(of: Trigger.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a reconcile as soon as the current one (if any) ends.
    public nonisolated func trigger(_ trigger: Trigger) { wake.yield(trigger) }

    public func currentStatus() -> DaemonStatus {
        var s = status
        s.suspended = isSuspended
        s.suspendReason = suspendReason
        return s
    }

    public var isReady: Bool { ready }

    // MARK: The loop

    public func run() async throws {
        try? journal.reapAbandonedRuns()
        await restoreState()
        let timer = Task { await self.timerLoop() }
        defer { timer.cancel() }
        let shutdownTimeout = configuration.shutdownTimeout
        await withGracefulShutdownHandler {
            trigger(.start)
            for await reason in wakeups {
                if await isStopping() { break }
                await reconcile(reason)
            }
        } onGracefulShutdown: {
            // Stop taking work; the running reconcile (if any) finishes, within bounds.
            Task { await self.beginStopping(timeout: shutdownTimeout) }
        }
        logger.info("stopped")
    }

    private func isStopping() -> Bool { stopping }

    private func beginStopping(timeout: Duration) async {
        stopping = true
        wake.finish()
        guard let run = status.runningRun else { return }
        logger.info("shutting down: waiting up to \(timeout.seconds) s for run \(run) to finish")
        try? await Task.sleep(for: timeout)
        // Still running: give up on it. The remote script dies with its SSH
        // session (and its host lock with it); the next start converges.
        if let still = status.runningRun {
            try? journal.addLine(run: still, stream: .labsync, "shutdown: the run did not finish within \(timeout.seconds) s; interrupted")
            try? journal.finish(run: still, result: .interrupted, summary: "the daemon shut down during the run")
            metrics.runs("interrupted").increment()
            logger.warning("run \(still) interrupted by shutdown")
            exit(0)
        }
    }

    /// Wakes the loop every interval (with jitter), and when a failing host's
    /// retry time comes. Looks again at least every second: a reconcile may have
    /// set a retry time sooner than the next interval.
    private func timerLoop() async {
        var nextInterval = Date().addingTimeInterval(jittered(configuration.interval.seconds))
        var firedRetries = Set<Date>()
        while !Task.isCancelled {
            status.nextReconcileAt = nextInterval
            let pause = min(1, max(0.01, nextInterval.timeIntervalSinceNow))
            try? await Task.sleep(for: .milliseconds(Int64(pause * 1000)))
            if Task.isCancelled { return }
            let now = Date()
            if now >= nextInterval {
                nextInterval = now.addingTimeInterval(jittered(configuration.interval.seconds))
                trigger(.interval)
                continue
            }
            let due = Set(backoff.values.compactMap(\.retryAt).filter { $0 <= now && !firedRetries.contains($0) })
            if !due.isEmpty {
                firedRetries = firedRetries.union(due).filter { $0 > now.addingTimeInterval(-3600) }
                trigger(.retry)
            }
        }
    }

    private func jittered(_ seconds: Double) -> Double {
        seconds * (1 + Double.random(in: -configuration.jitter...configuration.jitter))
    }

    // MARK: One reconcile

    func reconcile(_ trigger: Trigger) async {
        let started = ContinuousClock.now
        defer {
            metrics.reconcileDuration.record(ContinuousClock.now - started)
            status.lastReconcileAt = Date()
            metrics.lastReconcile.set(Date().timeIntervalSince1970)
            ready = true
        }
        let suspended = isSuspended
        metrics.suspended.set(suspended ? 1.0 : 0.0)

        // 1. Fetch. A failure leaves the last good specs in force.
        var candidate: (tree: SourceTree, result: LoadResult)?
        do {
            let tree = try await configuration.source.fetch()
            status.fetchError = nil
            if let revision = tree.revision, revision != inForce?.tree.revision, revision != rejectedRevision {
                // 2. Validate a new revision before anything else.
                let result = SpecLoader().load(directory: tree.root)
                if let problem = validationProblem(result) {
                    reject(revision: revision, trigger: trigger, problem: problem)
                } else {
                    candidate = (tree, result)
                    status.lastAttemptedRevision = revision
                    status.lastAttemptError = nil
                    metrics.setAttemptedRevision(revision, valid: true)
                }
            }
        } catch {
            status.fetchError = "\(error)"
            logger.error("fetching \(configuration.repo) failed: \(error)")
        }

        let specs: SpecSet
        let settings: RepositorySettings
        let revision: String?
        if let candidate {
            (specs, settings, revision) = (candidate.result.specs, candidate.result.settings, candidate.tree.revision)
        } else if let inForce {
            (specs, settings, revision) = (inForce.specs, inForce.settings, inForce.tree.revision)
        } else {
            return  // nothing valid yet: nothing to reconcile against
        }

        // 3. Observe and plan, leaving out hosts that wait out a backoff.
        let now = Date()
        let waiting = Set(backoff.filter { $0.value.isWaiting(at: now) }.keys)
        let eligible = specs.hosts.map(\.name).filter { !waiting.contains($0) }
        var options = configuration.run
        options.prune = options.prune || settings.prune
        let subset = eligible.isEmpty ? SpecSet() : specs.restricted(toHosts: eligible)
        let connections = HostConnections.ssh(hosts: subset.hosts, options: configuration.inventory)
        defer { Task { await connections.closeAll() } }
        let reconciliation = Reconciliation(specs: subset, revision: revision, connections: connections, options: options)
        let report = eligible.isEmpty ? ObservationReport() : await reconciliation.observe()
        var plan = reconciliation.plan(report)
        var failedHosts = Set(report.failures.keys)
        var applied = false

        // 4. Apply, unless suspended or there is nothing to do.
        if !suspended && !plan.isEmpty {
            applied = true
            let (results, after) = await apply(plan, reconciliation: reconciliation, trigger: trigger, revision: revision)
            for result in results where !result.succeeded { failedHosts.insert(result.host) }
            for failure in after.failures.keys { failedHosts.insert(failure) }
            plan = reconciliation.plan(after)
        } else if candidate != nil && !suspended {
            // A new revision that changes nothing is still worth a line in history.
            recordQuietRun(plan: plan, trigger: trigger, revision: revision, failedHosts: failedHosts, report: report)
        }

        // 5. Bookkeeping: revisions, backoff, states, metrics.
        if let candidate, !suspended {
            inForce = (candidate.tree, candidate.result.specs, candidate.result.settings)
            status.lastAppliedRevision = candidate.tree.revision
            metrics.setAppliedRevision(candidate.tree.revision)
            saveState()
        }
        for host in eligible {
            if failedHosts.contains(host) {
                backoff[host, default: HostBackoff()].failed(
                    at: Date(), base: configuration.retryBase.seconds, max: configuration.retryMax.seconds)
            } else {
                backoff[host] = nil
            }
        }
        updateHostStatus(specs: specs, plan: plan, report: report, waiting: waiting)
        if plan.isEmpty && plan.errors.isEmpty && failedHosts.isEmpty && waiting.isEmpty && !suspended {
            status.lastSuccessfulReconcileAt = Date()
            metrics.lastSuccessfulReconcile.set(Date().timeIntervalSince1970)
        }
        if !applied { logger.debug("reconciled (\(trigger.rawValue)): \(plan.oneLineSummary)") }
    }

    /// Applies `plan` as one journal run; then observes again (level-triggered:
    /// the hosts, not the step results, say whether they converged).
    private func apply(_ plan: Plan, reconciliation: Reconciliation, trigger: Trigger, revision: String?) async
        -> ([HostApplyResult], ObservationReport) {
        let runID: Int64
        do {
            runID = try journal.begin(kind: .daemonApply, trigger: trigger.rawValue, revision: revision, plan: plan)
        } catch {
            logger.error("cannot record the run, not applying: \(error)")
            return ([], ObservationReport())
        }
        status.runningRun = runID
        defer { status.runningRun = nil }
        logger.info("run \(runID) (\(trigger.rawValue)) at \(revision ?? "-"): \(plan.oneLineSummary)")
        let recorder = RunRecorder(journal: journal, run: runID)
        for error in plan.errors { recorder.note("cannot plan: \(error.message)", host: error.host) }
        let metrics = self.metrics
        let results = await reconciliation.apply(plan, owner: "labsync daemon pid \(getpid()) on \(ProcessInfo.processInfo.hostName)") { event in
            recorder.handle(event)
            if case .stepFinished(let outcome) = event {
                metrics.steps(action: outcome.step.action.rawValue, result: outcome.status.rawValue).increment()
                if let duration = outcome.duration { metrics.stepDuration(action: outcome.step.action.rawValue).record(duration) }
            }
        }
        recorder.recordResults(results)
        for result in results {
            for outcome in result.outcomes {
                let key = "\(result.host)/\(outcome.step.resource)"
                switch outcome.status {
                case .succeeded: stepFailures[key] = nil
                case .failed: stepFailures[key] = "\(outcome.step.action.rawValue) failed (exit \(outcome.exitCode.map(String.init) ?? "?"))"
                case .skipped: metrics.steps(action: outcome.step.action.rawValue, result: "skipped").increment()
                }
            }
        }
        let after = await reconciliation.observe()
        let remaining = reconciliation.plan(after)
        let failed = !plan.errors.isEmpty || results.contains { !$0.succeeded } || !after.failures.isEmpty
        let summary = remaining.isEmpty && remaining.errors.isEmpty
            ? "converged: \(plan.oneLineSummary)"
            : "not converged: \(remaining.steps.count) step(s) remain; \(remaining.oneLineSummary)"
        let result: JournalRun.Result = failed ? .failed : .succeeded
        try? journal.finish(run: runID, result: result, summary: summary)
        metrics.runs(result.rawValue).increment()
        logger.info("run \(runID): \(result.rawValue): \(summary)")
        return (results, after)
    }

    private func recordQuietRun(plan: Plan, trigger: Trigger, revision: String?, failedHosts: Set<String>,
                                report: ObservationReport) {
        guard let id = try? journal.begin(kind: .daemonApply, trigger: trigger.rawValue, revision: revision,
                                          hosts: Array(report.observations.keys) + Array(failedHosts), plan: plan)
        else { return }
        for (host, message) in report.failures { try? journal.addLine(run: id, host: host, stream: .labsync, "FAILED: \(message)") }
        let result: JournalRun.Result = failedHosts.isEmpty && plan.errors.isEmpty ? .noChanges : .failed
        try? journal.finish(run: id, result: result, summary: plan.oneLineSummary)
        metrics.runs(result.rawValue).increment()
    }

    /// Why a revision cannot be applied, or nil.
    private func validationProblem(_ result: LoadResult) -> String? {
        if !result.isValid {
            return result.diagnostics.filter { $0.severity == .error }.map(\.description).joined(separator: "\n")
        }
        if !result.specs.declaresResources && !configuration.allowEmpty {
            return "the revision declares no environments and no hubs; refusing it (start the daemon with --allow-empty if that is intended)"
        }
        return nil
    }

    private func reject(revision: String, trigger: Trigger, problem: String) {
        rejectedRevision = revision
        status.lastAttemptedRevision = revision
        status.lastAttemptError = problem
        metrics.setAttemptedRevision(revision, valid: false)
        metrics.runs("invalid").increment()
        logger.error("revision \(revision) is invalid and is not applied: \(problem)")
        if let id = try? journal.begin(kind: .daemonApply, trigger: trigger.rawValue, revision: revision) {
            try? journal.addLine(run: id, stream: .labsync, "revision \(revision) is invalid; nothing was observed or changed")
            for line in problem.split(separator: "\n") { try? journal.addLine(run: id, stream: .labsync, String(line)) }
            try? journal.finish(run: id, result: .invalid, summary: "invalid specs; \(status.lastAppliedRevision.map { "revision \($0) stays in force" } ?? "nothing applied yet")")
        }
        saveState()
    }

    // MARK: Status

    private func updateHostStatus(specs: SpecSet, plan: Plan, report: ObservationReport, waiting: Set<String>) {
        var hosts: [HostStatus] = []
        var drifted = 0, failed = 0
        for host in specs.hosts.sorted(by: { $0.name < $1.name }) {
            let previous = status.hosts.first { $0.name == host.name }
            let resources = DriverRegistry.resources(HostContext(host: host, specs: specs))
            let back = backoff[host.name]
            let hostError = report.failures[host.name] ?? (waiting.contains(host.name) ? previous?.error : nil)
            let unreachable = hostError != nil
            var entries: [ResourceStatus] = []
            for resource in resources.sorted() {
                let key = "\(host.name)/\(resource)"
                let entry: ResourceStatus
                if unreachable {
                    entry = ResourceStatus(resource: resource, state: waiting.contains(host.name)
                                           ? (previous?.resources.first { $0.resource == resource }?.state ?? .unknown) : .failed,
                                           detail: "host not observed: \(hostError!)")
                } else if let error = plan.errors.first(where: { $0.host == host.name && $0.resource == resource }) {
                    entry = ResourceStatus(resource: resource, state: .failed, detail: error.message)
                } else if let failure = stepFailures[key], plan.steps.contains(where: { $0.host == host.name && $0.resource == resource }) {
                    entry = ResourceStatus(resource: resource, state: .failed, detail: failure)
                } else if plan.steps.contains(where: { $0.host == host.name && $0.resource == resource }) {
                    let actions = plan.steps.filter { $0.host == host.name && $0.resource == resource }.map(\.action.rawValue)
                    entry = ResourceStatus(resource: resource, state: .drifted, detail: "pending: " + actions.joined(separator: ", "))
                } else if let drift = plan.drift.first(where: { $0.host == host.name && $0.resource == resource }) {
                    entry = ResourceStatus(resource: resource, state: .drifted, detail: "\(drift.package): \(drift.detail)")
                } else {
                    entry = ResourceStatus(resource: resource, state: .inSync, detail: nil)
                }
                entries.append(entry)
            }
            for item in plan.unmanaged where item.host == host.name {
                entries.append(ResourceStatus(resource: item.path, state: .unmanaged,
                                              detail: "\(item.kind.rawValue)\(item.spec.map { " (marker names \($0))" } ?? "")"))
            }
            drifted += entries.filter { $0.state == .drifted }.count
            failed += entries.filter { $0.state == .failed }.count
            metrics.hostFailures(host.name).set(Double(back?.consecutiveFailures ?? 0))
            hosts.append(HostStatus(
                name: host.name, state: back != nil || unreachable ? .failed : .ok,
                error: hostError ?? back.map { _ in "a step failed; see the last run" },
                consecutiveFailures: back?.consecutiveFailures ?? 0, retryDelaySeconds: back?.delay,
                nextRetryAt: back?.retryAt, resources: entries))
        }
        status.hosts = hosts
        metrics.driftedResources.set(Double(drifted))
        metrics.failedResources.set(Double(failed))
    }

    // MARK: Suspend

    var isSuspended: Bool { FileManager.default.fileExists(atPath: configuration.suspendFile.path) }

    var suspendReason: String? {
        guard let text = try? String(contentsOf: configuration.suspendFile, encoding: .utf8) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    // MARK: State across restarts

    struct SavedState: Codable {
        var lastAppliedRevision: String?
        var lastAttemptedRevision: String?
        var lastAttemptError: String?
        var rejectedRevision: String?
    }

    private func saveState() {
        let saved = SavedState(lastAppliedRevision: status.lastAppliedRevision, lastAttemptedRevision: status.lastAttemptedRevision,
                               lastAttemptError: status.lastAttemptError, rejectedRevision: rejectedRevision)
        do {
            let data = try JSONEncoder().encode(saved)
            try data.write(to: configuration.stateFile, options: .atomic)
        } catch {
            logger.error("cannot save \(configuration.stateFile.path): \(error)")
        }
    }

    /// Brings back the revisions, and the last applied revision's specs, so a
    /// bad head after a restart does not leave the hosts without specs in force.
    private func restoreState() async {
        guard let data = try? Data(contentsOf: configuration.stateFile),
              let saved = try? JSONDecoder().decode(SavedState.self, from: data) else { return }
        status.lastAppliedRevision = saved.lastAppliedRevision
        status.lastAttemptedRevision = saved.lastAttemptedRevision
        status.lastAttemptError = saved.lastAttemptError
        rejectedRevision = saved.rejectedRevision
        metrics.setAppliedRevision(saved.lastAppliedRevision)
        guard let revision = saved.lastAppliedRevision else { return }
        if let tree = try? await configuration.sourceAtRevision(revision).fetch() {
            let result = SpecLoader().load(directory: tree.root)
            if result.isValid { inForce = (tree, result.specs, result.settings) }
        }
    }
}
