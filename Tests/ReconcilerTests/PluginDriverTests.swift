// A driver the core has never heard of, defined here in the test target, goes
// through the same planner, hook, renderers and host script as the real ones:
// the proof that adding a driver needs no change to the core.

import Drivers
import Foundation
import LabsyncTestSupport
import Reconciler
import Remote
import Specs
import Testing

/// "Dotfiles": a made-up driver with a host-wide step, a per-resource step,
/// an after-resources step, and a kernel it offers to whoever asks.
private struct DotfilesDriver: Driver {
    struct Observed: Decodable, Sendable { var files: [String] }

    static let ensureTool = StepKind("ensure-dottool", driver: "dotfiles", symbol: .add, phase: .hostWide, order: 0)
    static let write = StepKind("write-dotfile", driver: "dotfiles", symbol: .change, phase: .resources, order: 1)
    static let announce = StepKind("announce", driver: "dotfiles", symbol: .change, phase: .afterResources, order: 99)

    var name: String { "dotfiles" }
    var kinds: [String] { ["Dotfile"] }
    var stepKinds: [StepKind] { [Self.ensureTool, Self.write, Self.announce] }
    var observeFragment: String { "def observe(request):\n    return {'files': []}\n" }
    /// One dotfile per host, named after it.
    func resources(_ context: HostContext) -> [String] { ["Dotfile/\(context.host.name)-rc"] }
    func observationRequest(_ context: HostContext) -> JSONValue? { .object(["dir": .string("/etc/dot")]) }
    func kernels(for requests: [KernelRequest], _ context: HostContext) -> [KernelOffer] {
        requests.filter { $0.environment == "\(context.host.name)-rc" }.map {
            KernelOffer(environment: $0.environment, resource: "Dotfile/\($0.environment)", displayName: "Dot",
                        language: "dot", argv: ["dot", "{connection_file}"])
        }
    }

    func plan(_ context: HostContext, observed: Observed?, hooks: HookInputs) -> DriverResult {
        let name = "\(context.host.name)-rc"
        guard observed?.files.contains(name) != true else { return DriverResult() }
        let host = context.host.name
        let resource = "Dotfile/\(name)"
        // The hub's request for this "environment" reaches this driver as a value.
        let asked = hooks.kernelRequests.contains { $0.environment == name }
        return DriverResult(steps: [
            PlannedStep(host: host, resource: resource, action: Self.announce, reason: "after everything",
                        commands: [RemoteCommand("echo", ["announce"])]),
            PlannedStep(host: host, resource: resource, action: Self.write,
                        reason: asked ? "wanted as a kernel" : "missing", commands: [RemoteCommand("echo", ["write"])]),
            PlannedStep(host: host, resource: context.hostResource, action: Self.ensureTool, reason: "no tool",
                        commands: [RemoteCommand("echo", ["ensure"])]),
        ])
    }
}

@Suite(.unit) struct PluginDriverTests {
    func specs() throws -> SpecSet {
        let dir = try GitFixture.makeTemporaryDirectory(prefix: "plugin-driver")
        defer { GitFixture.removeTree(dir) }
        try """
            apiVersion: labsync/v1
            kind: Host
            metadata: {name: vm}
            spec: {address: 127.0.0.1, user: root}
            ---
            apiVersion: labsync/v1
            kind: JupyterHub
            metadata: {name: hub}
            spec:
              host: vm
              authentication: {type: pam, allowedUsers: [alice]}
            """.write(to: dir.appendingPathComponent("specs.yaml"), atomically: true, encoding: .utf8)
        let loaded = SpecLoader().load(directory: dir)
        try #require(loaded.diagnostics.filter { $0.severity == .error }.isEmpty, "\(loaded.diagnostics)")
        // Validation knows only the kinds of Specs; the hub names the made-up
        // driver's resource as a kernel the way a spec would name an environment.
        var specs = loaded.specs
        specs.hubs[0].kernels = [Located("vm-rc", at: specs.hubs[0].metadata.location)]
        return specs
    }

