import Foundation
import LabsyncTestSupport
import Testing

/// `labsync hosts check` against the real sshd of the test harness.
@Suite(.serialized, .integration) struct HostsCheckCommandTests {
    func specs(port: Int, keys: [String], identity: String, user: String = SSHServer.user) -> String {
        """
        apiVersion: labsync/v1
        kind: Host
        metadata: {name: loopback}
        spec:
          address: 127.0.0.1
          port: \(port)
          user: \(user)
          become: sudo
          identityFile: \(identity)
          hostKeys: [\(keys.map { "\"\($0)\"" }.joined(separator: ", "))]

        """
    }

    func repo(_ text: String) throws -> URL {
        let dir = try GitFixture.makeTemporaryDirectory(prefix: "hosts-check")
        try text.write(to: dir.appendingPathComponent("hosts.yaml"), atomically: true, encoding: .utf8)
        return dir
    }

    @Test func reachableHostPrintsItsFacts() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let dir = try repo(specs(port: server.port, keys: server.hostKeyLines, identity: server.clientKeys.ed25519))
        defer { GitFixture.removeTree(dir) }
        let result = try await LabsyncBinary.runAsync(["hosts", "check", "--repo", dir.path, "--state-dir", dir.path + "/state"])
        #expect(result.status == 0, "\(result.stderrText)")
        let lines = result.stdoutText.split(separator: "\n")
        #expect(lines.first?.hasPrefix("HOST") == true)
        let row = try #require(lines.first { $0.hasPrefix("loopback") }).description
        let osName = try String(contentsOfFile: "/etc/os-release", encoding: .utf8)
            .split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }?
            .dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        #expect(row.contains(try #require(osName)), "\(row)")
        #expect(row.contains("passwordless"), "\(row)")
        #expect(row.contains(" ms"))
        #expect(row.range(of: #"\b3\.\d+\.\d+\b"#, options: .regularExpression) != nil, "python3 version in \(row)")
    }

    /// Reachable, but `become: sudo` with a sudo that asks for a password:
    /// apply would fail there, so the check fails, naming the host and why.
    @Test func sudoNeedingAPasswordFailsTheCheck() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let dir = try repo(specs(port: server.port, keys: server.hostKeyLines, identity: server.clientKeys.ed25519,
                                 user: SSHServer.noPasswordSudoUser))
        defer { GitFixture.removeTree(dir) }
        let result = try await LabsyncBinary.runAsync(["hosts", "check", "--repo", dir.path, "--state-dir", dir.path + "/state"])
        #expect(result.status == 1, "\(result.stdoutText)")
        #expect(result.stdoutText.contains("password-required"), "\(result.stdoutText)")
        #expect(result.stderrText.contains("error: loopback: become: sudo, but sudo asks \(SSHServer.noPasswordSudoUser) for a password"),
                "\(result.stderrText)")
    }

    @Test func closedPortFailsWithTheReason() async throws {
        let port = try SSHServer.freePort()  // nothing listens there
        let dir = try repo(specs(port: port, keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"],
                                 identity: "/nonexistent"))
        defer { GitFixture.removeTree(dir) }
        let result = try await LabsyncBinary.runAsync(["hosts", "check", "--repo", dir.path, "--connect-timeout", "3",
                                            "--state-dir", dir.path + "/state"])
        #expect(result.status == 1)
        #expect(result.stderrText.contains("loopback:"), "\(result.stderrText)")
        #expect(result.stderrText.contains("127.0.0.1:\(port)"), "\(result.stderrText)")
    }

    @Test func unknownHostKeyIsRefusedUntilAcceptedThenRecorded() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        // No pinned key, an empty known_hosts: the key is unknown.
        let dir = try repo("""
            apiVersion: labsync/v1
            kind: Host
            metadata: {name: loopback}
            spec: {address: 127.0.0.1, port: \(server.port), user: \(SSHServer.user), identityFile: \(server.clientKeys.ed25519), knownHostsFile: /dev/null}

            """)
        defer { GitFixture.removeTree(dir) }
        let state = dir.path + "/state"
        let refused = try await LabsyncBinary.runAsync(["hosts", "check", "--repo", dir.path, "--state-dir", state])
        #expect(refused.status == 1)
        #expect(refused.stderrText.contains("SHA256:"), "\(refused.stderrText)")
        #expect(refused.stderrText.contains("hostKeys:"), "\(refused.stderrText)")

        let accepted = try await LabsyncBinary.runAsync(["hosts", "check", "--repo", dir.path, "--state-dir", state, "--accept-new-host-keys"])
        #expect(accepted.status == 0, "\(accepted.stderrText)")
        let recorded = try String(contentsOfFile: state + "/known_hosts", encoding: .utf8)
        #expect(recorded.contains("[127.0.0.1]:\(server.port)"))

        // Recorded: trusted from now on without the flag.
        let again = try await LabsyncBinary.runAsync(["hosts", "check", "--repo", dir.path, "--state-dir", state])
        #expect(again.status == 0, "\(again.stderrText)")
    }
}
