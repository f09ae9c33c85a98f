// Apply every golden case's plan to an in-memory world, plan again: nothing left
// to do. This is the planner's level-triggered promise in miniature.

import Drivers
import LabsyncTestSupport
import Reconciler
import Testing

@Suite(.unit) struct PlannerConvergenceTests {
    @Test(arguments: try PlannerCase.all())
    func secondPlanIsEmpty(_ name: String) throws {
        let testCase = try PlannerCase.load(name)
        var world = testCase.observations
        let first = testCase.plan()
        for step in first.work { apply(step, to: &world[step.host]!) }
        let second = testCase.plan(observations: world)
        #expect(second.isEmpty, "\(name): after applying, still planned:\n\(second.renderText())")
        #expect(second.errors == first.errors, "applying must not create or fix plan errors")
    }

    /// The scenario: `pkg==1.0` → `pkg==2.0` is exactly one install step.
    @Test func versionBumpIsOneInstall() throws {
        let plan = try PlannerCase.load("version-bump").plan()
        #expect(plan.steps.map(\.action) == [.install])
        #expect(plan.steps.first?.packages == ["pkg==2.0"])
    }

    /// A venv without a marker survives --prune, and so do venvs whose marker names
    /// another repository or none (issue 11 #11).
    @Test func pruneNeverTouchesUnmarkedVenvs() throws {
        let plan = try PlannerCase.load("prune").plan()
        #expect(plan.steps.map(\.resource) == ["PythonEnvironment/gone"])
        #expect(plan.unmanaged.map { "\($0.path) \($0.kind)" } == [
            "/opt/labsync/envs/legacy orphaned", "/opt/labsync/envs/scratch unmarked", "/opt/labsync/envs/theirs orphaned",
        ])
        #expect(plan.work.allSatisfy { $0.environmentPath != "/opt/labsync/envs/scratch" })
    }
}
