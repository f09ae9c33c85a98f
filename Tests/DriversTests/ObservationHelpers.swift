import Drivers

/// Requests and typed views for tests that run the composed observe program.
extension ObservationRequest {
    /// The pip driver's fragment alone (and the hub's, when given).
    static func pip(roots: [String], pythons: [String] = [], hub: HubObservationRequest? = nil) -> ObservationRequest {
        var request = ObservationRequest()
        let pip = PipDriver()
        request.drivers[pip.name] = JSONValue(encoding: PipObservationRequest(roots: roots, pythons: pythons))
        request.fragments[pip.name] = pip.observeFragment
        if let hub {
            let driver = JupyterHubDriver()
            request.drivers[driver.name] = JSONValue(encoding: hub)
            request.fragments[driver.name] = driver.observeFragment
        }
        return request
    }
}

extension HostObservation {
    var pip: PipObservation { (try? part(PipObservation.self, driver: "pip")) ?? PipObservation() }
    var hub: HubObservation? { try? part(HubObservation.self, driver: "jupyterhub") }
}
