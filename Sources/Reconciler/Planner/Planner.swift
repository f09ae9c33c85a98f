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
        var hostResult = DriverResult()
        for driver in drivers {
            hostResult.append(driver.planHost(context, observation: observed, hooks: hooks))
        }
        result.append(refusingUnsafePaths(hostResult, host: host.name, unsafe: observed.unsafePaths))
    }
    // Every marker names the repository that wrote it (labsync.yaml `name:`), so
    // `--prune` removes only this repository's directories (issue 11 #11).
    for i in result.steps.indices where result.steps[i].markerAfter != nil {
        result.steps[i].markerAfter!.repository = specs.repository
    }
    return Plan(revision: revision, work: result.steps, drift: result.drift, unmanaged: result.unmanaged,
                errors: result.errors)
}

/// Issue 11 #1, at plan time: a step whose `checkedPaths` the observation
/// found unsafe is not planned; its resource gets a plan error naming the path
/// and the culprit, as the apply script would have refused it. So do steps
/// that need a refused host-wide step (`needs`): their resource would be
/// skipped at apply. Everything else on the host is planned as usual.
func refusingUnsafePaths(_ result: DriverResult, host: String, unsafe: [CheckedPath: String]) -> DriverResult {
    guard !unsafe.isEmpty else { return result }
    // A resource's steps go together; a host-wide step (its resource is the
    // host) alone, with what needs it.
    func key(_ step: PlannedStep) -> String { step.action.isHostWide ? step.action.name : step.resource }
    var refused: [String: (resource: String, why: String)] = [:]
    for step in result.steps where refused[key(step)] == nil {
        if let why = step.checkedPaths.lazy.compactMap({ unsafe[$0] }).first { refused[key(step)] = (step.resource, why) }
    }
    guard !refused.isEmpty else { return result }
    // A step that does not say what it needs waits for every host-wide step.
    let hostWide = result.steps.filter(\.action.isHostWide).map(\.action.name)
    var grew = true
    while grew {
        grew = false
        for step in result.steps where refused[key(step)] == nil {
            if let kind = (step.needs ?? hostWide).first(where: { refused[$0] != nil && $0 != key(step) }) {
                refused[key(step)] = (step.resource, "it needs \(kind), which is refused: \(refused[kind]!.why)")
                grew = true
            }
        }
    }
    var out = result
    out.steps = result.steps.filter { refused[key($0)] == nil }
    for (_, entry) in refused.sorted(by: { ($0.value.resource, $0.key) < ($1.value.resource, $1.key) }) {
        out.errors.append(PlanError(host: host, resource: entry.resource,
                                    message: "\(entry.why); nothing is planned for it (the apply script would refuse it)"))
    }
    return out
}

/// What to observe on each host of `specs`: every driver's request and fragment.
public func observationRequests(specs: SpecSet, drivers: [any Driver] = DriverRegistry.all)
    -> [String: ObservationRequest] {
    var requests: [String: ObservationRequest] = [:]
    for host in specs.hosts {
        let context = HostContext(host: host, specs: specs)
        var request = ObservationRequest()
        var paths = Set<CheckedPath>()
        for driver in drivers {
            paths.formUnion(driver.pathsToCheck(context))
            guard let asked = driver.observationRequest(context) else { continue }
            request.drivers[driver.name] = asked
            request.fragments[driver.name] = driver.observeFragment
        }
        request.paths = paths.sorted { ($0.path, $0.create ? 1 : 0, $0.ownedLeaf ? 1 : 0) < ($1.path, $1.create ? 1 : 0, $1.ownedLeaf ? 1 : 0) }
        requests[host.name] = request
    }
    return requests
}
