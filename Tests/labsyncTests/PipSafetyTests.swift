// What protects a host: confirmation, stale saved plans, an apply killed in the
// middle, and two applies at once on one host.

import Foundation
import LabsyncTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension PipScenarios {
    @Suite(.serialized, .integration) struct Safety {
        @Test func confirmationAndStaleSavedPlans() async throws {
            let w = try Workspace("stale")
            defer { w.cleanUp() }
            try w.write("app.yaml", w.environment("app", packages: ["alpha==1.0"]))
            let saved = w.directory + "/create.json"
            let planned = try await w.labsync("plan", ["--format", "json", "--out", saved])
            #expect(planned.status == 0, "\(planned.stderrText)")

            // No terminal, no --yes: refused before anything runs.
            let unconfirmed = try await w.labsync("apply")
            #expect(unconfirmed.status == 1)
            #expect(unconfirmed.stderrText.contains("--yes"), "\(unconfirmed.stderrText)")
            #expect(!FileManager.default.fileExists(atPath: w.path(of: "app")))
            #expect(try await w.plan().status == 2)

            // The saved plan still matches the world: applied.
            let fresh = try await w.labsync("apply", [saved, "--yes"])
            #expect(fresh.status == 0, "\(fresh.stdoutText)\n\(fresh.stderrText)")
            #expect(w.packages("app") == ["alpha": "1.0"])
            let markerTime = modificationTime(w.path(of: "app") + "/.labsync.json")
            #expect(markerTime != nil)

            // The host moved on (the env exists now): the same saved plan is stale.
            let again = try await w.labsync("apply", [saved, "--yes"])
            #expect(again.status == 1)
            #expect(again.stderrText.contains("stale"), "\(again.stderrText)")
            #expect(modificationTime(w.path(of: "app") + "/.labsync.json") == markerTime, "nothing was applied")

            // A plan to bump alpha, then the host is changed by hand: stale, refused.
            try w.write("app.yaml", w.environment("app", packages: ["alpha==2.0"]))
            let bump = w.directory + "/bump.json"
            #expect(try await w.labsync("plan", ["--format", "json", "--out", bump]).status == 0)
            let bumpPlan = try JSONDecoder().decode(JSONPlan.self, from: Data(contentsOf: URL(fileURLWithPath: bump)))
            #expect(bumpPlan.summary == ["install PythonEnvironment/app [\"alpha==2.0\"]"])
            try w.pipByHand("app", ["install", "--no-index", "--find-links", w.wheels, "alpha==2.0"])
            let stale = try await w.labsync("apply", [bump, "--yes"])
            #expect(stale.status == 1)
            #expect(stale.stderrText.contains("stale"), "\(stale.stderrText)")
            #expect(w.marker("app")?.packages == ["alpha==1.0"], "the refused apply wrote nothing")
        }

        /// One environment's failure is reported (exit 1, the step and its
        /// output named) and does not stop the other environment of the host.
        @Test func aFailedEnvironmentDoesNotStopTheOthers() async throws {
            let w = try Workspace("failure")
            defer { w.cleanUp() }
            try w.write("envs.yaml", w.environment("good", packages: ["gamma"]) + "---\n"
                        + w.environment("broken", packages: ["no-such-package"]))
            let result = try await w.labsync("apply", ["--yes"])
            #expect(result.status == 1)
            #expect(result.stderrText.contains("failed: loopback: install PythonEnvironment/broken"), "\(result.stderrText)")
            #expect(result.stderrText.contains("no-such-package"), "pip's own words are shown: \(result.stderrText)")
            #expect(result.stdoutText.contains("Not converged"), "\(result.stdoutText)")
            #expect(w.packages("good") == ["gamma": "1.0"])
            #expect(w.marker("good")?.packages == ["gamma"])
            #expect(w.marker("broken")?.packages == [], "the failed install recorded nothing")
            let after = try await w.plan()
            #expect(after.plan.summary == ["install PythonEnvironment/broken [\"no-such-package\"]"])
        }

        /// A host that cannot be reached is named in the plan's headline (text,
        /// Markdown, JSON) and in apply's closing line, never hidden behind "No
        /// changes" or "0 step(s) remain"; the reachable host is still applied.
        @Test func anUnreachableHostIsNamedInEverySummary() async throws {
            let w = try Workspace("unreachable")
            defer { w.cleanUp() }
            let offlinePort = try SSHServer.freePort()  // nothing listens there
            try w.write("offline.yaml", contents(w.repo + "/host.yaml")
                .replacing("name: loopback", with: "name: offline").replacing(#/port: \d+/#, with: "port: \(offlinePort)"))
            try w.write("app.yaml", w.environment("app", packages: ["alpha==1.0"]))
            try w.write("far.yaml", w.environment("far", packages: ["alpha==1.0"]).replacing("host: loopback", with: "host: offline"))
            let quick = ["--connect-timeout", "2"]

            let text = try await w.labsync("plan", quick)
            #expect(text.status == 1)
            #expect(text.stdoutText.contains("Plan: 1 to add, 1 to change, 0 to remove; but host offline could not be observed"),
                    "\(text.stdoutText)")
            let markdown = try await w.labsync("plan", quick + ["--format", "markdown"])
            #expect(markdown.stdoutText.hasPrefix("**Plan: 1 to add, 1 to change, 0 to remove; but host offline could not be observed"),
                    "\(markdown.stdoutText)")
            let json = try await w.labsync("plan", quick + ["--format", "json"])
            let summary = (try JSONSerialization.jsonObject(with: Data(json.stdout)) as? [String: Any])?["summary"] as? [String: Any]
            #expect(summary?["unobservedHosts"] as? [String] == ["offline"], "\(json.stdoutText)")

            let applied = try await w.labsync("apply", quick + ["--yes"])
            #expect(applied.status == 1)
            #expect(applied.stdoutText.contains("Not converged: host offline could not be observed; run apply again"),
                    "\(applied.stdoutText)")
            #expect(!applied.stdoutText.contains("0 step(s)") && !applied.stdoutText.contains("Hosts match the specs"),
                    "\(applied.stdoutText)")
            #expect(w.packages("app") == ["alpha": "1.0"])

            // Only the unreachable host left: the plan says so instead of "No changes".
            let after = try await w.labsync("plan", quick)
            #expect(after.status == 1)
            #expect(after.stdoutText.contains("No changes for the hosts observed; but host offline could not be observed"),
                    "\(after.stdoutText)")
        }

        @Test func killedApplyIsFinishedByTheNextOne() async throws {
            let w = try Workspace("killed")
            defer { w.cleanUp() }
            try w.write("app.yaml", w.environment("app", packages: ["alpha==1.0", "gamma"]))

            // 1. labsync is SIGKILLed while a step runs. Its remote script lives on
            //    until it next writes to the dead connection; the next apply waits for
            //    its host lock if need be, and finishes the job.
            var output = w.directory + "/apply-1.out"
            var run = try Spawn.start(w.applyCommand(), stdoutPath: output, stderrPath: output)
            #expect(await waitUntil(timeout: 120) { contents(output).contains("loopback: + create-env PythonEnvironment/app…") },
                    "\(contents(output))")
            run.kill(SIGKILL)
            #expect(run.wait(timeout: 30) == 128 + SIGKILL)
            try await w.apply()
            #expect(w.packages("app") == ["alpha": "1.0", "gamma": "1.0"])
            #expect(try await w.plan().status == 0)

            // 2. Worse: the host-side processes die too (as in a reboot), leaving a
            //    half-created venv with no marker and no pip. The next apply must still
            //    converge.
            try w.write("second.yaml", w.environment("second", packages: ["gamma"]))
            let second = w.path(of: "second")
            output = w.directory + "/apply-2.out"
            run = try Spawn.start(w.applyCommand(), stdoutPath: output, stderrPath: output)
            #expect(await waitUntil(timeout: 120) { contents(output).contains("loopback: + create-env PythonEnvironment/second…") },
                    "\(contents(output))")
            // The venv's interpreter link exists: venv now bootstraps pip for seconds.
            #expect(await waitUntil(timeout: 60) { FileManager.default.fileExists(atPath: second + "/bin/python") })
            run.kill(SIGKILL)
            run.wait(timeout: 30)
            // The host lock's watcher (issue 11 #6) ends the host-side processes
            // with the client, so usually nothing is left to kill here; whatever
            // is, dies now, as in a reboot. Either way the venv is half made.
            _ = killProcesses(mentioning: second)
            #expect(FileManager.default.fileExists(atPath: second + "/pyvenv.cfg"))
            #expect(w.marker("second") == nil, "the creation was interrupted before its marker")
            try await w.apply()
            #expect(w.packages("second") == ["gamma": "1.0"])
            #expect(w.marker("second")?.spec == "second")
            #expect(try await w.plan().status == 0)
        }

        /// Holds the host lock while `a` and `b` apply, until both print `waiting`
        /// (so they certainly contend for it), lets go, and expects both to succeed.
        /// Returns their output files.
        func applyBothWhileTheLockIsHeld(_ a: Workspace, _ b: Workspace, waiting: String) async throws -> (String, String) {
            let lockDirectory = "/var/lock/labsync"
            try FileManager.default.createDirectory(atPath: lockDirectory, withIntermediateDirectories: true)
            let lock = open(lockDirectory + "/host.lock", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            try #require(lock >= 0)
            #expect(flock(lock, LOCK_EX) == 0)
            try "labsync scenario test holding the lock\n".write(toFile: lockDirectory + "/host.owner", atomically: false, encoding: .utf8)
            let outA = a.directory + "/apply.out", outB = b.directory + "/apply.out"
            let runA = try Spawn.start(a.applyCommand(), stdoutPath: outA, stderrPath: outA)
            let runB = try Spawn.start(b.applyCommand(), stdoutPath: outB, stderrPath: outB)
            let bothWaiting = await waitUntil(timeout: 60) { [outA, outB].allSatisfy { contents($0).contains(waiting) } }
            close(lock)
            #expect(bothWaiting, "\(contents(outA))\n\(contents(outB))")
            let statusA = runA.wait(timeout: 180), statusB = runB.wait(timeout: 180)
            #expect(statusA == 0, "\(contents(outA))")
            #expect(statusB == 0, "\(contents(outB))")
            return (outA, outB)
        }

        /// Issue 11 #7: two runs planned the same environment while a third party
        /// held the host lock. The first to get the lock creates it; the other's plan
        /// is stale by then: it plans again, finds nothing to do, and repeats nothing.
        @Test func aRunThatWaitedForTheLockPlansAgain() async throws {
            let a = try Workspace("replan-a"), b = try Workspace("replan-b")
            defer { a.cleanUp(); b.cleanUp() }
            let app = a.environment("app", packages: ["alpha==1.0"])
            try a.write("app.yaml", app)
            try b.write("app.yaml", app)  // the same environment, at the same path

            let (outA, outB) = try await applyBothWhileTheLockIsHeld(a, b, waiting: "loopback: waiting for the host lock")
            let created = [outA, outB].filter { contents($0).contains("loopback: + create-env PythonEnvironment/app") }
            #expect(created.count == 1, "exactly one run creates the venv:\n\(contents(outA))\n\(contents(outB))")
            #expect(a.packages("app") == ["alpha": "1.0"])
            #expect(try await a.plan().status == 0)
        }

        @Test func concurrentAppliesNeverInterleave() async throws {
            // Two spec repositories for one host, each with its own env, applied at once.
            let a = try Workspace("concurrent-a"), b = try Workspace("concurrent-b")
            defer { a.cleanUp(); b.cleanUp() }
            try a.write("first.yaml", a.environment("first", packages: ["alpha==1.0"]))
            try b.write("second.yaml", b.environment("second", packages: ["gamma"]))

            // The test holds the host lock itself while both start, so both are
            // certainly contending for it (not merely running one after the other);
            // then lets go.
            let (outA, outB) = try await applyBothWhileTheLockIsHeld(a, b, waiting: "loopback: waiting for the host lock, held by labsync scenario test")
            #expect(a.packages("first") == ["alpha": "1.0"])
            #expect(b.packages("second") == ["gamma": "1.0"])
            #expect(try await a.plan().status == 0)
            #expect(try await b.plan().status == 0)

            // On the host: each run's changes span from its venv's pyvenv.cfg (written
            // as `create-env` starts) to its marker (written after `install`, its last
            // step). The two spans must not overlap — each is seconds long, so
            // unlocked runs would overlap for sure.
            func span(_ w: Workspace, _ env: String) -> ClosedRange<Double>? {
                guard let start = modificationTime(w.path(of: env) + "/pyvenv.cfg"),
                      let end = modificationTime(w.path(of: env) + "/.labsync.json"), start <= end else { return nil }
                return start...end
            }
            let first = try #require(span(a, "first")), second = try #require(span(b, "second"))
            #expect(!first.overlaps(second), "first \(first), second \(second)")
        }
    }
}

/// SIGKILLs every process whose command line mentions `text` (the host is this
/// machine: these are the remote steps our own labsync started). Returns their pids.
@discardableResult
func killProcesses(mentioning text: String) -> [pid_t] {
    var killed: [pid_t] = []
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = pid_t(entry), pid != getpid(),
              let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
        let commandLine = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
        if commandLine.contains(text), kill(pid, SIGKILL) == 0 { killed.append(pid) }
    }
    return killed
}
