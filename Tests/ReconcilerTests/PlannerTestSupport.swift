// Shared by the planner's golden and convergence tests: fixture loading and an
// in-memory world that applies steps the way the real commands would.

import Drivers
import Foundation
import Reconciler
import Specs
import Testing

/// Tests/ReconcilerTests/Fixtures/planner, found from this file (no resources needed).
let plannerFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/planner")

struct PlannerCase {
    var name: String
    var directory: URL
    var specs: SpecSet
    var observations: [String: HostObservation]
    var prune: Bool
    var revision: String?
    /// The secrets' values on the "reconciler's machine" (see `worldSecret`).
    var secrets = SecretChecker { worldSecret($0) }

    static func all() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: plannerFixtures.path)
            .filter { !$0.hasPrefix(".") }.sorted()
    }

    static func load(_ name: String) throws -> PlannerCase {
        let dir = plannerFixtures.appendingPathComponent(name)
        let loaded = SpecLoader().load(directory: dir.appendingPathComponent("specs"))
        #expect(loaded.isValid, "\(name): specs invalid: \(loaded.diagnostics)")
        struct Observed: Decodable { var hosts: [String: HostObservation] }
        let observed = try JSONDecoder().decode(
            Observed.self, from: Data(contentsOf: dir.appendingPathComponent("observed.json")))
        struct Options: Decodable { var prune: Bool?; var revision: String? }
        let optionsURL = dir.appendingPathComponent("options.json")
        let options = FileManager.default.fileExists(atPath: optionsURL.path)
            ? try JSONDecoder().decode(Options.self, from: Data(contentsOf: optionsURL)) : nil
        return PlannerCase(name: name, directory: dir, specs: loaded.specs, observations: observed.hosts,
                           prune: options?.prune ?? false, revision: options?.revision)
    }

    func plan(observations: [String: HostObservation]? = nil) -> Plan {
        makePlan(specs: specs, observations: observations ?? self.observations, revision: revision, prune: prune,
                 secrets: secrets)
    }
}

/// The value a secret reference has in the world, unless a test rotates it.
func worldSecret(_ reference: SecretReference) -> String { "world-secret-\(reference)".replacing(" ", with: "") }

/// What a package index offers, for `install` in the world: newest satisfying wins.
let worldIndex: [String: [String]] = [
    "pkg": ["1.0", "2.0"], "numpy": ["1.26.4", "2.1.3"], "requests": ["2.31.0", "2.32.3"],
    "a": ["1.0", "1.1"], "b": ["1.0", "2.0"], "rich": ["13.9.4"], "idna": ["3.4", "3.10"],
    "other": ["1.5"], "pandas": ["2.2.3"], "ipykernel": ["7.4.0"],
]

/// Applies a step to an observation the way its commands change a real host.
func apply(_ step: PlannedStep, to observation: inout HostObservation) {
    guard step.action.driver == "pip" else {
        applyHubStep(step, to: &observation)  // HubPlannerWorld.swift
        return
    }
    var host = (try? observation.part(PipObservation.self, driver: "pip")) ?? PipObservation()
    defer { observation.setPart(host, driver: "pip") }
    func setEnvironment(_ env: EnvironmentObservation) {
        host.environments.removeAll { $0.path == env.path }
        host.environments.append(env)
        host.environments.sort { $0.path < $1.path }
    }
    let path = step.environmentPath
    switch step.action {
    case .ensurePython:
        for package in step.packages {
            let venv = package.hasSuffix("-venv")
            let base = venv ? String(package.dropLast(5)) : package
            let minor = base == "python3" ? "3.11" : String(base.dropFirst("python".count))
            if !venv {
                if !host.pythons.contains(where: { $0.minor == minor }) {
                    host.pythons.append(PythonInterpreter(version: "\(minor).0", path: "/usr/bin/python\(minor)", venv: false))
                }
                if base == "python3" { host.python3 = "\(minor).0"; host.python3Path = "/usr/bin/python3" }
            } else if let i = host.pythons.firstIndex(where: { $0.minor == minor }) {
                host.pythons[i].venv = true
            }
        }
    case .ensureUV:
        host.uv = PipDriver.uvToolPath
        host.uvVersion = "0.13.9"
    case .removeEnv:
        host.environments.removeAll { $0.path == path }
    case .createEnv, .recreateEnv:
        // The interpreter is whatever the venv command names.
        var interpreter = ""
        for command in step.commands {
            if command.arguments.starts(with: ["-m", "venv"]) { interpreter = command.executable }
            if let i = command.arguments.firstIndex(of: "--python"), command.arguments.first == "venv" {
                interpreter = command.arguments[i + 1]
            }
        }
        let version = host.pythons.first { $0.path == interpreter }?.version
            ?? (interpreter == host.python3Path ? host.python3 : nil)
        let withPip = step.commands.contains { $0.arguments.starts(with: ["-m", "venv"]) }
        setEnvironment(EnvironmentObservation(
            path: path!, python: version ?? "?",
            distributions: withPip ? [Distribution(name: "pip", version: "23.0.1")] : []))
    case .uninstall:
        if var env = host.environment(at: path!) {
            env.distributions.removeAll { step.packages.contains($0.name) }
            setEnvironment(env)
        }
    case .install:
        guard var env = host.environment(at: path!) else { return }
        for text in step.packages {
            let requirement = try! Requirement(parsing: text)
            let offered = (worldIndex[requirement.normalizedName] ?? [])
                .compactMap { try? Version($0) }.sorted()
            guard let version = offered.last(where: { requirement.specifier.contains($0) }) else {
                Issue.record("world index has no \(text)")
                continue
            }
            env.distributions.removeAll { $0.name == requirement.normalizedName }
            env.distributions.append(Distribution(name: requirement.normalizedName, version: version.description))
        }
        env.distributions.sort { $0.name < $1.name }
        setEnvironment(env)
    default:
        Issue.record("the test world does not know \(step.action)")
        return
    }
    if let marker = step.markerAfter, let path, var env = host.environment(at: path) {
        env.marker = marker
        setEnvironment(env)
    }
}

/// Typed views of the drivers' parts, for tests that change an observation by hand.
extension HostObservation {
    var pip: PipObservation {
        get { (try? part(PipObservation.self, driver: "pip")) ?? PipObservation() }
        set { setPart(newValue, driver: "pip") }
    }
    var hub: HubObservation? {
        get { try? part(HubObservation.self, driver: "jupyterhub") }
        set { if let newValue { setPart(newValue, driver: "jupyterhub") } else { drivers["jupyterhub"] = nil } }
    }
    var environments: [EnvironmentObservation] { pip.environments }
}
