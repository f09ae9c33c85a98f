// The pure core end to end on this machine, without SSH: plan → run each step's
// commands with /bin/sh exactly as a remote shell would → write the marker →
// observe with the real script → plan again. Real venvs (/usr/bin/python3), real
// pip, wheels built here and served from a --find-links directory (no network).

import Drivers
import Foundation
import LabsyncTestSupport
import Reconciler
import Specs
import Testing

@Suite(.serialized, .integration) struct PlannerLocalApplyTests {

    struct Sandbox {
        var directory: String
        var wheels: String { directory + "/wheels" }
        var root: String { directory + "/envs" }
        var specs: String { directory + "/specs" }

        init() throws {
            // Specs refuse non-normalized paths ("/tmp//x"); NSTemporaryDirectory ends in "/".
            directory = try Spawn.makeTempDirectory(prefix: "planner-apply").replacing("//", with: "/")
            try FileManager.default.createDirectory(atPath: specs, withIntermediateDirectories: true)
            try Wheels.build(into: wheels, ["alpha:1.0", "alpha:2.0:beta", "beta:1.0", "gamma:1.0"])
        }

        func write(packages: [String], unmanaged: String = "report") throws {
            let yaml = """
                apiVersion: labsync/v1
                kind: Host
                metadata: {name: here}
                spec: {address: 127.0.0.1, user: root, become: none, knownHostsFile: /dev/null}
                ---
                apiVersion: labsync/v1
                kind: PythonEnvironment
                metadata: {name: app}
                spec:
                  host: here
                  root: \(root)
                  unmanaged: \(unmanaged)
                  index: {noIndex: true, findLinks: [\(wheels)]}
                  packages: [\(packages.map { "\"\($0)\"" }.joined(separator: ", "))]
                """
            try yaml.write(toFile: specs + "/specs.yaml", atomically: true, encoding: .utf8)
        }

        func load() throws -> SpecSet {
            let loaded = SpecLoader().load(directory: URL(fileURLWithPath: specs))
            // Invalid specs fall back to defaults (root /opt/labsync/envs): never apply those.
            try #require(loaded.isValid, "\(loaded.diagnostics)")
            #expect(loaded.specs.environments.allSatisfy { $0.root == root })
            return loaded.specs
        }

        func observe(_ specs: SpecSet) throws -> [String: HostObservation] {
            let request = try #require(observationRequests(specs: specs)["here"])
            let command = observeCommand(request, become: .none)
            let result = try Spawn.run(["/bin/sh", "-c", command.shellLine], stdin: command.stdin)
            #expect(result.status == 0, "\(result.stderrText)")
            return ["here": try decodeObservation(result.stdout)]
        }

        /// What the executor will do: commands in order, then the marker.
        func apply(_ plan: Plan) throws {
            for step in plan.work {
                for command in step.commands {
                    let result = try Spawn.run(["/bin/sh", "-c", command.shellLine], stdin: command.stdin)
                    #expect(result.status == 0, "\(step.action) failed: \(command.shellLine)\n\(result.stderrText)")
                }
                if let marker = step.markerAfter, let path = step.markerPath {
                    try Data(marker.fileContents(writtenAt: Date())).write(to: URL(fileURLWithPath: path))
                }
            }
        }

        func plan(_ specs: SpecSet) throws -> Plan {
            makePlan(specs: specs, observations: try observe(specs), revision: nil, prune: false)
        }
    }

    @Test func createInstallBumpDriftAndConverge() throws {
        let box = try Sandbox()
        defer { try? FileManager.default.removeItem(atPath: box.directory) }

        // Fresh: create-env + install, then nothing.
        try box.write(packages: ["alpha==1.0", "gamma"])
        var specs = try box.load()
        let first = try box.plan(specs)
        #expect(first.steps.map(\.action) == [.createEnv, .install])
        try box.apply(first)
        #expect(try box.plan(specs).isEmpty)

        // alpha==1.0 → alpha==2.0 (which pulls beta): exactly one install step.
        try box.write(packages: ["alpha==2.0", "gamma"])
        specs = try box.load()
        let bump = try box.plan(specs)
        #expect(bump.steps.map(\.action) == [.install])
        #expect(bump.steps.first?.packages == ["alpha==2.0"])
        try box.apply(bump)
        #expect(try box.plan(specs).isEmpty, "beta is alpha's dependency, not drift")

        // gamma uninstalled by hand: drift + reinstall.
        try Spawn.check([box.root + "/app/bin/python", "-m", "pip", "uninstall", "--yes", "-q", "gamma"])
        let handUninstalled = try box.plan(specs)
        #expect(handUninstalled.steps.map(\.action) == [.install])
        #expect(handUninstalled.drift.map(\.kind) == [.missingPackage])
        try box.apply(handUninstalled)
        #expect(try box.plan(specs).isEmpty)

        // gamma leaves the spec: uninstalled, because labsync installed it.
        try box.write(packages: ["alpha==2.0"])
        specs = try box.load()
        let removed = try box.plan(specs)
        #expect(removed.steps.map(\.action) == [.uninstall])
        #expect(removed.steps.first?.packages == ["gamma"])
        try box.apply(removed)
        #expect(try box.plan(specs).isEmpty)

        // gamma installed by hand: drift under report, uninstalled under remove.
        try Spawn.check([box.root + "/app/bin/python", "-m", "pip", "install", "-q", "--no-index",
                         "--find-links", box.wheels, "gamma"])
        let reported = try box.plan(specs)
        #expect(reported.isEmpty)
        #expect(reported.drift.map(\.package) == ["gamma"])
        try box.write(packages: ["alpha==2.0"], unmanaged: "remove")
        specs = try box.load()
        let removing = try box.plan(specs)
        #expect(removing.steps.map(\.action) == [.uninstall])
        try box.apply(removing)
        let final = try box.plan(specs)
        #expect(final.isEmpty && final.drift.isEmpty)
        // By path: the default root (/opt/labsync/envs) is always observed too, and
        // other tests on this machine may have left venvs there.
        let app = try box.observe(specs)["here"]!.environments.first { $0.path == box.root + "/app" }
        let installed = try #require(app).distributions.map(\.name)
        #expect(installed.contains("alpha") && installed.contains("beta") && !installed.contains("gamma"))
    }
}
