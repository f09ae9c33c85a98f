// The planner: a pure function (specs, observations) → Plan. No network, no clock,
// which is what makes golden tests possible and lets CI plan from recorded
// observations. Each host is planned by the drivers independently.

import Drivers
import Specs

/// Plans every host of `specs` that has an observation.
///
/// - `observations`: by host name. A host that some environment targets but that
///   has no observation gets a plan error (nothing is planned for it).
/// - `prune`: remove venvs that carry a labsync marker but that no spec wants on
///   that host any more. Venvs without a marker are never removed.
public func makePlan(specs: SpecSet, observations: [String: HostObservation], revision: String?,
                     prune: Bool) -> Plan {
    var work: [PlannedStep] = []
    var drift: [DriftItem] = []
    var unmanaged: [UnmanagedItem] = []
    var errors: [PlanError] = []
    let driver = PipDriver()
    let byHost = environmentsByHost(specs)

    for host in specs.hosts.sorted(by: { $0.name < $1.name }) {
        let environments = byHost[host.name] ?? []
        guard let observed = observations[host.name] else {
            for env in environments {
                errors.append(PlanError(host: host.name, resource: "PythonEnvironment/\(env.name)",
                                        message: "host '\(host.name)' was not observed; nothing planned for it"))
            }
            continue
        }
        let result = driver.diff(desired: .init(host: host, environments: environments, prune: prune),
                                 observed: observed)
        work += result.steps
        drift += result.drift
        unmanaged += result.unmanaged
        errors += result.errors
    }
    return Plan(revision: revision, work: work, drift: drift, unmanaged: unmanaged, errors: errors)
}

/// Environments per host name, after hostSelector fan-out.
public func environmentsByHost(_ specs: SpecSet) -> [String: [PythonEnvironmentSpec]] {
    var byHost: [String: [PythonEnvironmentSpec]] = [:]
    for env in specs.environments {
        for host in specs.hosts(for: env) { byHost[host.name, default: []].append(env) }
    }
    return byHost
}

/// What to observe on each host of `specs` (roots to scan, pythons that may need APT).
public func observationRequests(specs: SpecSet) -> [String: ObservationRequest] {
    let byHost = environmentsByHost(specs)
    var requests: [String: ObservationRequest] = [:]
    for host in specs.hosts {
        requests[host.name] = PipDriver.observationRequest(for: byHost[host.name] ?? [])
    }
    return requests
}
