// The GitOps daemon end to end: the real `labsync daemon` process, a real bare git
// repository, the loopback sshd host, real venvs built from tiny wheels.
//
// Nested in the serialized pip scenarios: every apply on this machine takes the
// same host lock, and these tests time what the daemon does.

import Foundation
import LabsyncTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension PipScenarios {
    @Suite(.serialized, .integration) struct Daemon {
        /// Pushes applied within an interval; an invalid push rejected (once) while the
        /// last good revision stays; drift corrected; suspend/resume; metrics move;
        /// then the webhook (GitHub HMAC and GitLab token) with a long interval.
        @Test func followsTheRepository() throws {
            let world = try DaemonWorld("follow", files: [:])
            defer { world.cleanUp() }
            let w = world.w
            let rev1 = try world.git.commit(files: ["app.yaml": w.environment("app", packages: ["alpha==1.0"])], message: "app")

            var daemon = try world.start(["--interval", "2s", "--retry-base", "1s"])
            daemon.wait("the first revision applied", timeout: 90) {
                daemon.applied() == rev1 && daemon.state("loopback", "PythonEnvironment/app") == "in-sync"
            }
            #expect(w.packages("app") == ["alpha": "1.0"])
            #expect(try HTTP.get(daemon.port, "/readyz").status == 200)

            // A pushed commit that adds a package: applied within an interval.
            let rev2 = try world.git.commit(files: ["app.yaml": w.environment("app", packages: ["alpha==1.0", "gamma"])], message: "gamma")
            daemon.wait("gamma applied", timeout: 90) { daemon.applied() == rev2 && w.packages("app")["gamma"] == "1.0" }

            // Drift made by hand: restored by the next interval.
            try w.pipByHand("app", ["uninstall", "--yes", "gamma"])
            daemon.wait("gamma restored", timeout: 90) { w.packages("app")["gamma"] == "1.0" }

            // An invalid commit (one bad document) that would also add delta: nothing
            // is applied, the status shows applied ≠ attempted with the error, and the
            // bad revision is not retried in a loop.
            let rev3 = try world.git.commit(files: [
                "app.yaml": w.environment("app", packages: ["alpha==1.0", "gamma", "delta"]),
                "bad.yaml": "apiVersion: labsync/v1\nkind: PythonEnvironment\nmetadata: {name: bad}\nspec: {host: loopback, colour: blue}\n",
            ], message: "broken")
            daemon.wait("the invalid revision attempted", timeout: 30) { (try daemon.status())["lastAttemptedRevision"] as? String == rev3 }
            usleep(5_000_000)  // two more intervals
            let status = try daemon.status()
            #expect(status["lastAppliedRevision"] as? String == rev2)
            #expect(status["lastAttemptedRevision"] as? String == rev3)
            let error = status["lastAttemptError"] as? String ?? ""
            #expect(error.contains("bad.yaml") && error.contains("colour"), "\(error)")
            #expect(w.packages("app")["delta"] == nil, "an invalid revision must not be applied")
            #expect(daemon.state("loopback", "PythonEnvironment/app") == "in-sync", "rev2's specs stay in force")
            let history = try world.labsync(["history", "--json", "--limit", "100"])
            let runs = try JSONSerialization.jsonObject(with: Data(history.stdout)) as? [[String: Any]] ?? []
            #expect(runs.filter { $0["revision"] as? String == rev3 }.map { $0["result"] as? String } == ["invalid"],
                    "the bad revision is recorded once, not retried: \(history.stdoutText)")
            let page = try HTTP.get(daemon.port, "/")
            #expect(page.text.contains("colour") && page.text.contains(rev3) && page.text.contains("id=\"attempt-error\""))

            // Metrics: well-formed text exposition, and counters that moved with the runs.
            let metrics = try PrometheusText(try HTTP.get(daemon.port, "/metrics").text)
            #expect(metrics.types["labsync_runs_total"] == "counter")
            #expect((metrics.value("labsync_runs_total", ["result": "succeeded"]) ?? 0) >= 3, "\(metrics.samples)")
            #expect(metrics.value("labsync_runs_total", ["result": "invalid"]) == 1)
            #expect((metrics.value("labsync_steps_total", ["action": "install", "result": "succeeded"]) ?? 0) >= 3)
            #expect(metrics.value("labsync_last_applied_revision_info", ["revision": rev2]) == 1)
            #expect(metrics.value("labsync_last_attempted_revision_info", ["revision": rev3, "valid": "false"]) == 1)
            #expect(metrics.value("labsync_drifted_resources") == 0)
            #expect((metrics.value("labsync_last_successful_reconcile_timestamp_seconds") ?? 0) > Date().timeIntervalSince1970 - 60)
            #expect((metrics.value("labsync_reconcile_duration_seconds_count") ?? 0) >= 3)

            // Suspended: drift is seen, not repaired; resumed: repaired.
            #expect(try world.labsync(["suspend", "--reason", "maintenance"]).status == 0)
            try w.pipByHand("app", ["uninstall", "--yes", "gamma"])
            daemon.wait("drift seen while suspended", timeout: 30) {
                (try daemon.status())["suspended"] as? Bool == true && daemon.state("loopback", "PythonEnvironment/app") == "drifted"
            }
            usleep(3_000_000)
            #expect(w.packages("app")["gamma"] == nil, "suspended: nothing is changed")
            #expect(try HTTP.get(daemon.port, "/").text.contains("maintenance"))
            #expect(try world.labsync(["resume"]).status == 0)
            daemon.wait("gamma restored after resume", timeout: 90) { w.packages("app")["gamma"] == "1.0" }

            #expect(daemon.terminate() == 0, "\(contents(daemon.log).suffix(2000))")

            // The webhook, with an interval too long to matter. The secret comes from
            // the environment; a wrong signature changes nothing.
            daemon = try world.start(["--interval", "10m", "--webhook-secret-env", "HOOK_SECRET"], env: ["HOOK_SECRET": "hook-s3cret"])
            daemon.wait("the restarted daemon keeps rev2 in force", timeout: 30) {
                try daemon.applied() == rev2 && daemon.status()["lastAttemptedRevision"] as? String == rev3
            }
            let rev4 = try world.git.commit(files: ["app.yaml": w.environment("app", packages: ["alpha==1.0", "gamma", "delta"])],
                                            removing: ["bad.yaml"], message: "fixed")
            let body = Array(#"{"ref":"refs/heads/main","after":"\#(rev4)"}"#.utf8)
            let wrong = try HTTP.post(daemon.port, "/hooks/git", headers: ["X-Hub-Signature-256": "sha256=" + String(repeating: "0", count: 64)], body: body)
            #expect(wrong.status == 401)
            let unsigned = try HTTP.post(daemon.port, "/hooks/git", body: body)
            #expect(unsigned.status == 401)
            usleep(1_000_000)
            #expect(daemon.applied() == rev2, "an unauthenticated hook triggers nothing")
            let signed = try HTTP.post(daemon.port, "/hooks/git",
                                       headers: ["X-Hub-Signature-256": "sha256=" + (try hmacHex(key: "hook-s3cret", body: body)),
                                                 "X-GitHub-Event": "push"], body: body)
            #expect(signed.status == 202, "\(signed.text)")
            daemon.wait("rev4 applied at once on the GitHub webhook", timeout: 90) {
                daemon.applied() == rev4 && w.packages("app")["delta"] == "1.0"
            }
            let status4 = try daemon.status()
            #expect(status4["lastAttemptedRevision"] as? String == rev4 && status4["lastAttemptError"] == nil)

            let rev5 = try world.git.commit(files: ["app.yaml": w.environment("app", packages: ["alpha==1.0", "gamma"], extra: ["unmanaged: remove"])],
                                            message: "drop delta")
            #expect(try HTTP.post(daemon.port, "/hooks/git", headers: ["X-Gitlab-Token": "nope"], body: body).status == 401)
            #expect(try HTTP.post(daemon.port, "/hooks/git", headers: ["X-Gitlab-Token": "hook-s3cret", "X-Gitlab-Event": "Push Hook"], body: body).status == 202)
            daemon.wait("rev5 applied at once on the GitLab webhook", timeout: 90) {
                daemon.applied() == rev5 && w.packages("app")["delta"] == nil
            }
            #expect(daemon.terminate() == 0)
            #expect(!contents(world.w.state + "/journal.sqlite").contains("hook-s3cret"))
        }

        /// A host that is down: the other host is applied; the down one is retried
        /// after 1 s, 2 s, 4 s… and shown failed.
        @Test func aDownHostIsRetriedWithBackoffWithoutHoldingBackOthers() throws {
            let offlinePort = try SSHServer.freePort()  // nothing listens there
            let probe = try Workspace("daemon-backoff-probe")
            let offlineHost = contents(probe.repo + "/host.yaml")
                .replacing("name: loopback", with: "name: offline")
                .replacing(#/port: \d+/#, with: "port: \(offlinePort)")
            probe.cleanUp()
            let world = try DaemonWorld("backoff", files: ["offline.yaml": offlineHost])
            defer { world.cleanUp() }
            let w = world.w
            try world.git.commit(files: [
                "app.yaml": w.environment("app", packages: ["alpha==1.0"]),
                "far.yaml": w.environment("far", packages: ["gamma"]).replacing("host: loopback", with: "host: offline"),
            ], message: "two hosts")
            let daemon = try world.start(["--interval", "10m", "--retry-base", "1s", "--retry-max", "4s", "--connect-timeout", "2"])
            daemon.wait("loopback applied although offline is down", timeout: 90) {
                daemon.state("loopback", "PythonEnvironment/app") == "in-sync"
            }
            #expect(w.packages("app") == ["alpha": "1.0"])

            // Watch the offline host's failures and the delay before each retry.
            var seen: [Int: Double] = [:]
            let deadline = Date().addingTimeInterval(40)
            while Date() < deadline && (seen[4] == nil) {
                if let host = try? daemon.host("offline"), let failures = host["consecutiveFailures"] as? Int,
                   let delay = host["retryDelaySeconds"] as? Double {
                    seen[failures] = delay
                    #expect(host["state"] as? String == "failed")
                    #expect((host["error"] as? String ?? "").contains("\(offlinePort)") || (host["error"] as? String ?? "").lowercased().contains("connect"),
                            "\(host)")
                }
                usleep(200_000)
            }
            #expect(seen[1] == 1 && seen[2] == 2 && seen[3] == 4 && seen[4] == 4, "failures → retry delay: \(seen.sorted { $0.key < $1.key })")
            #expect(daemon.state("offline", "PythonEnvironment/far") == "unreachable")
            #expect(daemon.state("loopback", "PythonEnvironment/app") == "in-sync")
            let metrics = try PrometheusText(try HTTP.get(daemon.port, "/metrics").text)
            #expect((metrics.value("labsync_host_consecutive_failures", ["host": "offline"]) ?? 0) >= 3)
            #expect(metrics.value("labsync_host_consecutive_failures", ["host": "loopback"]) == 0)
            #expect(daemon.terminate() == 0)
        }

        /// SIGTERM when the running apply outlasts --shutdown-timeout: the daemon
        /// still exits 0, the run is recorded interrupted with its lines, and the
        /// next start converges.
        @Test func shutdownTimeoutInterruptsTheRunAndTheNextStartConverges() throws {
            let world = try DaemonWorld("interrupt", files: [:])
            defer { world.cleanUp() }
            let w = world.w
            try world.git.commit(files: ["app.yaml": w.environment("app", packages: ["alpha==1.0", "gamma"])], message: "app")
            let daemon = try world.start(["--interval", "10m", "--shutdown-timeout", "200ms"])
            var runID = 0
            daemon.wait("create-env under way", timeout: 120) {
                runID = (try daemon.status())["runningRun"] as? Int ?? 0
                let log = try HTTP.get(daemon.port, "/api/runs/\(runID)/log?format=text").text
                return runID > 0 && log.contains("create-env")
            }
            #expect(daemon.terminate(timeout: 30) == 0, "\(contents(daemon.log).suffix(3000))")
            let logs = try world.labsync(["logs", "\(runID)"])
            #expect(logs.stdoutText.contains("create-env PythonEnvironment/app"), "\(logs.stdoutText)")
            #expect(logs.stdoutText.contains("run \(runID): interrupted"), "\(logs.stdoutText)")

            let again = try world.start(["--interval", "10m"])
            again.wait("converged after the interrupted run", timeout: 120) {
                let idle = try again.status()["runningRun"] == nil
                return idle && again.state("loopback", "PythonEnvironment/app") == "in-sync"
            }
            #expect(w.packages("app") == ["alpha": "1.0", "gamma": "1.0"])
            #expect(again.terminate() == 0)
        }

        /// A live run seen from the CLI (`logs`, `logs --follow`), the API (SSE) and
        /// headless Chromium; SIGTERM in the middle of it lets it finish and exits 0;
        /// the next start converges.
        @Test func liveRunPagesLogsAndSIGTERM() throws {
            let world = try DaemonWorld("live", files: [:])
            defer { world.cleanUp() }
            let w = world.w
            try world.git.commit(files: [
                "one.yaml": w.environment("one", packages: ["alpha==1.0"]),
                "two.yaml": w.environment("two", packages: ["gamma"]),
                "three.yaml": w.environment("three", packages: ["zeta"]),
                "four.yaml": w.environment("four", packages: ["beta"]),
                "five.yaml": w.environment("five", packages: ["delta"]),
            ], message: "five envs")
            // One environment at a time: a run of several seconds to watch.
            let daemon = try world.start(["--interval", "10m", "--env-parallelism", "1", "--shutdown-timeout", "90s"])
            var runID = 0
            daemon.wait("a run in progress", timeout: 120) {
                runID = (try daemon.status())["runningRun"] as? Int ?? 0
                return runID > 0
            }
            try #require(runID > 0)
            // Some output of the first step before looking.
            daemon.wait("the first lines of the run", timeout: 120) {
                try HTTP.get(daemon.port, "/api/runs/\(runID)/log?format=text").text.contains("create-env")
            }

            // The run page while it runs: steps and lines in the DOM, live via SSE.
            let dom = try Chromium.dumpDOM("http://127.0.0.1:\(daemon.port)/runs/\(runID)")
            #expect(dom.contains("id=\"log\""), "\(dom)")
            #expect(dom.contains("create-env PythonEnvironment/"), "\(dom)")
            #expect(dom.contains("class=\"line"), "\(dom)")
            #expect(dom.contains("id=\"run-result\">running<"), "\(dom)")
            #expect(dom.contains("<pre id=\"log\" data-run=\"\(runID)\" data-after=\""), "\(dom)")
            #expect(dom.contains("new EventSource('/api/runs/' + run + '/log?after='"), "the page follows the log live: \(dom)")
            try Chromium.screenshot("http://127.0.0.1:\(daemon.port)/runs/\(runID)", name: "daemon-live-run")

            // `labsync logs` of the running run, and a follower to the end.
            let partial = try world.labsync(["logs", "\(runID)"])
            #expect(partial.status == 0)
            #expect(partial.stdoutText.contains("still running") || partial.stdoutText.contains("succeeded"), "\(partial.stdoutText)")
            let followOut = w.directory + "/follow.out"
            let follower = try Spawn.start([LabsyncBinary.path, "logs", "\(runID)", "--follow", "--state-dir", w.state],
                                           stdoutPath: followOut, stderrPath: followOut)

            // SIGTERM in the middle of the apply: the run finishes, the daemon exits 0.
            #expect((try daemon.status())["runningRun"] as? Int == runID, "the run ended before SIGTERM; make it longer")
            #expect(daemon.terminate(timeout: 120) == 0, "\(contents(daemon.log).suffix(3000))")
            #expect(follower.wait(timeout: 30) == 0, "\(contents(followOut))")
            let full = try world.labsync(["logs", "\(runID)"])
            #expect(full.status == 0)
            let finishedLines = full.stdoutText.split(separator: "\n").filter { $0.contains("│") || $0.contains(": ") }
            #expect(full.stdoutText.contains("run \(runID): succeeded"), "\(full.stdoutText)")
            #expect(full.stdoutText.contains("Successfully installed"), "\(full.stdoutText)")
            // The follower saw every line the finished run has.
            let followed = contents(followOut)
            for line in finishedLines where line.contains("│") { #expect(followed.contains(line), "missing in --follow: \(line)") }

            // The next start converges (nothing left to do) and shows it.
            let again = try world.start(["--interval", "10m"])
            again.wait("all in sync after restart", timeout: 60) {
                ["one", "two", "three", "four", "five"].allSatisfy { again.state("loopback", "PythonEnvironment/\($0)") == "in-sync" }
            }
            #expect(w.packages("one") == ["alpha": "1.0"] && w.packages("two") == ["gamma": "1.0"] && w.packages("three") == ["zeta": "1.0", "eta": "1.0"])
            let sse = try HTTP.events(again.port, "/api/runs/\(runID)/log", timeout: 10)
            #expect(sse.end == "succeeded")
            #expect(sse.data.contains { $0.contains("Successfully installed") })
            let status = try Chromium.dumpDOM("http://127.0.0.1:\(again.port)/")
            #expect(status.contains("data-host=\"loopback\""), "\(status)")
            #expect(status.contains("PythonEnvironment/three") && status.contains(">in sync<"), "\(status)")
            #expect(status.contains("data-run=\"\(runID)\""), "\(status)")
            try Chromium.screenshot("http://127.0.0.1:\(again.port)/", name: "daemon-status")
            #expect(again.terminate() == 0)
        }
    }
}
