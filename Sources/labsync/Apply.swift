import ArgumentParser
import Drivers
import Foundation
import Journal
import Reconciler

struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Observe, plan, confirm, and change the hosts until they match the specs.",
        discussion: """
            With PLANFILE (from `plan --format json --out PLANFILE`), the hosts are observed again \
            and the apply is refused if the plan would now differ (a stale plan). After applying, \
            the hosts are observed once more and the run reports whether they converged. \
            Exits 1 if any step failed or a host could not be reached.

            With --manifests DIR, the Kubernetes hubs' files are written into DIR (atomically) and \
            files labsync rendered for hubs no longer in the specs are removed; committing and \
            pushing them for Flux stays with you.
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var hostOptions: HostOptions
    @OptionGroup var pruneOptions: PruneOptions
    @OptionGroup var manifestOptions: ManifestOptions
    @OptionGroup var progressOptions: ProgressOptions

    @Argument(help: "A plan saved with `labsync plan --format json --out FILE`.")
    var planFile: String?

    @Flag(help: "Apply without asking for confirmation (required without a terminal).")
    var yes = false

    @Flag(name: [.short, .long], help: "Show every output line of every step.")
    var verbose = false

    @Option(name: .customLong("lock-timeout"), help: "Seconds to wait for another labsync holding a host's lock.")
    var lockTimeout: Int = 600

    @Option(name: .customLong("env-parallelism"), help: "Environments applied at once on one host.")
    var environmentParallelism: Int = 4

    func validate() throws {
        if hostOptions.observationsFile != nil {
            throw ValidationError("apply observes the hosts itself; --observations is for plan")
        }
    }

    func run() async throws {
        let saved = try planFile.map(Self.readPlan)
        if !yes && isatty(STDIN_FILENO) == 0 {
            printError("error: no terminal to confirm on; pass --yes to apply without confirmation")
            throw ExitCode.failure
        }
        let session = try await Session.open(
            repository, hostOptions,
            run: RunOptions(environmentParallelism: environmentParallelism, lockTimeoutSeconds: lockTimeout))
        var reconciliation = session.reconciliation
        reconciliation.options.prune = try pruneOptions.check(session)

        let progress = progressOptions.progress(hosts: session.specs.hosts.count)
        var plan = reconciliation.plan(await session.observe(progress: progress))
        plan.addManifests(try manifestOptions.section(session.specs))
        let record = CLIRunRecord.begin(repository, kind: .apply, revision: session.revision, plan: plan)
        if let saved, !saved.hasSameChanges(as: plan) {
            await session.close()
            record?.finish(.cancelled, "the saved plan is stale")
            printError("""
                error: the saved plan is stale: the hosts or the specs changed since it was made. \
                Nothing was applied; run `labsync plan` again.
                """)
            throw ExitCode.failure
        }
        progress.pause()
        say(plan.rendered(as: .text))
        if plan.isEmpty {
            await session.close()
            record?.finish(plan.errors.isEmpty ? .noChanges : .failed, plan.oneLineSummary)
            if !plan.errors.isEmpty { throw ExitCode.failure }
            return
        }
        if !yes {
            say("Apply these changes? Only 'yes' is accepted: ", newline: false)
            guard readLine() == "yes" else {
                await session.close()
                record?.finish(.cancelled, "not confirmed")
                say("Apply cancelled.")
                throw ExitCode.failure
            }
        }

        if let directory = plan.manifests?.directory, let changes = plan.manifests?.changes, !changes.isEmpty {
            try reportingErrors { try ManifestDirectory(directory).apply(changes) }
            let note = Self.manifestNote(changes, directory)
            say(note)
            if let record { RunRecorder(journal: record.journal, run: record.id).note(note, host: nil) }
            // Level-triggered, as for hosts: read the directory again.
            if let remaining = try manifestOptions.section(session.specs), !remaining.changes.isEmpty {
                printError("error: \(directory) still differs from the specs after writing: \(remaining.changes.map(\.path).joined(separator: ", "))")
                await session.close()
                record?.finish(.failed, "manifests not converged")
                throw ExitCode.failure
            }
            if plan.steps.isEmpty {
                await session.close()
                record?.finish(plan.errors.isEmpty ? .succeeded : .failed, plan.oneLineSummary)
                if !plan.errors.isEmpty { throw ExitCode.failure }
                return
            }
        }

        let printer = ProgressPrinter(verbose: verbose, progress: progress)
        progress.applying(plan)
        let recorder = record.map { RunRecorder(journal: $0.journal, run: $0.id) }
        // A saved plan that turns stale while waiting for a host lock is refused, not re-planned.
        let outcome = await ApplyPipeline(reconciliation: reconciliation, replanWhenStale: saved == nil)
            .run(plan, owner: lockOwner(), recorder: recorder, events: printer.handle)
        progress.finish()
        await session.close()
        for result in outcome.results {
            if let error = result.error { printError("error: \(result.host): \(error)") }
            for outcome in result.outcomes where outcome.status != .succeeded {
                let what = "\(outcome.step.host): \(outcome.step.action.rawValue) \(outcome.step.resource)"
                if outcome.status == .skipped {
                    let why = outcome.skippedBecause.map { "it needs \($0), which failed" }
                        ?? "an earlier step of the same resource or host failed"
                    printError("skipped: \(what) (\(why))")
                } else {
                    printError("failed: \(what) (exit \(outcome.exitCode.map(String.init) ?? "?"))")
                    if !verbose { for line in outcome.output.suffix(30) { printError("    \(line)") } }
                }
            }
        }
        say(outcome.closingLine)
        if let record {
            if let error = recorder?.writeError { printError("warning: run \(record.id) is recorded incompletely: \(error)") }
            say("Recorded as run \(record.id): `labsync logs \(record.id)` shows its output.")
        }
        if outcome.failed { throw ExitCode.failure }
    }

    /// "Manifests: 1 written, 0 removed in DIR; commit and push them for Flux."
    static func manifestNote(_ changes: [ManifestChange], _ directory: String) -> String {
        let removed = changes.filter { $0.action == .delete }.count
        return "Manifests: \(changes.count - removed) written, \(removed) removed in \(directory); commit and push them for Flux."
    }

    static func readPlan(_ path: String) throws -> Reconciler.Plan {
        do {
            return try JSONDecoder().decode(Reconciler.Plan.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            printError("error: \(path) is not a JSON plan (save one with `labsync plan --format json --out FILE`): \(error)")
            throw ExitCode.failure
        }
    }
}

/// Prints apply progress as it happens, one line per event.
final class ProgressPrinter: @unchecked Sendable {
    private let lock = NSLock()
    let verbose: Bool
    let progress: ProgressLine?
    init(verbose: Bool, progress: ProgressLine? = nil) {
        self.verbose = verbose
        self.progress = progress
    }

    func handle(_ event: ApplyEvent) {
        progress?.handle(event)
        let line: String?
        switch event {
        case .waitingForLock(let host, let holder):
            line = "\(host): waiting for the host lock, held by \(holder.isEmpty ? "another labsync" : holder)"
        case .locked: line = nil
        case .stepStarted(let host, let step):
            line = "\(host): \(step.action.symbol) \(step.action.rawValue) \(step.resource)\(step.packages.isEmpty ? "" : " (\(step.packages.joined(separator: ", ")))")…"
        case .output(let host, _, let text):
            line = verbose ? "\(host): │ \(text)" : nil
        case .stepFinished(let outcome):
            let seconds = outcome.duration.map { String(format: " in %.1f s", Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18) } ?? ""
            line = "\(outcome.step.host): \(outcome.step.action.rawValue) \(outcome.step.resource): \(outcome.status == .succeeded ? "done" : "FAILED")\(seconds)"
        case .hostFailed(let host, let message):
            line = "\(host): FAILED: \(message)"
        }
        guard let line else { return }
        if let progress { progress.say(line); return }
        lock.lock()
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
        lock.unlock()
    }
}
