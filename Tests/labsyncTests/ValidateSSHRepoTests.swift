import Foundation
import LabsyncTestSupport
import Testing

/// `labsync validate --repo ssh://…`: git over ssh through libgit2, with the
/// same host-key rules as hosts (trust on first use only when asked, a
/// changed key always refused). The git server is the test sshd.
@Suite(.serialized, .integration) struct ValidateSSHRepoTests {
    @Test func sshRepositoryIsReadAndAChangedServerKeyRefused() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let dir = try GitFixture.makeTemporaryDirectory(prefix: "validate-ssh")
        defer { GitFixture.removeTree(dir) }
        let quickstart = LabsyncBinary.packageRoot.appendingPathComponent("examples/quickstart")
        var files: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: quickstart.path) {
            files[name] = try String(contentsOf: quickstart.appendingPathComponent(name), encoding: .utf8)
        }
        let repo = try GitFixture.create(in: dir, files: files)
        let url = "ssh://root@127.0.0.1:\(server.port)\(repo.path)"
        let state = dir.appendingPathComponent("state").path
        let base = ["validate", "--repo", url, "--state-dir", state, "--git-identity-file", server.clientKeys.ed25519]

        // Unknown server key: refused, nothing recorded.
        let unknown = try await LabsyncBinary.runAsync(base)
        #expect(unknown.status == 1)
        #expect(unknown.stderrText.contains("SHA256:"), "\(unknown.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: state + "/known_hosts"))

        // Trust on first use, when asked: the key is recorded, the specs read.
        let accepted = try await LabsyncBinary.runAsync(base + ["--accept-new-host-keys"])
        #expect(accepted.status == 0, "\(accepted.stderrText)")
        #expect(accepted.stdoutText.contains("valid at \(try repo.headSHA().prefix(12))"))
        let recorded = try String(contentsOfFile: state + "/known_hosts", encoding: .utf8)
        #expect(recorded.contains("[127.0.0.1]:\(server.port)"))

        // Recorded: trusted without the flag, and a new commit is fetched.
        let next = try repo.commit(files: ["extra.yaml": "# nothing\n"], message: "second")
        let again = try await LabsyncBinary.runAsync(base)
        #expect(again.status == 0, "\(again.stderrText)")
        #expect(again.stdoutText.contains("valid at \(next.prefix(12))"))

        // The server's key "changes": swap the recorded key for another of the
        // same type. Refused, naming both fingerprints, even with the flag.
        let fields = recorded.split(separator: "\n").first!.split(separator: " ")
        let type = String(fields[1])
        let other = dir.appendingPathComponent("other").path
        try Spawn.check(["ssh-keygen", "-q", "-t", type.hasPrefix("ecdsa") ? "ecdsa" : "ed25519", "-N", "", "-f", other])
        let otherKey = try String(contentsOfFile: other + ".pub", encoding: .utf8).split(separator: " ")
        try "\(fields[0]) \(otherKey[0]) \(otherKey[1])\n".write(toFile: state + "/known_hosts", atomically: true, encoding: .utf8)
        let changed = try await LabsyncBinary.runAsync(base + ["--accept-new-host-keys"])
        #expect(changed.status == 1)
        #expect(changed.stderrText.contains("CHANGED"), "\(changed.stderrText)")
        #expect(changed.stderrText.components(separatedBy: "SHA256:").count >= 3, "both fingerprints: \(changed.stderrText)")
    }
}
