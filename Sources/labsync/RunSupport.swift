import ArgumentParser
import Drivers
import Foundation
import Reconciler
import Remote
import Specs

/// Options of the commands that reach hosts (plan, apply, status, export).
struct HostOptions: ParsableArguments {
    @Option(name: .customLong("host"), help: "Only this host (repeatable; default: every host).")
    var hosts: [String] = []

    @Option(help: "Hosts observed or changed at once.")
    var parallelism: Int = 8

    @Option(name: .customLong("connect-timeout"), help: "Seconds to connect and authenticate to a host.")
    var connectTimeout: Int = 10

    @Option(name: .customLong("observations"),
            help: "Plan from recorded observations (JSON from `labsync status --format json`) instead of connecting.")
    var observationsFile: String?
}

/// The recorded form of observations: `{"hosts": {"<name>": HostObservation}}`.
struct RecordedObservations: Codable {
    var hosts: [String: HostObservation]
    /// Each resource's state in the plan's words (written by `status --format
    /// json` for people and scripts; `plan --observations` ignores it).
    var resources: [ResourceStateEntry]? = nil
}

/// Specs loaded, validated and restricted to the selected hosts, with a
/// connection per host: what every host-touching command starts from.
struct Session {
    var specs: SpecSet
    var settings: RepositorySettings
    var revision: String?
    var reconciliation: Reconciliation
    var recorded: RecordedObservations?

    static func open(_ repository: RepositoryOptions, _ hostOptions: HostOptions, run: RunOptions = RunOptions())
        async throws -> Session {
        let (tree, result) = try await repository.load()
        guard result.isValid else {
            for d in result.diagnostics { printError(d.description) }
            printError("the specs are invalid; nothing was observed or changed")
            throw ExitCode.failure
        }
        for name in hostOptions.hosts where result.specs.host(named: name) == nil {
            printError("error: no Host named '\(name)'")
            throw ExitCode.failure
        }
        let specs = result.specs.restricted(toHosts: hostOptions.hosts)
        var recorded: RecordedObservations?
        if let file = hostOptions.observationsFile {
            do {
                recorded = try JSONDecoder().decode(RecordedObservations.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
            } catch {
                printError("error: cannot read observations from \(file): \(error)")
                throw ExitCode.failure
            }
        }
        let inventory = InventoryOptions(
            acceptNewHostKeys: repository.acceptNewHostKeys,
            recordedKeysFile: repository.resolvedStateDirectory.appendingPathComponent("known_hosts").path,
            connectTimeout: .seconds(hostOptions.connectTimeout))
        var options = run
        options.parallelism = hostOptions.parallelism
        let connections = recorded == nil ? HostConnections.ssh(hosts: specs.hosts, options: inventory)
                                          : HostConnections(transports: [:])
        return Session(
            specs: specs, settings: result.settings, revision: tree.revision,
            reconciliation: Reconciliation(specs: specs, revision: tree.revision, connections: connections, options: options),
            recorded: recorded)
    }

    func observe(progress: ProgressLine? = nil) async -> ObservationReport {
        if let recorded {
            var report = ObservationReport(observations: [:], failures: [:])
            for host in specs.hosts {
                if let o = recorded.hosts[host.name] { report.observations[host.name] = o } else {
                    report.failures[host.name] = "no recorded observation for this host"
                }
                progress?.observed(host.name, failure: report.failures[host.name])
            }
            return report
        }
        guard let progress else { return await reconciliation.observe() }
        return await reconciliation.observe { host, failure in progress.observed(host, failure: failure) }
    }

    func close() async { await reconciliation.connections.closeAll() }
}

/// Prune and the empty-repository guard, shared by plan and apply.
struct PruneOptions: ParsableArguments {
    @Flag(help: "Remove environments that carry a labsync marker but whose spec is gone (also `prune: true` in labsync.yaml).")
    var prune = false

    @Flag(name: .customLong("allow-empty"), help: "Accept a repository with no specs at all (with --prune it removes every managed environment).")
    var allowEmpty = false

    func check(_ session: Session) throws -> Bool {
        let prune = prune || session.settings.prune
        if !session.specs.declaresResources && !allowEmpty {
            printError("error: the repository declares no environments and no hubs; refusing (pass --allow-empty if that is intended)")
            throw ExitCode.failure
        }
        if prune && session.settings.name == nil {
            printError("""
                error: --prune needs the repository's `name:` in labsync.yaml (e.g. `name: lab-a`): markers record it, \
                and prune removes only environments whose marker names this repository
                """)
            throw ExitCode.failure
        }
        return prune
    }
}

/// "labsync pid 123 on laptop by alice since 2026-…": who holds a host lock.
func lockOwner() -> String {
    let user = ProcessInfo.processInfo.environment["USER"] ?? "uid \(getuid())"
    return "labsync pid \(getpid()) on \(ProcessInfo.processInfo.hostName) by \(user) since \(Date().formatted(.iso8601))"
}
