import Drivers
import Foundation
import Remote
import Specs

/// One transport per host for the length of a run (one SSH session each,
/// connected on first use). Tests may hand in another `Transport`.
public final class HostConnections: Sendable {
    public let transports: [String: any Transport]

    public init(transports: [String: any Transport]) {
        self.transports = transports
    }

    public init(hosts: [HostSpec], make: (HostSpec) -> any Transport) {
        var t: [String: any Transport] = [:]
        for host in hosts { t[host.name] = make(host) }
        transports = t
    }

    public static func ssh(hosts: [HostSpec], options: InventoryOptions) -> HostConnections {
        HostConnections(hosts: hosts) { SSHTransport(endpoint: Inventory.endpoint(for: $0, options: options)) }
    }

    public func closeAll() async {
        for transport in transports.values { await transport.close() }
    }
}

public struct RunOptions: Sendable {
    /// Hosts observed / applied at once.
    public var parallelism: Int
    /// Environments applied at once on one host.
    public var environmentParallelism: Int
    public var lockTimeoutSeconds: Int
    public var prune: Bool
    public init(parallelism: Int = 8, environmentParallelism: Int = 4, lockTimeoutSeconds: Int = 600, prune: Bool = false) {
        self.parallelism = parallelism
        self.environmentParallelism = environmentParallelism
        self.lockTimeoutSeconds = lockTimeoutSeconds
        self.prune = prune
    }
}

/// What observing the hosts found: observations, and why the others failed.
public struct ObservationReport: Sendable {
    public var observations: [String: HostObservation]
    public var failures: [String: String]
    public init(observations: [String: HostObservation] = [:], failures: [String: String] = [:]) {
        self.observations = observations
        self.failures = failures
    }
}

/// observe → plan → apply for a set of hosts. The planning itself is the pure
/// `makePlan`; this type does the IO around it.
public struct Reconciliation: Sendable {
    public var specs: SpecSet
    public var revision: String?
    public var connections: HostConnections
    public var options: RunOptions

    /// `specs` restricted to `hosts` (all when empty): environments and hubs
    /// of other hosts are simply not planned.
    public init(specs: SpecSet, revision: String?, connections: HostConnections, options: RunOptions) {
        self.specs = specs
        self.revision = revision
        self.connections = connections
        self.options = options
    }

    /// One observe command per host (one SSH round trip), hosts in parallel.
    /// `onHost` hears each host as soon as it is observed (its failure, or nil).
    public func observe(onHost: (@Sendable (_ host: String, _ failure: String?) -> Void)? = nil) async -> ObservationReport {
        let requests = observationRequests(specs: specs)
        let hosts = specs.hosts.filter { connections.transports[$0.name] != nil }
        let results = await concurrentMap(hosts, limit: options.parallelism) { host -> (String, Result<HostObservation, ObserveFailure>) in
            guard let transport = connections.transports[host.name] else {
                return (host.name, .failure(ObserveFailure(message: "no connection")))
            }
            let request = requests[host.name] ?? ObservationRequest()
            let result = await Self.observe(transport: transport, request: request, become: Inventory.become(for: host))
            if case .failure(let failure) = result { onHost?(host.name, failure.message) } else { onHost?(host.name, nil) }
            return (host.name, result)
        }
        var report = ObservationReport(observations: [:], failures: [:])
        for (name, result) in results {
            switch result {
            case .success(let o): report.observations[name] = o
            case .failure(let f): report.failures[name] = f.message
            }
        }
        return report
    }

    struct ObserveFailure: Error { var message: String }

    static func observe(transport: any Transport, request: ObservationRequest, become: Become) async
        -> Result<HostObservation, ObserveFailure> {
        do {
            let result = try await transport.run(observeCommand(request, become: become), timeout: .seconds(120))
            guard result.succeeded else {
                let detail = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
                return .failure(ObserveFailure(message: "observing failed (\(result.statusDescription)): \(detail)"))
            }
            return .success(try decodeObservation(result.stdout))
        } catch {
            return .failure(ObserveFailure(message: "\(error)"))
        }
    }

    /// The pure plan, plus an error per host that could not be observed.
    public func plan(_ report: ObservationReport) -> Plan {
        var plan = makePlan(specs: specs, observations: report.observations, revision: revision, prune: options.prune,
                            secrets: HostScript.localSecretChecker())
        plan.generations = report.observations.compactMapValues(\.generation)
        if !report.failures.isEmpty {
            let hostErrors = report.failures.map { PlanError(host: $0.key, resource: "Host/\($0.key)", message: $0.value) }
            plan = Plan(revision: plan.revision, work: plan.work, drift: plan.drift, unmanaged: plan.unmanaged,
                        errors: plan.errors + hostErrors)
            plan.summary.unobservedHosts = report.failures.keys.sorted()
        }
        return plan
    }

    /// Applies `plan.work`, hosts in parallel; one remote script per host.
    public func apply(_ plan: Plan, owner: String, events: @escaping @Sendable (ApplyEvent) -> Void) async -> [HostApplyResult] {
        let byHost = Dictionary(grouping: plan.work, by: \.host)
        let hosts = byHost.keys.sorted()
        let generations = plan.generations
        return await concurrentMap(hosts, limit: options.parallelism) { name -> HostApplyResult in
            guard let transport = connections.transports[name], let host = specs.host(named: name) else {
                return HostApplyResult(host: name, outcomes: [], error: "no connection to \(name)")
            }
            var applier = HostApplier(
                host: name, transport: transport, become: Inventory.become(for: host),
                lockTimeoutSeconds: options.lockTimeoutSeconds, parallelism: options.environmentParallelism,
                owner: owner)
            applier.expectedGeneration = generations[name]
            return await applier.apply(byHost[name] ?? [], events: events)
        }
    }
}