    @Test func aNewDriverPlansObservesAndOrdersWithoutCoreChanges() throws {
        let specs = try specs()
        let drivers: [any Driver] = DriverRegistry.all + [DotfilesDriver()]
        let hubPart = JSONValue(encoding: HubObservation(python3: "3.11.2", python3Path: "/usr/bin/python3", python3Venv: true))
        let observation = HostObservation(os: .init(id: "debian"),
                                          drivers: ["dotfiles": .object(["files": .array([])]), "jupyterhub": hubPart])
        let plan = makePlan(specs: specs, observations: ["vm": observation], revision: nil, prune: false,
                            drivers: drivers)

        // Its steps are in the plan, sorted by phase and order within the resource.
        let mine = plan.steps.filter { $0.resource == "Dotfile/vm-rc" }.map(\.action.name)
        #expect(mine == ["write-dotfile", "announce"])
        #expect(plan.steps.contains { $0.resource == "Host/vm" && $0.action.name == "ensure-dottool" })
        // The hub's kernels entry reached it through the hook, and its offer reached the hub.
        #expect(plan.steps.first { $0.action.name == "write-dotfile" }?.reason == "wanted as a kernel")
        let register = try #require(plan.work.first { $0.action == .registerKernel })
        let kernelJSON = String(decoding: register.commands.first?.stdin ?? [], as: UTF8.self)
        #expect(kernelJSON.contains(#""argv": ["dot", "{connection_file}"]"#))
        #expect(kernelJSON.contains(#""language": "dot""#))

        // The renderers show it like any other step.
        #expect(plan.rendered(as: .text).contains("~ write-dotfile Dotfile/vm-rc"))
        #expect(plan.rendered(as: .markdown).contains("| `~` | write-dotfile | Dotfile/vm-rc |"))

        // The host script runs its host-wide step first and its after-resources step last.
        let script = HostScript(steps: plan.work.filter { $0.action.driver == "dotfiles" }, nonce: "n", owner: "o").render()
        let at = { (word: String) in script.range(of: "'echo' '\(word)'")!.lowerBound }
        #expect(at("ensure") < at("write") && at("write") < at("announce"))

        // Its request and fragment join the one observe program.
        let request = try #require(observationRequests(specs: specs, drivers: drivers)["vm"])
        #expect(request.drivers["dotfiles"] == .object(["dir": .string("/etc/dot")]))
        #expect(request.program.contains("def observe(request):\\n    return {'files': []}"))
    }

    @Test func aDriverWhosePartCannotBeReadGetsErrorsNotACrash() throws {
        let specs = try specs()
        let drivers: [any Driver] = [DotfilesDriver()]
        let broken = HostObservation(os: .init(), drivers: ["dotfiles": .object(["files": .string("nope")])])
        let plan = makePlan(specs: specs, observations: ["vm": broken], revision: nil, prune: false, drivers: drivers)
        #expect(plan.steps.isEmpty)
        #expect(plan.errors.map(\.resource) == ["Dotfile/vm-rc"])
        #expect(plan.errors.first?.message.contains("cannot be read") == true)

        let raised = HostObservation(os: .init(), driverErrors: ["dotfiles": "Traceback: KeyError 'dir'"])
        let second = makePlan(specs: specs, observations: ["vm": raised], revision: nil, prune: false, drivers: drivers)
        #expect(second.errors.first?.message.contains("observing it failed on the host: Traceback") == true)

        let unobserved = makePlan(specs: specs, observations: [:], revision: nil, prune: false, drivers: drivers)
        #expect(unobserved.errors.map(\.resource) == ["Dotfile/vm-rc"])
    }

    @Test func stepKindsAreIdentifiedByNameInSavedPlans() throws {
        let decoded = try JSONDecoder().decode(StepKind.self, from: Data(#""install""#.utf8))
        #expect(decoded == .install)
        #expect(String(decoding: try JSONEncoder().encode(StepKind.install), as: UTF8.self) == #""install""#)
        // Order: phase first, then the driver's order.
        #expect(StepKind.precedes(.ensureProxy, .createEnv))
        #expect(StepKind.precedes(.installHub, .addUser))
        #expect(!StepKind.precedes(.removeHub, .install))
    }
}
