// Issue 11 #17: `labsync daemon --repo WORKTREE` without --ref follows the branch
// checked out in the work tree, and says so in its log. No sshd: the one host
// is unreachable (nothing listens on its port), which the daemon survives.

import Foundation
import LabsyncTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.integration, .serialized) struct DaemonWorkTreeTests {
    /// A work tree on branch `course` holding one host (unreachable) and one environment.
    static func makeWorkTree(_ directory: URL) throws -> GitFixture {
        let offline = try SSHServer.freePort()
        return try GitFixture.create(in: directory, branch: "course", files: [
            "specs.yaml": """
                apiVersion: labsync/v1
                kind: Host
                metadata: {name: offline}
                spec: {address: 127.0.0.1, port: \(offline), user: root}
                ---
                apiVersion: labsync/v1
                kind: PythonEnvironment
                metadata: {name: app}
                spec: {host: offline, python: "3", packages: ["alpha==1.0"]}

                """,
        ])
    }

    @Test func followsTheCheckedOutBranchAndSaysSo() throws {
        let directory = URL(fileURLWithPath: try Spawn.makeTempDirectory(prefix: "daemon-worktree"))
        defer { GitFixture.removeTree(directory) }
        let git = try Self.makeWorkTree(directory)
        let head = try git.headSHA()
        let port = try SSHServer.freePort()
        let log = directory.path + "/daemon.log"
        let daemon = try Spawn.start(
            [LabsyncBinary.path, "daemon", "--repo", git.workDirectory.path, "--state-dir", directory.path + "/state",
             "--listen", "127.0.0.1:\(port)", "--interval", "10m", "--connect-timeout", "2"],
            stdoutPath: log, stderrPath: log)
        defer {
            if daemon.isRunning { daemon.kill(SIGKILL) }
            _ = daemon.wait(timeout: 10)
        }
        var status: [String: Any] = [:]
        let applied = waitUntil(timeout: 60) {
            guard let reply = try? HTTP.get(port, "/api/status"), reply.status == 200,
                  let object = try? JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any] else { return false }
            status = object
            return object["lastAppliedRevision"] as? String == head
        }
        #expect(applied, "the work tree's head was never applied: \(status)\n\(contents(log))")
        #expect(status["ref"] as? String == "course", "\(status)")
        #expect(contents(log).contains("no --ref given: following branch 'course', checked out in the work tree \(git.workDirectory.path)"),
                "\(contents(log))")
        daemon.kill(SIGTERM)
        #expect(daemon.wait(timeout: 60) == 0, "\(contents(log))")
    }

    @Test func aDetachedHeadNeedsRef() throws {
        let directory = URL(fileURLWithPath: try Spawn.makeTempDirectory(prefix: "daemon-detached"))
        defer { GitFixture.removeTree(directory) }
        let git = try Self.makeWorkTree(directory)
        try git.git("checkout", "--quiet", "--detach")
        let result = try LabsyncBinary.run(["daemon", "--repo", git.workDirectory.path, "--state-dir", directory.path + "/state",
                                            "--listen", "127.0.0.1:0"], timeout: 60)
        #expect(result.status == 1)
        #expect(result.stderrText.contains("detached HEAD") && result.stderrText.contains("--ref"), "\(result.stderrText)")

        // A plain directory (no git at all) is still refused.
        let plain = directory.path + "/plain"
        try FileManager.default.createDirectory(atPath: plain, withIntermediateDirectories: true)
        let refused = try LabsyncBinary.run(["daemon", "--repo", plain, "--state-dir", directory.path + "/state",
                                             "--listen", "127.0.0.1:0"], timeout: 60)
        #expect(refused.status == 1)
        #expect(refused.stderrText.contains("plain directory"), "\(refused.stderrText)")
    }
}
