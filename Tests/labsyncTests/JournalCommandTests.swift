// The run journal from the command line: `plan` and `apply` are recorded with
// their plan, steps and every output line; `history` lists them; `logs` shows a
// run's output; a run killed with SIGKILL keeps every line up to the kill.

import Foundation
import LabsyncTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension PipScenarios {
    @Suite(.serialized, .integration) struct Journal {
        @Test func plansAndAppliesAreRecordedAndAKilledRunKeepsItsLines() async throws {
            let w = try Workspace("journal")
            defer { w.cleanUp() }
            try w.write("app.yaml", w.environment("app", packages: ["alpha==1.0", "gamma"]))

            #expect(try await w.plan().status == 2)
            let applied = try await w.apply()
            #expect(applied.stdoutText.contains("Recorded as run 2"), "\(applied.stdoutText)")

            let history = try LabsyncBinary.run(["history", "--state-dir", w.state])
            #expect(history.status == 0, "\(history.stderrText)")
            let rows = history.stdoutText.split(separator: "\n")
            #expect(rows.count >= 3 && rows[1].contains("apply") && rows[1].contains("succeeded") && rows[2].contains("plan"),
                    "\(history.stdoutText)")
            #expect(try LabsyncBinary.run(["history", "--state-dir", w.state, "--host", "elsewhere"]).stdoutText.contains("No runs"))

            // The finished apply's full output: labsync's lines and pip's.
            let logs = try LabsyncBinary.run(["logs", "2", "--state-dir", w.state])
            #expect(logs.status == 0)
            #expect(logs.stdoutText.contains("loopback: create-env PythonEnvironment/app"), "\(logs.stdoutText)")
            #expect(logs.stdoutText.contains("loopback │ Successfully installed"), "\(logs.stdoutText)")
            #expect(logs.stdoutText.contains("run 2: succeeded"), "\(logs.stdoutText)")

            // SIGKILL in the middle of a step: the run keeps its lines up to the kill
            // and reads as interrupted.
            try w.write("second.yaml", w.environment("second", packages: ["zeta"]))
            let output = w.directory + "/apply.out"
            let run = try Spawn.start(w.applyCommand(), stdoutPath: output, stderrPath: output)
            #expect(await waitUntil(timeout: 120) { contents(output).contains("loopback: + create-env PythonEnvironment/second…") },
                    "\(contents(output))")
            // While it runs: `logs` shows what is there so far, and says it is running.
            let running = try LabsyncBinary.run(["logs", "3", "--state-dir", w.state])
            #expect(running.stdoutText.contains("create-env PythonEnvironment/second"), "\(running.stdoutText)")
            #expect(running.stdoutText.contains("still running"), "\(running.stdoutText)")
            let before = running.stdoutText.split(separator: "\n").dropFirst().dropLast()
            run.kill(SIGKILL)
            #expect(run.wait(timeout: 30) == 128 + SIGKILL)
            let killed = try LabsyncBinary.run(["logs", "3", "--state-dir", w.state])
            for line in before { #expect(killed.stdoutText.contains(line), "lost after SIGKILL: \(line)") }
            #expect(killed.stdoutText.contains("run 3: interrupted"), "\(killed.stdoutText)")
            // --follow of a dead run ends instead of waiting forever.
            let followed = try LabsyncBinary.run(["logs", "3", "--follow", "--state-dir", w.state], timeout: 20)
            #expect(followed.status == 0 && followed.stdoutText.contains("interrupted"))

            // The next apply finishes the job (and is run 4).
            let next = try await w.apply()
            #expect(next.stdoutText.contains("Recorded as run 4"), "\(next.stdoutText)")
            #expect(w.packages("second") == ["zeta": "1.0", "eta": "1.0"])
        }
    }
}
