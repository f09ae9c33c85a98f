// remove-user's call to the hub's REST API (Scripts/hub_remove_user.sh), run
// for real against a stand-in for the hub. A server that is being stopped (the
// idle culler, just then) makes JupyterHub answer 400 "in the process of
// stopping" until the stop is over; the hub end-to-end test hit it. The step
// waits for the stop instead of failing, and still fails on any other refusal.

import Foundation
import LabsyncTestSupport
import Testing

@Suite(.integration, .serialized) struct HubRemoveUserScriptTests {
    /// Answers each DELETE with the next status of argv[1] ("400,400,204"),
    /// JupyterHub's body for a 400; logs "DELETE <path> <auth> <status>".
    static let fakeHub = #"""
        import http.server
        import sys
        answers = [int(a) for a in sys.argv[1].split(",")]
        stopping = b'{"status": 400, "message": "ls-x\'s server is in the process of stopping, please wait."}'
        class Hub(http.server.BaseHTTPRequestHandler):
            def do_DELETE(self):
                code = answers.pop(0) if answers else 500
                body = stopping if code == 400 else b""
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                print("DELETE", self.path, self.headers.get("Authorization"), code, flush=True)
            def log_message(self, *args):
                pass
        server = http.server.HTTPServer(("127.0.0.1", 0), Hub)
        print("port", server.server_address[1], flush=True)
        server.serve_forever()
        """#

    /// Runs the script for `ls-x` (hub: yes, account: none) against a fake hub
    /// answering `answers`; returns the script's result and the hub's log.
    func removeUser(answers: String) throws -> (result: SpawnResult, requests: [String]) {
        let work = try Spawn.makeTempDirectory(prefix: "hub-remove-user")
        defer { try? FileManager.default.removeItem(atPath: work) }
        try FileManager.default.createDirectory(atPath: work + "/venv/bin", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: work + "/venv/bin/python", withDestinationPath: "/usr/bin/python3")
        try "t0ken\n".write(toFile: work + "/api_token", atomically: true, encoding: .utf8)
        let log = work + "/hub.log"
        let hub = try Spawn.start(["python3", "-u", "-c", Self.fakeHub, answers], stdoutPath: log, stderrPath: log)
        defer { hub.stop() }
        var port: Int?
        for _ in 0..<250 where port == nil {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            port = text.firstMatch(of: #/port (\d+)/#).flatMap { Int($0.1) }
            if port == nil { usleep(20_000) }
        }
        let hubPort = try #require(port, "the fake hub did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        let script = try String(contentsOf: LabsyncBinary.packageRoot
            .appendingPathComponent("Sources/Drivers/JupyterHub/Scripts/hub_remove_user.sh"), encoding: .utf8)
        // What HubScripts puts in front of the text, pointing here instead.
        let layout = "HUB_VENV='\(work)/venv'\nHUB_SECRETS='\(work)'\nHUB_API='http://127.0.0.1:\(hubPort)/hub/api'\n"
            + "HUB_ACCOUNTS='\(work)/accounts'\n"
        let result = try Spawn.run(["/bin/sh", "-c", layout + script, "labsync-remove-user", "ls-x", "1", "none"],
                                   timeout: 60)
        let requests = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
            .split(separator: "\n").filter { $0.hasPrefix("DELETE") }.map(String.init)
        return (result, requests)
    }

    @Test func aServerBeingStoppedIsWaitedFor() throws {
        let (result, requests) = try removeUser(answers: "400,400,204")
        #expect(result.status == 0, "\(result.stdoutText)\(result.stderrText)")
        #expect(result.stdoutText.contains("labsync: deleted ls-x from the hub"), "\(result.stdoutText)")
        #expect(requests == ["DELETE /hub/api/users/ls-x token t0ken 400", "DELETE /hub/api/users/ls-x token t0ken 400",
                             "DELETE /hub/api/users/ls-x token t0ken 204"])
    }

    @Test func anyOtherRefusalFailsAtOnce() throws {
        let (result, requests) = try removeUser(answers: "403")
        #expect(result.status != 0)
        #expect(result.stderrText.contains("labsync: the hub refused to delete ls-x: HTTP 403"), "\(result.stderrText)")
        #expect(requests.count == 1, "\(requests)")
    }
}
