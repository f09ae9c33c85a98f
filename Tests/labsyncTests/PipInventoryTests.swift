// Several environments on one host: applied together (in parallel), a
// requirements file merged with `packages`, `export` reproduced in a new env,
// venvs made by hand left alone, `--prune`, and the empty-repository guard.

import Foundation
import LabsyncTestSupport
import Testing

extension PipScenarios {
    @Suite(.serialized, .integration) struct Inventory {
        @Test func environmentsRequirementsExportAndPrune() async throws {
            let w = try Workspace("inventory")
            try w.write("labsync.yaml", "name: inventory\n")  // --prune needs it (issue 11 #11)
            defer { w.cleanUp() }

            // Two envs, one apply. `app` merges a requirements file (a relative path
            // in the spec repository) with its `packages`.
            try w.write("requirements/app.txt", """
                # what the course needs besides alpha
                gamma
                zeta  # brings eta along

                """)
            try w.write("app.yaml", w.environment("app", packages: ["alpha==1.0"],
                                                  extra: ["requirementsFile: requirements/app.txt"]))
            try w.write("tools.yaml", w.environment("tools", packages: ["delta"]))
            let first = try await w.plan()
            #expect(first.plan.summary == [
                "create-env PythonEnvironment/app []",
                "install PythonEnvironment/app [\"alpha==1.0\", \"gamma\", \"zeta\"]",
                "create-env PythonEnvironment/tools []",
                "install PythonEnvironment/tools [\"delta\"]",
            ])
            let applied = try await w.apply()
            #expect(w.packages("app") == ["alpha": "1.0", "gamma": "1.0", "zeta": "1.0", "eta": "1.0"])
            #expect(w.packages("tools") == ["delta": "1.0"])
            // The env groups ran side by side: both venvs were being created before
            // either creation finished (each takes seconds).
            let lines = applied.stdoutText.split(separator: "\n").map(String.init)
            let startedApp = lines.firstIndex { $0.hasPrefix("loopback: + create-env PythonEnvironment/app") }
            let startedTools = lines.firstIndex { $0.hasPrefix("loopback: + create-env PythonEnvironment/tools") }
            let firstDone = lines.firstIndex { $0.contains("create-env PythonEnvironment/") && $0.contains(": done") }
            if let startedApp, let startedTools, let firstDone {
                #expect(max(startedApp, startedTools) < firstDone, "\(applied.stdoutText)")
            } else {
                Issue.record("progress lines missing:\n\(applied.stdoutText)")
            }
            let status = try await w.labsync("status")
            #expect(status.status == 0, "\(status.stderrText)")
            for env in ["app", "tools"] {
                #expect(status.stdoutText.contains("\(w.path(of: env))  PythonEnvironment/\(env)  "), "\(status.stdoutText)")
            }
            #expect(status.stdoutText.components(separatedBy: "  in sync").count - 1 == 2, "\(status.stdoutText)")
            #expect(try await w.plan().status == 0)

            // `export app`, fed to a NEW env as its requirements file, reproduces the set.
            let exported = try await w.labsync("export", ["app"])
            #expect(exported.status == 0, "\(exported.stderrText)")
            let pins = exported.stdoutText.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
            #expect(pins == ["alpha==1.0", "eta==1.0", "gamma==1.0", "zeta==1.0"])
            try w.write("requirements/copy.txt", exported.stdoutText)
            try w.write("copy.yaml", w.environment("copy", packages: [], extra: ["requirementsFile: requirements/copy.txt"]))
            try await w.apply()
            let copied = try await w.labsync("export", ["copy"])
            #expect(copied.status == 0, "\(copied.stderrText)")
            #expect(copied.stdoutText.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init) == pins)
            #expect(w.installed("copy") == w.installed("app"), "the same distributions, pip and setuptools included")

            // A venv made by hand under the root (no marker): listed, never touched.
            let handmade = w.root + "/handmade"
            try Spawn.check(["/usr/bin/python3", "-m", "venv", "--without-pip", handmade])
            let status2 = try await w.labsync("status")
            #expect(status2.stdoutText.contains("\(handmade)  unmanaged (no labsync marker)"), "\(status2.stdoutText)")
            let seen = try await w.plan()
            #expect(seen.status == 0, "an unmanaged venv is not a change")
            #expect(seen.plan.unmanaged.map { "\($0.path) \($0.kind)" } == ["\(handmade) unmarked"])

            // state: absent of another env removes that env only.
            try w.write("copy.yaml", w.environment("copy", packages: [],
                                                   extra: ["requirementsFile: requirements/copy.txt", "state: absent"]))
            try await w.apply()
            #expect(!FileManager.default.fileExists(atPath: w.path(of: "copy")))
            #expect(FileManager.default.fileExists(atPath: handmade + "/pyvenv.cfg"))

            // The spec of `tools` is deleted: an orphan, kept without --prune…
            try w.remove("tools.yaml")
            let orphan = try await w.plan()
            #expect(orphan.status == 0)
            #expect(orphan.plan.unmanaged.map { "\($0.path) \($0.kind) \($0.spec ?? "-")" }
                    == ["\(handmade) unmarked -", "\(w.path(of: "tools")) orphaned tools"])
            // `status` says what `plan` says (issue 11 #14): orphaned, not "in sync".
            let orphanStatus = try await w.labsync("status")
            let toolsLine = orphanStatus.stdoutText.split(separator: "\n").first { $0.contains(w.path(of: "tools") + "  ") }
            #expect(toolsLine?.hasSuffix("  orphaned") == true, "\(orphanStatus.stdoutText)")
            let orphanJSON = try await w.labsync("status", ["--format", "json"])
            let states = (try JSONSerialization.jsonObject(with: Data(orphanJSON.stdout)) as? [String: Any])?["resources"]
                as? [[String: Any]] ?? []
            #expect(states.first { $0["resource"] as? String == w.path(of: "tools") }?["state"] as? String == "orphaned",
                    "\(orphanJSON.stdoutText)")
            #expect(states.first { $0["resource"] as? String == "PythonEnvironment/app" }?["state"] as? String == "in-sync")
            try await w.apply()
            #expect(w.packages("tools") == ["delta": "1.0"], "no --prune: the orphan stays")
            // …and removed with it; the hand-made venv and `app` survive.
            let pruning = try await w.plan(["--prune"])
            // (require: a prune must never run when it would remove anything else)
            try #require(pruning.plan.summary == ["remove-env PythonEnvironment/tools []"])
            try await w.apply(["--prune"])
            #expect(!FileManager.default.fileExists(atPath: w.path(of: "tools")))
            #expect(FileManager.default.fileExists(atPath: handmade + "/pyvenv.cfg"))
            #expect(w.packages("app").count == 4)
            #expect(try await w.plan(["--prune"]).status == 0)

            // No specs at all: refused unless --allow-empty (a deleted directory
            // must not read as "remove everything").
            try w.remove("app.yaml")
            try w.remove("copy.yaml")
            for command in ["plan", "apply"] {
                let refused = try await w.labsync(command, ["--prune", "--yes"].filter { command == "apply" || $0 != "--yes" })
                #expect(refused.status == 1, "\(command): \(refused.stdoutText)")
                #expect(refused.stderrText.contains("--allow-empty"), "\(command): \(refused.stderrText)")
            }
            #expect(w.packages("app").count == 4, "nothing was removed")
            let allowed = try await w.labsync("plan", ["--allow-empty"])
            #expect(allowed.status == 0, "\(allowed.stderrText)")
        }
    }
}
