// What the core calls on `any Driver`: the typed protocol methods, with the
// driver's part of the observation decoded on the way in. Protocol extension
// methods open the existential, so the core never names an `Observed` type.

import Specs

extension Driver {
    /// Plans this driver's resources on one observed host. A part that cannot
    /// be decoded, or a fragment that raised on the host, becomes a plan error
    /// for each of its resources (nothing is planned for them).
    public func planHost(_ context: HostContext, observation: HostObservation, hooks: HookInputs) -> DriverResult {
        if let error = observation.driverErrors[name] {
            return unobserved(context, because: "observing it failed on the host: \(error)")
        }
        do {
            let observed = try observation.part(Observed.self, driver: name)
            return plan(context, observed: observed, hooks: hooks)
        } catch let error as DecodingError {
            return unobserved(context, because: "its observation cannot be read (\(error.shortDescription))")
        } catch {
            return unobserved(context, because: "its observation cannot be read (\(error))")
        }
    }

    /// One error per resource of this driver on a host that was not observed.
    public func unobserved(_ context: HostContext, because reason: String) -> DriverResult {
        DriverResult(errors: resources(context).map {
            PlanError(host: context.host.name, resource: $0, message: reason)
        })
    }

    /// `labsync status` entries for this driver's part of an observation.
    public func statusEntries(of observation: HostObservation) -> [StatusEntry] {
        guard let observed = try? observation.part(Observed.self, driver: name) else { return [] }
        return statusEntries(observed)
    }

    /// `labsync export` for one resource, if it is this driver's.
    public func export(resource: String, _ context: HostContext, observation: HostObservation) -> ExportResult? {
        guard kinds.contains(where: { resource.hasPrefix($0 + "/") }) else { return nil }
        do {
            guard let observed = try observation.part(Observed.self, driver: name) else {
                return .failure("host '\(context.host.name)' reported nothing for \(resource)")
            }
            return export(resource: resource, context, observed: observed)
        } catch {
            return .failure("the observation of \(resource) cannot be read: \(error)")
        }
    }
}
