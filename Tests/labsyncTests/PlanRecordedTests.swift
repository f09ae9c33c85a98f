import Foundation
import LabsyncTestSupport
import Testing

/// `labsync plan --observations FILE`: CI plans a pull request from recorded
/// observations, without reaching any host. The built binary must print
/// exactly the golden text plan of every planner fixture, with the exit code
/// `--detailed-exitcode` promises.
@Suite(.integration) struct PlanRecordedTests {
    static let fixtures = LabsyncBinary.packageRoot.appendingPathComponent("Tests/ReconcilerTests/Fixtures/planner")
    static let cases = ((try? FileManager.default.contentsOfDirectory(atPath: fixtures.path)) ?? []).sorted()

    @Test func thereAreCases() { #expect(Self.cases.count >= 10) }

    @Test(arguments: cases)
    func binaryPrintsTheGoldenPlan(_ name: String) async throws {
        let dir = Self.fixtures.appendingPathComponent(name)
        let options = (try? JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("options.json")))) as? [String: Any]
        let prune = options?["prune"] as? Bool ?? false
        let state = try Spawn.makeTempDirectory(prefix: "plan-recorded")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let result = try await LabsyncBinary.runAsync(
            ["plan", "--repo", dir.appendingPathComponent("specs").path,
             "--observations", dir.appendingPathComponent("observed.json").path, "--detailed-exitcode",
             "--state-dir", state] + (prune ? ["--prune"] : []))
        let golden = try String(contentsOf: dir.appendingPathComponent("plan.txt"), encoding: .utf8)
        #expect(result.stdoutText == golden, "\(result.stderrText)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("plan.json"))) as? [String: Any]
        let steps = (json?["steps"] as? [Any])?.count ?? 0
        let errors = (json?["errors"] as? [Any])?.count ?? 0
        #expect(result.status == (errors > 0 ? 1 : steps > 0 ? 2 : 0), "\(result.stderrText)")
    }
}
