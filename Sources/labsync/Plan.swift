import ArgumentParser
import Foundation
import Reconciler

extension PlanFormat: ExpressibleByArgument {}

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Observe the hosts and show what apply would change. Never changes a host.",
        discussion: """
            With --manifests DIR, Kubernetes hubs are compared with the files labsync rendered \
            into DIR (the path Flux watches): files to create, update (with a values diff) or delete. \
            Without it they are listed as not planned.


            Exit codes: 0 success (with --detailed-exitcode: no changes), 1 error, \
            2 changes pending (with --detailed-exitcode).
            """)

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var hostOptions: HostOptions
    @OptionGroup var pruneOptions: PruneOptions
    @OptionGroup var manifestOptions: ManifestOptions
    @OptionGroup var progressOptions: ProgressOptions

    @Option(help: "text, markdown (for a pull-request comment) or json (what `apply PLANFILE` reads).")
    var format: PlanFormat = .text

    @Option(help: "Write the plan to this file instead of standard output.")
    var out: String?

    @Flag(name: .customLong("detailed-exitcode"), help: "Exit 2 when there are changes, 0 when there are none.")
    var detailedExitcode = false

    @Flag(name: .customLong("check-index"), help: "Before planning, check every requirement against its package index for the Python each host has (see `validate --check-index`).")
    var checkIndex = false

    func run() async throws {
        let session = try await Session.open(repository, hostOptions)
        var reconciliation = session.reconciliation
        reconciliation.options.prune = try pruneOptions.check(session)
        let progress = progressOptions.progress(hosts: session.specs.hosts.count)
        let report = await session.observe(progress: progress)
        progress.finish()
        await session.close()
        if checkIndex, !(await PackageCheck.plan(session.specs, report, stateDirectory: repository.resolvedStateDirectory)) {
            throw ExitCode.failure
        }
        var plan = reconciliation.plan(report)
        plan.addManifests(try manifestOptions.section(session.specs))
        CLIRunRecord.begin(repository, kind: .plan, revision: session.revision, plan: plan)?
            .finish(plan.errors.isEmpty ? .succeeded : .failed, plan.oneLineSummary)
        let text = plan.rendered(as: format)
        if let out {
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: out)) } catch {
                printError("error: cannot write \(out): \(error)")
                throw ExitCode.failure
            }
        } else {
            say(text, newline: !text.hasSuffix("\n"))
        }
        if !plan.errors.isEmpty { throw ExitCode.failure }
        if detailedExitcode && !plan.isEmpty { throw ExitCode(2) }
    }
}
