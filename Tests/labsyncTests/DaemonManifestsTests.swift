// `labsync daemon --manifests DIR` keeps the Kubernetes hubs' directory in step
// with the followed branch. No host and no cluster: the repository holds only the
// example course hub; the daemon is the real process, the repository a real git work tree.

import Foundation
import LabsyncTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.integration, .serialized) struct DaemonManifestsTests {
    @Test func theDaemonWritesTheHubsFilesFollowsACommitAndAPlanAfterwardsFindsNothingToDo() throws {
        let directory = URL(fileURLWithPath: try Spawn.makeTempDirectory(prefix: "daemon-manifests"))
        defer { GitFixture.removeTree(directory) }
        let hub = try String(contentsOf: LabsyncBinary.packageRoot.appendingPathComponent("examples/k8s-course/hub.yaml"), encoding: .utf8)
        let git = try GitFixture.create(in: directory, branch: "main", files: ["hub.yaml": hub])
        let head = try git.headSHA()
        let manifests = directory.appendingPathComponent("gitops")
        let state = directory.appendingPathComponent("state")
        let port = try SSHServer.freePort()
        let log = directory.path + "/daemon.log"
        let daemon = try Spawn.start(
            [LabsyncBinary.path, "daemon", "--repo", git.workDirectory.path, "--state-dir", state.path,
             "--listen", "127.0.0.1:\(port)", "--interval", "1s", "--manifests", manifests.path],
            stdoutPath: log, stderrPath: log)
        defer {
            if daemon.isRunning { daemon.kill(SIGKILL) }
            _ = daemon.wait(timeout: 10)
        }
        let release = manifests.appendingPathComponent("ml101/ml101-hub/helmrelease.yaml")
        let applied = waitUntil(timeout: 60) {
            guard FileManager.default.fileExists(atPath: release.path),
                  let reply = try? HTTP.get(port, "/api/status"), reply.status == 200,
                  let object = try? JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any] else { return false }
            return object["lastAppliedRevision"] as? String == head
        }
        #expect(applied, "the daemon never wrote the manifests:\n\(contents(log))")
        // A commit that shortens the culling timeout reaches the directory on the next pass.
        #expect(contents(release.path).contains("timeout: 3600"))
        let next = try git.commit(files: ["hub.yaml": hub.replacingOccurrences(of: "idleCulling: {timeout: 1h,", with: "idleCulling: {timeout: 30m,")],
                                  message: "shorter culling")
        let followed = waitUntil(timeout: 60) {
            guard let reply = try? HTTP.get(port, "/api/status"), reply.status == 200,
                  let object = try? JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any] else { return false }
            return object["lastAppliedRevision"] as? String == next
        }
        #expect(followed, "the daemon never applied the second commit:\n\(contents(log))")
        #expect(contents(release.path).contains("timeout: 1800"), "\(contents(release.path))")
        daemon.kill(SIGTERM)
        #expect(daemon.wait(timeout: 60) == 0, "\(contents(log))")
        let plan = try LabsyncBinary.run(["plan", "--repo", git.workDirectory.path, "--state-dir", state.path,
                                          "--manifests", manifests.path, "--detailed-exitcode"], timeout: 120)
        #expect(plan.status == 0, "\(plan.stdoutText)\(plan.stderrText)")
    }
}
