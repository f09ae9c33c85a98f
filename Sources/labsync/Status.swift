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
            let data = try encoder.encode(RecordedObservations(hosts: report.observations))
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
                out.append("Host \(host.name): UNREACHABLE: \(report.failures[host.name] ?? "not observed")")
                out.append("")
                continue
            }
            out.append("Host \(host.name): \(o.os.prettyName), python3 \(o.python3 ?? "none"), systemd \(o.systemd ? "yes" : "no")")
            for env in o.environments.sorted(by: { $0.path < $1.path }) {
                let owner: String
                let state: String
                if let marker = env.marker {
                    let resource = "PythonEnvironment/\(marker.spec)"
                    owner = resource
                    let pending = plan.steps.contains { $0.host == host.name && $0.resource == resource }
                    let drifted = plan.drift.contains { $0.host == host.name && $0.resource == resource }
                    state = pending ? "changes pending" : drifted ? "drifted" : "in sync"
                } else {
                    owner = "unmanaged (no labsync marker)"
                    state = "left alone"
                }
                out.append("  \(env.path)  \(owner)  python \(env.python)  \(env.distributions.count) packages  \(state)")
                if packages {
                    for d in env.distributions.sorted(by: { $0.name < $1.name }) { out.append("      \(d.name)==\(d.version)") }
                }
                for d in plan.drift where d.host == host.name && env.marker.map({ "PythonEnvironment/\($0.spec)" }) == d.resource {
                    out.append("      drift: \(d.package): \(d.detail)")
                }
            }
            if o.environments.isEmpty { out.append("  (no environments)") }
            out.append("")
        }
        return out.joined(separator: "\n")
    }
}

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print an environment's installed distributions as a pinned requirements.txt.",
        discussion: "Like `pip freeze`: pip, setuptools, wheel and distribute are left out. Changes nothing.")

    @Argument(help: "The PythonEnvironment's name.")
    var environment: String

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var hostOptions: HostOptions

    static let omitted: Set<String> = ["pip", "setuptools", "wheel", "distribute"]

    func run() async throws {
        let session = try await Session.open(repository, hostOptions)
        guard let env = session.specs.environments.first(where: { $0.name == environment }) else {
            await session.close()
            printError("error: no PythonEnvironment named '\(environment)'")
            throw ExitCode.failure
        }
        let hosts = session.specs.hosts(for: env)
        guard hosts.count == 1, let host = hosts.first else {
            await session.close()
            printError("error: '\(environment)' is on \(hosts.count) hosts (\(hosts.map(\.name).joined(separator: ", "))); choose one with --host")
            throw ExitCode.failure
        }
        let report = await session.observe()
        await session.close()
        guard let observed = report.observations[host.name] else {
            printError("error: \(host.name): \(report.failures[host.name] ?? "not observed")")
            throw ExitCode.failure
        }
        guard let found = observed.environment(at: env.path) else {
            printError("error: \(host.name) has no environment at \(env.path); run `labsync apply` first")
            throw ExitCode.failure
        }
        var lines = ["# PythonEnvironment/\(env.name) on \(host.name) (python \(found.python)), exported by labsync"]
        lines += found.distributions
            .filter { !Self.omitted.contains($0.name) }
            .sorted { $0.name < $1.name }
            .map { "\($0.name)==\($0.version)" }
        say(lines.joined(separator: "\n"))
    }
}
