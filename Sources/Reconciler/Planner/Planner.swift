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
    let hubDriver = JupyterHubDriver()
    let byHost = environmentsByHost(specs)

    for host in specs.hosts.sorted(by: { $0.name < $1.name }) {
        let hub = specs.hubs.first { $0.host.value == host.name }
        let environments = withKernelSupport(byHost[host.name] ?? [], hub: hub)
        guard let observed = observations[host.name] else {
            for env in environments {
                errors.append(PlanError(host: host.name, resource: "PythonEnvironment/\(env.name)",
                                        message: "host '\(host.name)' was not observed; nothing planned for it"))
            }
            if let hub {
                errors.append(PlanError(host: host.name, resource: "JupyterHub/\(hub.name)",
                                        message: "host '\(host.name)' was not observed; nothing planned for it"))
            }
            continue
        }
        var results = [driver.diff(desired: .init(host: host, environments: environments, prune: prune),
                                   observed: observed)]
        if let hub {
            // The hub's steps come after the environments' (HostScript's hub phase),
            // so a kernel's environment exists before it is registered.
            results.append(hubDriver.diff(desired: .init(host: host, hub: hub,
                                                         kernels: kernelTargets(hub, environments)),
                                          observed: observed))
        }
        for result in results {
            work += result.steps
            drift += result.drift
            unmanaged += result.unmanaged
            errors += result.errors
        }
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

/// Environments named in a hub's `kernels` get `ipykernel` (unless they declare
/// it): a kernel is useless without it. Also while the hub is `state: absent`,
/// so removing the hub leaves its environments exactly as they were.
func withKernelSupport(_ environments: [PythonEnvironmentSpec], hub: JupyterHubSpec?) -> [PythonEnvironmentSpec] {
    guard let hub else { return environments }
    let kernels = Set(hub.kernels.map(\.value))
    return environments.map { env in
        guard env.state == .present, kernels.contains(env.name),
              !env.requirements.contains(where: { $0.value.normalizedName == "ipykernel" }),
              let ipykernel = try? Requirement(parsing: "ipykernel") else { return env }
        var copy = env
        let at = hub.kernels.first { $0.value == env.name }!.location
        copy.requirements.append(Located(ipykernel, at: at))
        return copy
    }
}

/// The environments of `hub.kernels` that exist (or will) on this host.
func kernelTargets(_ hub: JupyterHubSpec, _ environments: [PythonEnvironmentSpec]) -> [JupyterHubDriver.KernelTarget] {
    let wanted = Set(hub.kernels.map(\.value))
    return environments.filter { $0.state == .present && wanted.contains($0.name) }.map { env in
        JupyterHubDriver.KernelTarget(environment: env.name, displayName: env.kernel?.displayName ?? env.name,
                                      python: env.path + "/bin/python")
    }
}

/// What to observe on each host of `specs` (roots to scan, pythons that may need APT).
public func observationRequests(specs: SpecSet) -> [String: ObservationRequest] {
    let byHost = environmentsByHost(specs)
    var requests: [String: ObservationRequest] = [:]
    for host in specs.hosts {
        var request = PipDriver.observationRequest(for: byHost[host.name] ?? [])
        if let hub = specs.hubs.first(where: { $0.host.value == host.name }) {
            request.hub = JupyterHubDriver.observationRequest(for: hub)
        }
        requests[host.name] = request
    }
    return requests
}
