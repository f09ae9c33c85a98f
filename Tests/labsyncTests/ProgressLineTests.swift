import Foundation
import LabsyncTestSupport
import Testing

/// Progress across hosts (issue 14): plain lines on standard error without a
/// terminal or with `--no-progress`; one line redrawn in place on a terminal.
/// The plan on standard output is the same in every case. Recorded
/// observations of three hosts (the fan-out fixture: one has nothing to plan).
@Suite(.integration) struct ProgressLineTests {
    static let fixture = LabsyncBinary.packageRoot.appendingPathComponent("Tests/ReconcilerTests/Fixtures/planner/fan-out")

    func planArguments(_ state: String, _ extra: [String] = []) -> [String] {
        ["plan", "--repo", Self.fixture.appendingPathComponent("specs").path,
         "--observations", Self.fixture.appendingPathComponent("observed.json").path, "--state-dir", state] + extra
    }

    @Test func withoutATerminalPlainLines() async throws {
        let state = try Spawn.makeTempDirectory(prefix: "progress")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let golden = try String(contentsOf: Self.fixture.appendingPathComponent("plan.txt"), encoding: .utf8)
        for extra in [[], ["--no-progress"]] {
            let result = try await LabsyncBinary.runAsync(planArguments(state, extra))
            #expect(result.status == 0, "\(result.stderrText)")
            #expect(result.stdoutText == golden, "the plan is untouched by progress")
            let lines = result.stderrText.split(separator: "\n").filter { $0.hasPrefix("progress: ") }
            for (index, host) in ["lab1", "lab2", "other"].enumerated() {
                #expect(lines.contains { $0.hasPrefix("progress: observed \(host) (\(index + 1)/3) · ") }, "\(extra): \(result.stderrText)")
            }
            #expect(lines.last?.hasPrefix("progress: 3/3 hosts observed · ") == true, "\(result.stderrText)")
            #expect(!result.stderrText.contains("\r") && !result.stderrText.contains("\u{1b}["), "plain lines, no redraw")
        }
    }

    /// On a terminal (a pty from util-linux `script`): the line is redrawn in
    /// place and cleared before the plan; `--no-progress` prints plain lines there too.
    @Test func onATerminalOneLiveLineUnlessNoProgress() async throws {
        let state = try Spawn.makeTempDirectory(prefix: "progress")
        defer { try? FileManager.default.removeItem(atPath: state) }
        func onTerminal(_ extra: [String]) throws -> String {
            let command = ([LabsyncBinary.path] + planArguments(state, extra)).map { "'\($0)'" }.joined(separator: " ")
            let result = try Spawn.run(["script", "--quiet", "--return", "--command", command, "/dev/null"],
                                       env: ["TERM": "xterm"], timeout: 60)
            #expect(result.status == 0, "\(result.stdoutText)")
            return result.stdoutText
        }
        let live = try onTerminal([])
        #expect(live.contains("\r\u{1b}[2K3/3 hosts observed · "), "\(live.debugDescription)")
        #expect(!live.contains("progress: observed"), "\(live.debugDescription)")
        #expect(live.contains("lab2"), "the plan follows")
        let plain = try onTerminal(["--no-progress"])
        #expect(plain.contains("progress: observed lab1 (1/3)"), "\(plain.debugDescription)")
        #expect(!plain.contains("\u{1b}[2K"), "\(plain.debugDescription)")
    }
}
