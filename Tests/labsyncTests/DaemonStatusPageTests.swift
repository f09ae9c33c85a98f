// The status page as people see it (issue 14): the real daemon against a real
// git repository, the loopback sshd host and a host that is down, rendered by
// headless Chromium at desktop and phone widths. One fixture holds every state
// of the shared vocabulary (issue 11 #14), and `/api/status` says the same.

import Foundation
import LabsyncTestSupport
import Testing

extension PipScenarios {
    @Suite(.serialized, .integration) struct StatusPage {
        @Test func everyStateWithDriftDetailRevisionsHistoryAndBothWidths() throws {
            let offlinePort = try SSHServer.freePort()  // nothing listens there
            let probe = try Workspace("daemon-page-probe")
            let offlineHost = contents(probe.repo + "/host.yaml")
                .replacing("name: loopback", with: "name: offline")
                .replacing(#/port: \d+/#, with: "port: \(offlinePort)")
            probe.cleanUp()
            let world = try DaemonWorld("page", files: ["offline.yaml": offlineHost])
            defer { world.cleanUp() }
            let w = world.w
            try world.git.commit(files: [
                "synced.yaml": w.environment("synced", packages: ["gamma"]),
                "hand.yaml": w.environment("hand", packages: ["alpha==1.0"]),
                "old.yaml": w.environment("old", packages: ["zeta"]),
                "far.yaml": w.environment("far", packages: ["gamma"]).replacing("host: loopback", with: "host: offline"),
            ], message: "three envs here, one far away")

            let commitURL = "https://git.example/course/-/commit/{sha}"
            let daemon = try world.start(["--interval", "1s", "--retry-base", "1s", "--retry-max", "2s", "--connect-timeout", "2",
                                          "--commit-url", commitURL])
            daemon.wait("the reachable host applied", timeout: 120) {
                ["synced", "hand", "old"].allSatisfy { daemon.state("loopback", "PythonEnvironment/\($0)") == "in-sync" }
            }
            #expect(w.packages("hand") == ["alpha": "1.0"])
            // Some history for the chart: an invalid revision, then a valid one applied.
            try world.git.commit(files: ["bad.yaml": "apiVersion: labsync/v1\nkind: PythonEnvironment\nmetadata: {name: bad}\nspec: {host: loopback, colour: blue}\n"],
                                 message: "broken")
            daemon.wait("the invalid revision recorded", timeout: 60) {
                try Self.runs(daemon).contains { $0["result"] as? String == "invalid" }
            }
            try world.git.commit(files: ["synced.yaml": w.environment("synced", packages: ["gamma", "eta"])], removing: ["bad.yaml"],
                                 message: "eta for synced")
            daemon.wait("eta applied", timeout: 120) {
                w.packages("synced")["eta"] == "1.0" && daemon.state("loopback", "PythonEnvironment/synced") == "in-sync"
            }

            // Suspended, so what follows stays to be looked at: alpha changed by hand,
            // `old`'s spec deleted, `later` added; the commit subject holds markup.
            #expect(try world.labsync(["suspend", "--reason", "screenshots"]).status == 0)
            try w.pipByHand("hand", ["install", "--no-index", "--find-links", try Scenario.wheels.get(), "alpha==2.0"])
            let subject = "drop old, add later <script>alert(1)</script> & friends"
            let head = try world.git.commit(files: ["later.yaml": w.environment("later", packages: ["delta"])],
                                            removing: ["old.yaml"], message: subject)
            let old = w.path(of: "old")
            daemon.wait("every state of the vocabulary shown", timeout: 90) {
                daemon.state("loopback", "PythonEnvironment/synced") == "in-sync"
                    && daemon.state("loopback", "PythonEnvironment/hand") == "drifted"
                    && daemon.state("loopback", "PythonEnvironment/later") == "changes-pending"
                    && daemon.state("loopback", old) == "orphaned"
                    && daemon.state("offline", "PythonEnvironment/far") == "unreachable"
            }
            // /api/status: the drifted package with both versions; the orphan is not "in sync".
            let hand = (try daemon.host("loopback")?["resources"] as? [[String: Any]])?
                .first { $0["resource"] as? String == "PythonEnvironment/hand" }
            let alpha = (hand?["packages"] as? [[String: Any]])?.first { $0["package"] as? String == "alpha" }
            #expect(alpha?["wanted"] as? String == "alpha==1.0" && alpha?["installed"] as? String == "2.0", "\(hand ?? [:])")
            let status = try daemon.status()
            #expect(status["lastAttemptedRevision"] as? String == head)
            #expect(status["lastAttemptedSubject"] as? String == subject)

            // The served HTML: the subject escaped, never markup; no external asset.
            let html = try HTTP.get(daemon.port, "/").text
            #expect(html.contains("drop old, add later &lt;script&gt;alert(1)&lt;/script&gt; &amp; friends"), "\(html)")
            #expect(!html.contains("<script>alert(1)"))
            #expect(!html.contains("src=\"http") && !html.contains("href=\"http://") && !html.contains("@import"),
                    "no external assets: \(html)")

            // Rendered by Chromium: every resource with its state, the drift in full.
            let url = "http://127.0.0.1:\(daemon.port)/"
            let runsBefore = try Self.runs(daemon)
            let dom = try Chromium.dumpDOM(url, width: 1280)
            let expected: [(String, String, String)] = [
                ("PythonEnvironment/synced", "in-sync", "in sync"),
                ("PythonEnvironment/hand", "drifted", "drifted"),
                ("PythonEnvironment/later", "changes-pending", "changes pending"),
                (old, "orphaned", "orphaned"),
                ("PythonEnvironment/far", "unreachable", "unreachable"),
            ]
            for (resource, state, words) in expected {
                let item = Self.element(in: dom, startingWith: "<li class=\"resource\" data-resource=\"\(resource)\"", until: "</li>")
                #expect(item?.contains("data-state=\"\(state)\"") == true, "\(resource): \(item ?? "missing")\n\(dom)")
                #expect(item?.contains(">\(words)</span>") == true, "\(resource): \(item ?? "missing")")
            }
            // Each resource on its own host's card only.
            let offlineCard = Self.element(in: dom, startingWith: "<section class=\"card host\" id=\"host-offline\"", until: "</section>")
            #expect(offlineCard?.contains("PythonEnvironment/far") == true && offlineCard?.contains(old) == false, "\(offlineCard ?? dom)")
            let row = Self.element(in: dom, startingWith: "<tr class=\"package\" data-package=\"alpha\"", until: "</tr>")
            #expect(row?.contains("<td class=\"wanted\"><code>alpha==1.0</code></td>") == true, "\(row ?? dom)")
            #expect(row?.contains("<td class=\"installed\"><code>2.0</code></td>") == true, "\(row ?? dom)")
            // Revisions: subject and a link made from --commit-url; relative times with the absolute one on hover.
            #expect(dom.contains("href=\"https://git.example/course/-/commit/\(head)\""), "\(dom)")
            #expect(dom.contains("data-revision=\"\(head)\""))
            #expect(dom.contains("not applied yet"))
            #expect(dom.contains(#/<time datetime="[0-9T:Z-]+" title="[0-9T:Z-]+">(just now|\d+ (s|min) ago)</time>/#), "\(dom)")
            // The history chart: one bar per run, at most 50, each a link to its run.
            let bars = dom.matches(of: #/<rect class="bar (succeeded|failed|no-changes|running|interrupted|invalid|cancelled)" data-run="\d+"/#).count
            #expect(bars >= min(runsBefore.count, 50) && bars <= 50 && bars >= 3, "\(bars) bars for \(runsBefore.count) runs")
            #expect(dom.contains("<rect class=\"bar invalid\""), "the invalid revision's run is in the chart")

            // Screenshots at both widths; at phone width the page does not scroll sideways.
            let wide = try Chromium.screenshot(url, name: "status-1280", width: 1280)
            let narrow = try Chromium.screenshot(url, name: "status-390", width: 390)
            #expect(FileManager.default.fileExists(atPath: wide) && FileManager.default.fileExists(atPath: narrow))
            let phone = try Chromium.dumpDOM(url + "?probe", width: 390)
            #expect(phone.contains("data-resource=\"PythonEnvironment/hand\""))

            // A run page: each step with its duration.
            let runID = try #require(runsBefore.compactMap { $0["id"] as? Int }.min(), "no run recorded")
            let runDOM = try Chromium.dumpDOM("http://127.0.0.1:\(daemon.port)/runs/\(runID)", width: 1280)
            let steps = runDOM.matches(of: #/<tr class="step" data-status="succeeded">.*?<td class="took"><span class="dur" style="--w:\d+%"></span>\d+\.\d s</td>/#).count
            #expect(steps >= 4, "create-env and install for synced, hand, old: \(runDOM)")
            try Chromium.screenshot("http://127.0.0.1:\(daemon.port)/runs/\(runID)", name: "run-1280", width: 1280)
            #expect(daemon.terminate() == 0)
        }

        /// `/api/runs`, newest first.
        static func runs(_ daemon: DaemonProcess) throws -> [[String: Any]] {
            let reply = try HTTP.get(daemon.port, "/api/runs?limit=1000")
            return try JSONSerialization.jsonObject(with: Data(reply.body)) as? [[String: Any]] ?? []
        }

        /// The text of the first element opening with `start`, up to `end`.
        static func element(in dom: String, startingWith start: String, until end: String) -> String? {
            guard let open = dom.range(of: start), let close = dom[open.upperBound...].range(of: end) else { return nil }
            return String(dom[open.lowerBound..<close.upperBound])
        }
    }
}
