// Issue 11 #1 at plan time: the paths a step will check on the host are known
// from the specs (`Driver.pathsToCheck`), sent with the observation request,
// and judged by the observe script as the apply script would judge them. A
// step whose path the host would refuse is not planned; its resource gets a
// plan error naming the culprit, so `plan` on a pull request shows it. Pure:
// fixture observations with the observe script's verdict set by hand (the
// verdict itself is checked against the shell in SafeDirectoryScriptTests).

import Drivers
import Foundation
import LabsyncTestSupport
@testable import Reconciler
import Testing

@Suite(.unit) struct PlannerPathSafetyTests {
    /// Every path a planned step checks for a resource of the specs was asked
    /// about by the observation request, in every planner fixture. (Steps for
    /// directories no spec names, orphans found on the host, are checked at
    /// apply only.)
    @Test(arguments: try PlannerCase.all()) func everyCheckedPathOfTheSpecsIsObserved(_ name: String) throws {
        let testCase = try PlannerCase.load(name)
        let requests = observationRequests(specs: testCase.specs)
        let specResources = Set(testCase.specs.hosts.flatMap { host in
            DriverRegistry.all.flatMap { $0.resources(HostContext(host: host, specs: testCase.specs)) }
        })
        for step in testCase.plan().work where specResources.contains(step.resource) || step.action.isHostWide {
            let asked = Set(requests[step.host]?.paths ?? [])
            for path in step.checkedPaths {
                #expect(asked.contains(path), "\(name): \(step.action.name) \(step.resource) checks \(path.summary), not observed")
            }
        }
    }

    @Test func anUnsafeVenvIsAPlanErrorAndTheRestIsPlanned() throws {
        let testCase = try PlannerCase.load("uv-and-markers")
        let create = try #require(testCase.plan().work.first { $0.action.name == "create-env" })
        let venv = try #require(create.checkedPaths.first { !$0.create })
        var world = testCase.observations
        world["vm"]!.unsafePaths = [venv: "unsafe path \(venv.path): /opt/labsync is a symbolic link"]
        let plan = testCase.plan(observations: world)
        #expect(!plan.work.contains { $0.resource == create.resource }, "\(plan.renderText())")
        let error = try #require(plan.errors.first { $0.resource == create.resource })
        #expect(error.message == "unsafe path \(venv.path): /opt/labsync is a symbolic link; nothing is planned for it (the apply script would refuse it)")
        #expect(plan.work.contains { $0.action.name == "ensure-python" }, "other steps on the host stay")
        #expect(plan.renderText().contains("/opt/labsync is a symbolic link"))
    }

    /// A refused host-wide step takes the steps that need it along: at apply they
    /// would be skipped anyway, and the plan says why.
    @Test func aRefusedHostWideStepRefusesWhatNeedsIt() throws {
        let testCase = try PlannerCase.load("uv-and-markers")
        var world = testCase.observations
        world["vm"]!.unsafePaths = [CheckedPath(PipDriver.uvToolVenv): "unsafe path \(PipDriver.uvToolVenv): /opt is owned by nobody (uid 65534), not root"]
        let plan = testCase.plan(observations: world)
        #expect(!plan.work.contains { $0.action.name == "ensure-uv" || $0.resource == "PythonEnvironment/fast" },
                "\(plan.renderText())")
        let messages = Dictionary(plan.errors.map { ($0.resource, $0.message) }, uniquingKeysWith: { a, _ in a })
        #expect(messages["Host/vm"]?.hasPrefix("unsafe path /opt/labsync/tools/uv: /opt is owned by nobody") == true)
        #expect(messages["PythonEnvironment/fast"]?.hasPrefix("it needs ensure-uv, which is refused: unsafe path") == true)
        #expect(plan.work.contains { $0.action.name == "ensure-python" })
    }

    /// A step that does not say what it needs (a plug-in's) waits for every
    /// host-wide step, so a refused one refuses it too; one that needs nothing
    /// refused stays.
    @Test func undeclaredNeedsAreRefusedWithAnyHostWideStep() {
        let unsafe = CheckedPath("/opt/x")
        let steps = DriverResult(steps: [
            PlannedStep(host: "h", resource: "Host/h", action: .ensurePython, reason: "r", needs: []),
            PlannedStep(host: "h", resource: "Host/h", action: .ensureUV, reason: "r", needs: [], checkedPaths: [unsafe]),
            PlannedStep(host: "h", resource: "X/a", action: .install, reason: "r"),
            PlannedStep(host: "h", resource: "X/b", action: .install, reason: "r", needs: ["ensure-python"]),
        ])
        let out = refusingUnsafePaths(steps, host: "h", unsafe: [unsafe: "unsafe path /opt/x: /opt is a symbolic link"])
        #expect(out.steps.map(\.resource) == ["Host/h", "X/b"])
        #expect(out.errors.map(\.resource) == ["Host/h", "X/a"])
        #expect(out.errors.last?.message.hasPrefix("it needs ensure-uv, which is refused: unsafe path /opt/x") == true)
    }

    /// The request carries the paths only when a driver names some, so an
    /// observation request without them reads as before.
    @Test func theRequestNamesThePathsAndHowTheyAreChecked() throws {
        let testCase = try PlannerCase.load("uv-and-markers")
        let request = try #require(observationRequests(specs: testCase.specs)["vm"])
        #expect(request.json.contains(#"{"create":true,"owned":false,"path":"/opt/labsync/tools"}"#), "\(request.json)")
        #expect(ObservationRequest(drivers: [:]).json == #"{"drivers":{}}"#)
    }
}
