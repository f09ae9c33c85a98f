import Drivers
import Foundation
import Journal
import Logging
import Reconciler
import ServiceLifecycle
import Specs
import SpecSource

/// A valid revision's specs, as the daemon keeps them in force.
struct LoadedRevision: Sendable {
    var tree: SourceTree
    var specs: SpecSet
    var settings: RepositorySettings
}

/// The daemon's IO shell: fetch → validate → observe → plan → apply, one
/// reconcile at a time (never two runs at once), woken by the interval timer,
/// a webhook, or a host's retry time. Every decision — which revision, which
/// hosts, apply or only observe, when to run again — is `DaemonCore`'s; this
/// actor feeds it the facts (fetched revisions, verdicts, results, the time)
/// and carries out what it decides.
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
    private(set) var core: DaemonCore<LoadedRevision>
    private var ready = false
    /// Commit subjects by revision, for the status page; only the applied and the
    /// attempted revision's are kept.
    private var subjects: [String: String] = [:]

    /// Rung when a run becomes pending; the loop asks the core what to run.
    private let doorbell: AsyncStream<Void>
    private let ring: AsyncStream<Void>.Continuation

    public init(configuration: DaemonConfiguration, journal: Journal, metrics: DaemonMetrics, logger: Logger) {
        self.configuration = configuration
        self.journal = journal
        self.metrics = metrics
        self.logger = logger
        status = DaemonStatus(repo: configuration.repo, ref: configuration.ref,
                              intervalSeconds: configuration.interval.seconds)
        core = DaemonCore(settings: .init(
            interval: configuration.interval.seconds, jitter: configuration.jitter,
            retryBase: configuration.retryBase.seconds, retryMax: configuration.retryMax.seconds))
        (doorbell, ring) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a reconcile as soon as the current one (if any) ends. Triggers
    /// that come while one is pending coalesce into it: the run fetches the
    /// newest revision anyway.
    public nonisolated func trigger(_ trigger: Trigger) {
        Task { await self.request(trigger) }
    }

    private func request(_ trigger: Trigger) {
        if core.request(trigger) { ring.yield() }
    }

    public func currentStatus() -> DaemonStatus {
        var s = status
        s.suspended = isSuspended
        s.suspendReason = suspendReason
        s.lastAppliedRevision = core.appliedRevision
        s.lastAttemptedRevision = core.attemptedRevision
        s.lastAttemptError = core.attemptError
        s.lastAppliedSubject = core.appliedRevision.flatMap { subjects[$0] }
        s.lastAttemptedSubject = core.attemptedRevision.flatMap { subjects[$0] }
        s.fetchError = core.fetchError
        s.nextReconcileAt = core.nextIntervalAt
        return s
    }

    public var isReady: Bool { ready }

    /// The core's per-host bookkeeping, as the status listing reads it.
    private var backoff: [String: HostBackoff] { core.backoff }
    private var stepFailures: [String: String] { core.stepFailures }

    // MARK: The loop

    public func run() async throws {
        try? journal.reapAbandonedRuns()
        await restoreState()
        let timer = Task { await self.timerLoop() }
        defer { timer.cancel() }
        let shutdownTimeout = configuration.shutdownTimeout
        await withGracefulShutdownHandler {
            request(.start)
            for await _ in doorbell {
                while let trigger = core.startRun(suspended: isSuspended) {
                    await reconcile(trigger)
                }
                if core.stopping { break }
            }
        } onGracefulShutdown: {
            // Stop taking work; the running reconcile (if any) finishes, within bounds.
            Task { await self.beginStopping(timeout: shutdownTimeout) }
        }
        logger.info("stopped")
    }

    private func beginStopping(timeout: Duration) async {
        core.stop()
        ring.finish()
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

    /// Feeds the clock to the core every second at most (sooner when the next
    /// interval is closer): it answers with an interval or a retry trigger.
    private func timerLoop() async {
        while !Task.isCancelled {
            let now = Date()
            if let trigger = core.tick(now: now, jitter: Double.random(in: -1...1)) { request(trigger) }
            let pause = min(1, max(0.01, (core.nextIntervalAt ?? now).timeIntervalSince(now)))
            try? await Task.sleep(for: .milliseconds(Int64(pause * 1000)))
        }
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
        let suspended = core.suspended
        metrics.suspended.set(suspended ? 1.0 : 0.0)

        // 1. Fetch, and validate a revision not seen before. A failure leaves the
        //    last good specs in force.
        var choice: DaemonCore<LoadedRevision>.Choice
        do {
            let tree = try await configuration.source.fetch()
            if let revision = tree.revision, let subject = tree.subject {
                let keep = Set([revision, core.appliedRevision, core.attemptedRevision].compactMap { $0 })
                subjects = subjects.filter { keep.contains($0.key) }
                subjects[revision] = subject
            }
            choice = core.fetched(revision: tree.revision)
            if case .validate(let revision) = choice {
                let result = SpecLoader().load(directory: tree.root)
                if let problem = validationProblem(result) {
                    choice = core.validated(revision, .invalid(problem: problem))
                    recordRejection(revision: revision, trigger: trigger, problem: problem)
                } else {
                    choice = core.validated(revision, .valid(LoadedRevision(tree: tree, specs: result.specs, settings: result.settings)))
                    metrics.setAttemptedRevision(revision, valid: true)
                }
            }
        } catch {
            choice = core.fetchFailed("\(error)")
            logger.error("fetching \(configuration.repo) failed: \(error)")
        }
        guard case .reconcile(let target, let isNew) = choice else {
            _ = core.endRun(failedHosts: [], clean: false, now: Date())
            return  // nothing valid yet: nothing to reconcile against
        }
        let (specs, settings, revision) = (target.payload.specs, target.payload.settings, target.id)

        // 2. Observe and plan, leaving out hosts that wait out a backoff.
        let (eligible, waiting) = core.hostsToReconcile(specs.hosts.map(\.name), now: Date())
        var options = configuration.run
        options.prune = options.prune || settings.prune
        let subset = eligible.isEmpty ? SpecSet() : specs.restricted(toHosts: eligible)
        let connections = HostConnections.ssh(hosts: subset.hosts, options: configuration.inventory)
        defer { Task { await connections.closeAll() } }
        let reconciliation = Reconciliation(specs: subset, revision: revision, connections: connections, options: options)
        let report = eligible.isEmpty ? ObservationReport() : await reconciliation.observe()
        var plan = reconciliation.plan(report)
        plan.addManifests(manifestSection(specs))
        var failedHosts = Set(report.failures.keys)

        // 3. Apply, unless suspended or there is nothing to do.
        let decision = core.afterPlan(hasChanges: !plan.isEmpty)
        switch decision {
        case .apply:
            if let outcome = await apply(plan, reconciliation: reconciliation, trigger: trigger, revision: revision) {
                failedHosts.formUnion(outcome.failedHosts)
                plan = outcome.remaining
                // Level-triggered for the directory too: read it again.
                plan.addManifests(manifestSection(specs))
            }
        case .recordQuietRun:
            recordQuietRun(plan: plan, trigger: trigger, revision: revision, failedHosts: failedHosts, report: report)
        case .observeOnly:
            break
        }

        // 4. Bookkeeping: the core promotes the revision and moves the backoffs.
        let end = core.endRun(failedHosts: failedHosts, clean: plan.isEmpty && plan.errors.isEmpty, now: Date())
        if let promoted = end.promoted {
            metrics.setAppliedRevision(promoted)
            saveState()
        }
        updateHostStatus(specs: specs, plan: plan, report: report, waiting: waiting)
        if end.healthy {
            status.lastSuccessfulReconcileAt = Date()
            metrics.lastSuccessfulReconcile.set(Date().timeIntervalSince1970)
        }
        if decision != .apply { logger.debug("reconciled (\(trigger.rawValue)\(isNew ? ", new revision" : "")): \(plan.oneLineSummary)") }
    }

    /// Applies `plan` as one journal run through the shared `ApplyPipeline`
    /// (which observes again: the hosts, not the step results, say whether they
    /// converged); nil when the run cannot be recorded.
    private func apply(_ plan: Plan, reconciliation: Reconciliation, trigger: Trigger, revision: String?) async -> ApplyOutcome? {
        let runID: Int64
        do {
            runID = try journal.begin(kind: .daemonApply, trigger: trigger.rawValue, revision: revision, plan: plan)
        } catch {
            logger.error("cannot record the run, not applying: \(error)")
            return nil
        }
        status.runningRun = runID
        defer { status.runningRun = nil }
        logger.info("run \(runID) (\(trigger.rawValue)) at \(revision ?? "-"): \(plan.oneLineSummary)")
        let recorder = RunRecorder(journal: journal, run: runID)
        if let directory = configuration.manifestsDirectory, let changes = plan.manifests?.changes, !changes.isEmpty {
            // The files first: local and quick. A directory that cannot be written
            // is logged and recorded; the next pass tries again.
            do {
                try ManifestDirectory(directory).apply(changes)
                recorder.note("manifests: \(changes.count) file(s) written or removed in \(directory)", host: nil)
            } catch {
                logger.error("cannot update the manifests directory: \(error)")
                recorder.note("manifests: \(error)", host: nil)
            }
        }
        let metrics = self.metrics
        let outcome = await ApplyPipeline(reconciliation: reconciliation).run(
            plan, owner: "labsync daemon pid \(getpid()) on \(ProcessInfo.processInfo.hostName)",
            recorder: recorder
        ) { event in
            if case .stepFinished(let outcome) = event {
                metrics.steps(action: outcome.step.action.rawValue, result: outcome.status.rawValue).increment()
                if let duration = outcome.duration { metrics.stepDuration(action: outcome.step.action.rawValue).record(duration) }
            }
        }
        core.recordResults(outcome.results)
        for result in outcome.results {
            for skipped in result.outcomes where skipped.status == .skipped {
                metrics.steps(action: skipped.step.action.rawValue, result: "skipped").increment()
            }
        }
        metrics.runs(outcome.journalResult.rawValue).increment()
        logger.info("run \(runID): \(outcome.journalResult.rawValue): \(outcome.summary)")
        return outcome
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

    /// The Kubernetes hubs' part of the plan: against `--manifests DIR`, else
    /// named as not planned. An unreadable directory is logged, and planned as
    /// not given (nothing is written from a directory that was not read).
    private func manifestSection(_ specs: SpecSet) -> ManifestSection? {
        if let directory = configuration.manifestsDirectory {
            do { return try ManifestDirectory(directory).section(specs) } catch {
                logger.error("cannot read the manifests directory: \(error)")
            }
        }
        return ManifestSection.plan(DriverRegistry.renderManifests(specs), changes: nil, directory: nil)
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

    /// The core has rejected `revision`: say so in the log, the metrics and the journal.
    private func recordRejection(revision: String, trigger: Trigger, problem: String) {
        metrics.setAttemptedRevision(revision, valid: false)
        metrics.runs("invalid").increment()
        logger.error("revision \(revision) is invalid and is not applied: \(problem)")
        if let id = try? journal.begin(kind: .daemonApply, trigger: trigger.rawValue, revision: revision) {
            try? journal.addLine(run: id, stream: .labsync, "revision \(revision) is invalid; nothing was observed or changed")
            for line in problem.split(separator: "\n") { try? journal.addLine(run: id, stream: .labsync, String(line)) }
            try? journal.finish(run: id, result: .invalid, summary: "invalid specs; \(core.appliedRevision.map { "revision \($0) stays in force" } ?? "nothing applied yet")")
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
            // The plan's words for every resource (ResourceState), then what the
            // daemon knows beyond one plan: a host still waiting for its retry keeps
            // its last states, and a step that failed marks its resource failed.
            let installed = installedVersions(report.observations[host.name])
            var entries: [ResourceStatus] = []
            for derived in plan.resourceStates(declared: [host.name: resources]) {
                let resource = derived.resource
                var entry = ResourceStatus(resource: resource, state: derived.state, detail: derived.detail)
                if unreachable {
                    entry.state = waiting.contains(host.name)
                        ? (previous?.resources.first { $0.resource == resource }?.state ?? .unreachable) : .unreachable
                    entry.detail = "host not observed: \(hostError!)"
                } else if plan.steps.contains(where: { $0.host == host.name && $0.resource == resource }),
                          let failure = stepFailures["\(host.name)/\(resource)"] {
                    entry.state = .failed
                    entry.detail = failure
                }
                let packages = plan.packageDifferences(host: host.name, resource: resource, installed: installed[resource] ?? [:])
                entry.packages = packages.isEmpty ? nil : packages
                entries.append(entry)
            }
            drifted += entries.filter { $0.state == .drifted || $0.state == .changesPending }.count
            failed += entries.filter { $0.state == .failed || $0.state == .unreachable }.count
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

    /// The versions installed in each marked resource on an observed host, by
    /// resource (`PythonEnvironment/ml` → name → version), from the drivers' status entries.
    private func installedVersions(_ observation: HostObservation?) -> [String: [String: String]] {
        guard let observation else { return [:] }
        var out: [String: [String: String]] = [:]
        for entry in DriverRegistry.all.flatMap({ $0.statusEntries(of: observation) }) {
            guard let resource = entry.resource else { continue }
            for line in entry.packages {
                guard let split = line.range(of: "==") else { continue }
                out[resource, default: [:]][String(line[..<split.lowerBound])] = String(line[split.upperBound...])
            }
        }
        return out
    }

    // MARK: Suspend

    var isSuspended: Bool { FileManager.default.fileExists(atPath: configuration.suspendFile.path) }

    var suspendReason: String? {
        guard let text = try? String(contentsOf: configuration.suspendFile, encoding: .utf8) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    // MARK: State across restarts

    private func saveState() {
        do {
            let data = try JSONEncoder().encode(core.saved)
            try data.write(to: configuration.stateFile, options: .atomic)
        } catch {
            logger.error("cannot save \(configuration.stateFile.path): \(error)")
        }
    }

    /// Brings back the revisions, and the last applied revision's specs, so a
    /// bad head after a restart does not leave the hosts without specs in force.
    private func restoreState() async {
        guard let data = try? Data(contentsOf: configuration.stateFile),
              let saved = try? JSONDecoder().decode(DaemonCore<LoadedRevision>.SavedState.self, from: data) else { return }
        core = DaemonCore(settings: core.settings, restoring: saved)
        metrics.setAppliedRevision(saved.lastAppliedRevision)
        guard let revision = saved.lastAppliedRevision else { return }
        if let tree = try? await configuration.sourceAtRevision(revision).fetch() {
            subjects[revision] = tree.subject
            let result = SpecLoader().load(directory: tree.root)
            if result.isValid {
                core.restoreInForce(.init(id: revision, payload: LoadedRevision(tree: tree, specs: result.specs, settings: result.settings)))
            }
        }
    }
}
