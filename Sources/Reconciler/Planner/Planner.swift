// The planner: a pure function (specs, observations) → Plan. No network, no clock,
// which is what makes golden tests possible and lets CI plan from recorded
// observations. Each host is planned by every driver independently; the only
// thing that passes between drivers is the kernel hook (Drivers/Core/KernelHook.swift).

import Drivers
import Specs

/// Plans every host of `specs`.
///
/// - `observations`: by host name. A host that has no observation gets a plan
///   error for each of its resources (nothing is planned for it).
/// - `prune`: remove what carries a labsync marker but no spec wants on that
///   host any more. Nothing without a marker is ever removed.
/// - `drivers`: the registry's, unless a test brings its own.
/// - `secrets`: compares secret references with the fingerprints hosts report;
///   the planner stays a function of its inputs (tests pass fixed values).
public func makePlan(specs: SpecSet, observations: [String: HostObservation], revision: String?,
                     prune: Bool, drivers: [any Driver] = DriverRegistry.all,
                     secrets: SecretChecker = .unavailable) -> Plan {
    var result = DriverResult()
    for host in specs.hosts.sorted(by: { $0.name < $1.name }) {
        guard let observed = observations[host.name] else {
            let context = HostContext(host: host, specs: specs, prune: prune)
            for driver in drivers {
                result.append(driver.unobserved(context, because: "host '\(host.name)' was not observed; nothing planned for it"))
            }
            continue
        }
        let context = HostContext(host: host, specs: specs, prune: prune, facts: observed.facts, secrets: secrets)
        let requests = drivers.flatMap { $0.kernelRequests(context) }
        let hooks = HookInputs(kernelRequests: requests,
                               kernelOffers: drivers.flatMap { $0.kernels(for: requests, context) })
        for driver in drivers {
            result.append(driver.planHost(context, observation: observed, hooks: hooks))
        }
    }
    // Every marker names the repository that wrote it (labsync.yaml `name:`), so
    // `--prune` removes only this repository's directories (issue 11 #11).
    for i in result.steps.indices where result.steps[i].markerAfter != nil {
        result.steps[i].markerAfter!.repository = specs.repository
    }
    return Plan(revision: revision, work: result.steps, drift: result.drift, unmanaged: result.unmanaged,
                errors: result.errors)
}

/// What to observe on each host of `specs`: every driver's request and fragment.
public func observationRequests(specs: SpecSet, drivers: [any Driver] = DriverRegistry.all)
    -> [String: ObservationRequest] {
    var requests: [String: ObservationRequest] = [:]
    for host in specs.hosts {
        let context = HostContext(host: host, specs: specs)
        var request = ObservationRequest()
        for driver in drivers {
            guard let asked = driver.observationRequest(context) else { continue }
            request.drivers[driver.name] = asked
            request.fragments[driver.name] = driver.observeFragment
        }
        requests[host.name] = request
    }
    return requests
}
