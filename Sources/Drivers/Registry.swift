// The one place that names the drivers. Adding a driver is a folder beside
// this file and one line in `all` (DESIGN.md, "Writing a driver").
//
// Order matters only for reading: plans sort steps by host, resource and
// step kind, whatever the order here.

import Specs

public enum DriverRegistry {
    public static let all: [any Driver] = [
        PipDriver(),
        RDriver(),
        JupyterHubDriver(),
    ]

    /// Drivers whose target is a directory another tool applies (GitOps), not a host.
    public static let manifestDrivers: [any ManifestDriver] = [
        KubernetesHubDriver(),
    ]

    /// Every manifest driver's rendering of `specs`, sorted by resource.
    public static func renderManifests(_ specs: SpecSet) -> [RenderedManifests] {
        manifestDrivers.flatMap { $0.render(specs) }.sorted { $0.resource < $1.resource }
    }

    /// Every manifest driver's changes that make `existing` hold what `specs` render.
    public static func planManifests(_ specs: SpecSet, existing: [String: String]) -> [ManifestChange] {
        manifestDrivers.flatMap { $0.plan(rendered: $0.render(specs), existing: existing) }
            .sorted { ($0.path, $0.resource) < ($1.path, $1.resource) }
    }

    /// The driver whose step kinds include `kind` (by name).
    public static func driver(named name: String) -> (any Driver)? {
        all.first { $0.name == name }
    }

    /// Every resource of every driver on this host ("PythonEnvironment/ml", …), sorted.
    public static func resources(_ context: HostContext) -> [String] {
        all.flatMap { $0.resources(context) }.sorted()
    }
}
