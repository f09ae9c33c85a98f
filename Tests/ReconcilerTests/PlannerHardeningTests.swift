// Planner behaviour found by the hardening campaign (issue 11), on fixture
// observations: pure, no host.

import Drivers
import Foundation
import LabsyncTestSupport
@testable import Reconciler
import Testing

@Suite(.unit) struct PlannerHardeningTests {
    /// Debian 11's patched venv lists `pkg-resources==0.0.0`; it is the venv's own
    /// tooling, never an undeclared package, not even under `unmanaged: remove`.
    @Test func debianPkgResourcesIsNeverUndeclared() throws {
        let testCase = try PlannerCase.load("hand-installed")
        var observations = testCase.observations
        var pip = try #require(try observations["vm"]?.part(PipObservation.self, driver: "pip"))
        for i in pip.environments.indices {
            pip.environments[i].distributions.append(Distribution(name: "pkg-resources", version: "0.0.0", requires: []))
        }
        observations["vm"]!.setPart(pip, driver: "pip")
        let before = testCase.plan()
        let after = testCase.plan(observations: observations)
        #expect(!after.drift.contains { $0.package == "pkg-resources" }, "\(after.drift)")
        #expect(!after.work.contains { $0.packages.contains("pkg-resources") }, "\(after.renderText())")
        #expect(after.renderText() == before.renderText())
    }

    /// Issue 11 #16: each step says which host-wide steps it needs, and the host
    /// script waits only for those: uv environments for ensure-uv, environments
    /// whose interpreter or venv support is missing for ensure-python, the hub for
    /// ensure-proxy.
    @Test func stepsNeedOnlyTheirHostWideSteps() throws {
        let uv = try PlannerCase.load("uv-and-markers").plan().work
        let needs = Dictionary(uv.map { ("\($0.action.name) \($0.resource)", $0.needs) }, uniquingKeysWith: { a, _ in a })
        #expect(needs["ensure-python Host/vm"] == [])
        #expect(needs["ensure-uv Host/vm"] == ["ensure-python"])
        #expect(needs["create-env PythonEnvironment/fast"] == ["ensure-python", "ensure-uv"])
        #expect(needs["install PythonEnvironment/fast"] == ["ensure-python", "ensure-uv"])

        let hub = try PlannerCase.load("hub-fresh").plan().work.filter { $0.host == "vm" }
        let script = HostScript(steps: hub, nonce: "n", owner: "o")
        for (i, step) in script.steps.enumerated() where !step.action.isHostWide {
            let expected = step.resource.hasPrefix("JupyterHub/") ? ["ensure-proxy"] : []
            #expect(script.blockers([i]) == expected, "\(step.action.name) \(step.resource)")
        }
        #expect(script.render().contains("if why=$(failedneed 'ensure-proxy'); then"))
    }

    /// A step that does not say what it needs waits for every host-wide step (a
    /// plug-in driver keeps the old, safe behaviour).
    @Test func undeclaredNeedsWaitForEveryHostWideStep() {
        let steps = [
            PlannedStep(host: "h", resource: "Host/h", action: .ensurePython, reason: "r", needs: []),
            PlannedStep(host: "h", resource: "Host/h", action: .ensureUV, reason: "r"),
            PlannedStep(host: "h", resource: "X/a", action: .install, reason: "r"),
        ]
        let script = HostScript(steps: steps, nonce: "n", owner: "o")
        #expect(script.blockers([0]) == [])
        #expect(script.blockers([1]) == ["ensure-python"])
        #expect(script.blockers([2]) == ["ensure-python", "ensure-uv"])
    }

    /// Issue 11 #11: every marker a plan writes names the repository (labsync.yaml
    /// `name:`), and the file on the host carries it.
    @Test func markersRecordTheRepository() throws {
        var testCase = try PlannerCase.load("fresh-host")
        testCase.specs.repository = "lab-x"
        let markers = testCase.plan().work.compactMap(\.markerAfter)
        #expect(!markers.isEmpty)
        #expect(markers.allSatisfy { $0.repository == "lab-x" })
        let file = String(decoding: try #require(markers.first).fileContents(writtenAt: Date(timeIntervalSince1970: 0)), as: UTF8.self)
        #expect(file.contains(#""repository" : "lab-x""#), "\(file)")
    }

    /// A uv from before `--system-certs` (issue 11 #18) would refuse every
    /// install: ensure-uv upgrades it; a new enough (or unknown) one is left alone.
    @Test func aUVTooOldForSystemCertsIsUpgraded() throws {
        let testCase = try PlannerCase.load("uv-and-markers")
        func plan(uvVersion: String?) throws -> Plan {
            var world = testCase.observations
            for host in world.keys {
                guard var pip = try? world[host]!.part(PipObservation.self, driver: "pip") else { continue }
                pip.uv = PipDriver.uvToolPath
                pip.uvVersion = uvVersion
                world[host]!.setPart(pip, driver: "pip")
            }
            return testCase.plan(observations: world)
        }
        let old = try #require(try plan(uvVersion: "0.10.0").work.first { $0.action == .ensureUV })
        #expect(old.reason.contains("uv 0.10.0 is older than uv>=0.11"), "\(old.reason)")
        #expect(old.commands.last?.arguments.contains("uv>=0.11") == true)
        #expect(try plan(uvVersion: "0.13.9").steps.allSatisfy { $0.action != .ensureUV })
        #expect(try plan(uvVersion: nil).steps.allSatisfy { $0.action != .ensureUV })
    }
}
