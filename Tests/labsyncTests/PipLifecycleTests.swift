// One environment's life, end to end: install, a second plan that changes nothing,
// a version bump that is exactly one install step, an uninstall, drift made by hand
// (reported, then removed, then repaired), and `state: absent`.

import Foundation
import LabsyncTestSupport
import Testing

extension PipScenarios {
    @Suite(.serialized, .integration) struct Lifecycle {
        @Test func installBumpUninstallAndRemove() async throws {
            let w = try Workspace("lifecycle")
            defer { w.cleanUp() }
            try w.write("app.yaml", w.environment("app", packages: ["alpha==1.0", "gamma"]))

            let first = try await w.plan()
            #expect(first.status == 2)
            #expect(first.plan.summary == ["create-env PythonEnvironment/app []",
                                           "install PythonEnvironment/app [\"alpha==1.0\", \"gamma\"]"])
            try await w.apply()
            #expect(w.packages("app") == ["alpha": "1.0", "gamma": "1.0"])
            #expect(w.marker("app")?.spec == "app")

            // A second plan changes nothing.
            let second = try await w.plan()
            #expect(second.status == 0, "\(second.plan.summary)")
            #expect(second.plan.steps.isEmpty && second.plan.drift.isEmpty && second.plan.unmanaged.isEmpty)

            // alpha==1.0 → alpha==2.0: exactly ONE step, an install of that env (pip
            // brings beta, alpha 2.0's dependency, along).
            try w.write("app.yaml", w.environment("app", packages: ["alpha==2.0", "gamma"]))
            let bump = try await w.plan()
            #expect(bump.status == 2)
            #expect(bump.plan.steps.count == 1)
            #expect(bump.plan.steps.first == JSONPlan.Step(
                host: "loopback", resource: "PythonEnvironment/app", action: "install",
                packages: ["alpha==2.0"], reason: "alpha 1.0 does not satisfy ==2.0"))
            try await w.apply()
            #expect(w.packages("app") == ["alpha": "2.0", "beta": "1.0", "gamma": "1.0"])
            #expect(try await w.plan().status == 0)

            // gamma leaves the spec: one uninstall; beta stays (alpha needs it).
            try w.write("app.yaml", w.environment("app", packages: ["alpha==2.0"]))
            let drop = try await w.plan()
            #expect(drop.plan.summary == ["uninstall PythonEnvironment/app [\"gamma\"]"])
            try await w.apply()
            #expect(w.packages("app") == ["alpha": "2.0", "beta": "1.0"])
            #expect(w.marker("app")?.packages == ["alpha==2.0"])
            #expect(try await w.plan().status == 0)

            // state: absent removes the venv and nothing else: python3 stays.
            try w.write("app.yaml", w.environment("app", packages: ["alpha==2.0"], extra: ["state: absent"]))
            let absent = try await w.plan()
            #expect(absent.plan.summary == ["remove-env PythonEnvironment/app []"])
            try await w.apply()
            #expect(!FileManager.default.fileExists(atPath: w.path(of: "app")))
            #expect(FileManager.default.fileExists(atPath: w.root), "the root itself is not labsync's to delete")
            let python = try Spawn.run(["/usr/bin/python3", "--version"])
            #expect(python.status == 0)
            #expect((python.stdoutText + python.stderrText).hasPrefix("Python 3."))
            #expect(try await w.plan().status == 0)
        }

        @Test func packagesChangedByHand() async throws {
            let w = try Workspace("drift")
            defer { w.cleanUp() }
            try w.write("app.yaml", w.environment("app", packages: ["alpha==1.0"]))
            try await w.apply()
            #expect(w.packages("app") == ["alpha": "1.0"])

            // Installed by hand, under the default `unmanaged: report`: drift, no step.
            try w.pipByHand("app", ["install", "--no-index", "--find-links", w.wheels, "delta"])
            let reported = try await w.plan()
            #expect(reported.status == 0, "report is not a change: \(reported.plan.summary)")
            #expect(reported.plan.steps.isEmpty)
            #expect(reported.plan.drift.map { "\($0.resource) \($0.kind) \($0.package)" }
                    == ["PythonEnvironment/app extra-package delta"])
            let status = try await w.labsync("status", ["--packages"])
            #expect(status.status == 0, "\(status.stderrText)")
            #expect(status.stdoutText.contains("delta==1.0"), "\(status.stdoutText)")
            #expect(status.stdoutText.contains("drift: delta"), "\(status.stdoutText)")
            #expect(status.stdoutText.contains("drifted"), "\(status.stdoutText)")
            try await w.apply()
            #expect(w.packages("app")["delta"] == "1.0", "report never uninstalls")

            // `unmanaged: remove`: one uninstall of exactly the undeclared package.
            try w.write("app.yaml", w.environment("app", packages: ["alpha==1.0"], extra: ["unmanaged: remove"]))
            let removal = try await w.plan()
            #expect(removal.plan.summary == ["uninstall PythonEnvironment/app [\"delta\"]"])
            try await w.apply()
            #expect(w.packages("app") == ["alpha": "1.0"])

            // Uninstalled by hand: seen as drift, reinstalled by the next apply.
            try w.pipByHand("app", ["uninstall", "--yes", "alpha"])
            #expect(w.packages("app").isEmpty)
            let missing = try await w.plan()
            #expect(missing.plan.summary == ["install PythonEnvironment/app [\"alpha==1.0\"]"])
            #expect(missing.plan.drift.map { "\($0.kind) \($0.package)" } == ["missing-package alpha"])
            try await w.apply()
            #expect(w.packages("app") == ["alpha": "1.0"])
            #expect(try await w.plan().status == 0)
        }
    }
}
