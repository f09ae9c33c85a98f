import ArgumentParser
import Drivers
import Foundation
import Reconciler
import Specs

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what is on the hosts: managed and unmanaged environments, their packages, and drift.",
        discussion: "Changes nothing. `--format json` prints the observations in the form `plan --observations` reads.")

    enum Format: String, ExpressibleByArgument { case text, json }

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var hostOptions: HostOptions

    @Option(help: "text or json.")
    var format: Format = .text

    @Flag(help: "List every package of every environment.")
    var packages = false

    func run() async throws {
        let session = try await Session.open(repository, hostOptions)
        let report = await session.observe()
        await session.close()
        switch format {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let plan = session.reconciliation.plan(report)
            let data = try encoder.encode(RecordedObservations(hosts: report.observations,
                                                               resources: plan.resourceStates(specs: session.specs)))
            say(String(decoding: data, as: UTF8.self))
        case .text:
            say(render(report, plan: session.reconciliation.plan(report), specs: session.specs))
        }
        if !report.failures.isEmpty { throw ExitCode.failure }
    }

    func render(_ report: ObservationReport, plan: Reconciler.Plan, specs: SpecSet) -> String {
        var out: [String] = []
        for host in specs.hosts.sorted(by: { $0.name < $1.name }) {
            guard let o = report.observations[host.name] else {
                out.append("Host \(host.name): \(ResourceState.unreachable.words): \(report.failures[host.name] ?? "not observed")")
                out.append("")
                continue
            }
            out.append("Host \(host.name): \(o.os.prettyName), systemd \(o.systemd ? "yes" : "no")")
            let entries = DriverRegistry.all.flatMap { $0.statusEntries(of: o) }.sorted { $0.path < $1.path }
            for entry in entries {
                let owner = entry.resource ?? "unmanaged (no labsync marker)"
                // The plan's word for it (ResourceState): the same in `plan`, `/api/status` and the page.
                let state = plan.state(atPath: entry.path, on: host.name, resource: entry.resource).state
                let words = state == .unmanaged ? "unmanaged, left alone" + (entry.problem.map { " (\($0))" } ?? "")
                                                : state.words
                out.append("  \(entry.path)  \(owner)  \(entry.summary)  \(words)")
                if packages { out += entry.packages.map { "      " + $0 } }
                for d in plan.drift where d.host == host.name && d.resource == entry.resource {
                    out.append("      drift: \(d.package): \(d.detail)")
                }
            }
            if entries.isEmpty { out.append("  (no environments)") }
            out.append("")
        }
        return out.joined(separator: "\n")
    }
}
