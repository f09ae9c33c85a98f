import Foundation
import LabsyncTestSupport
import Testing
@testable import Remote

/// Connecting, host keys and authentication against a real sshd on loopback.
@Suite(.integration) struct SSHAuthTests {
    @Test(arguments: ["ed25519", "ecdsa"])
    func keyAuthentication(type: String) async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let key = type == "ed25519" ? server.clientKeys.ed25519 : server.clientKeys.ecdsa
        let ssh = SSHTransport(endpoint: server.endpoint(identity: key))
        let result = try await ssh.run(RemoteCommand("id", ["-un"]))
        #expect(result.succeeded)
        #expect(result.stdoutText == "\(SSHServer.user)\n", "\(server.log())")
        await ssh.close()
    }

    @Test func rsaIdentityIsRefusedWithTheReason() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let ssh = SSHTransport(endpoint: server.endpoint(identity: server.clientKeys.rsa))
        let error = try #require(await remoteError { try await ssh.connect() })
        #expect(error.kind == .unsupportedKey)
        #expect(error.message.contains("SHA-1"))
        #expect(error.message.contains("ssh-keygen -t ed25519"))
        #expect(error.description.contains("127.0.0.1:\(server.port)"))
        // Refused before trying: sshd never saw an RSA attempt.
        #expect(!server.log().contains("RSA SHA256"))
    }

    @Test func encryptedKeyUsesThePassphraseVariable() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let variable = "LABSYNC_TEST_PASSPHRASE_\(UInt32.random(in: 0...UInt32.max))"
        var endpoint = server.endpoint(identity: server.clientKeys.ed25519Encrypted)
        endpoint.passphraseEnvVar = variable

        let missing = try #require(await remoteError { try await SSHTransport(endpoint: endpoint).connect() })
        #expect(missing.kind == .authentication)
        #expect(missing.message.contains(variable))

        setenv(variable, server.clientKeys.passphrase, 1)
        defer { unsetenv(variable) }
        let result = try await SSHTransport(endpoint: endpoint).run(RemoteCommand("true"))
        #expect(result.succeeded)
    }

    @Test func agentAuthentication() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let dir = try Spawn.makeTempDirectory(prefix: "agent")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let socket = dir + "/agent.sock"
        let agent = try Spawn.start(["ssh-agent", "-D", "-a", socket])
        defer { agent.stop() }
        // The socket file appears at bind(), a moment before the agent listens:
        // retry until the key is added (a loaded machine widens that moment).
        var added = try Spawn.run(["ssh-add", "-q", server.clientKeys.ecdsa], env: ["SSH_AUTH_SOCK": socket])
        for _ in 0..<100 where added.status != 0 {
            try await Task.sleep(for: .milliseconds(100))
            added = try Spawn.run(["ssh-add", "-q", server.clientKeys.ecdsa], env: ["SSH_AUTH_SOCK": socket])
        }
        #expect(added.status == 0, "ssh-add: \(added.stderrText)")

        var endpoint = server.endpoint(useAgent: true, agentSocket: socket)
        endpoint.identityFile = nil
        let result = try await SSHTransport(endpoint: endpoint).run(RemoteCommand("id", ["-un"]))
        #expect(result.stdoutText == "\(SSHServer.user)\n")

        // An agent without keys: a clear authentication error.
        try Spawn.check(["ssh-add", "-D", "-q"], env: ["SSH_AUTH_SOCK": socket])
        let error = try #require(await remoteError { try await SSHTransport(endpoint: endpoint).connect() })
        #expect(error.kind == .authentication)
        #expect(error.message.contains("agent"))
    }

    @Test func pinnedKeyOfEitherTypeIsAccepted() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        // The server has ed25519 and ECDSA keys; pinning either one must work.
        for line in server.hostKeyLines {
            let policy = HostKeyPolicy(pinned: [try #require(HostKey(openSSH: line))])
            let result = try await SSHTransport(endpoint: server.endpoint(policy: policy)).run(RemoteCommand("true"))
            #expect(result.succeeded, "pinned \(line)")
        }
    }

    @Test func unknownHostKeyIsRefusedWithItsFingerprint() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let dir = try Spawn.makeTempDirectory(prefix: "unknown")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A known_hosts file that does not exist is no reason to trust.
        let policy = HostKeyPolicy(knownHostsFile: dir + "/missing_known_hosts")
        let error = try #require(await remoteError { try await SSHTransport(endpoint: server.endpoint(policy: policy)).connect() })
        #expect(error.kind == .hostKey)
        #expect(error.hostKeyError?.kind == .unknown)
        let fingerprints = server.hostKeyLines.compactMap { HostKey(openSSH: $0)?.fingerprint }
        #expect(fingerprints.contains { error.message.contains($0) }, "\(error)")
        #expect(error.message.contains("hostKeys: [\""))
    }

    @Test func changedHostKeyIsRefusedNamingBothFingerprints() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        // Pin some other ed25519 key (the client key will do) for this host.
        let other = try #require(HostKey(openSSH: String(contentsOfFile: server.clientKeys.ed25519 + ".pub", encoding: .utf8)))
        let presented = try #require(HostKey(openSSH: server.hostKeyLines[0]))  // the server's ed25519 key
        let policy = HostKeyPolicy(pinned: [other], acceptNew: true)  // accepting new keys never overrides a change
        let error = try #require(await remoteError { try await SSHTransport(endpoint: server.endpoint(policy: policy)).connect() })
        #expect(error.kind == .hostKey)
        #expect(error.hostKeyError?.kind == .changed)
        #expect(error.message.contains(other.fingerprint))
        #expect(error.message.contains(presented.fingerprint))
    }

    @Test func knownHostsFileHashedEntryIsTrusted() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let dir = try Spawn.makeTempDirectory(prefix: "kh")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/known_hosts"
        try (server.knownHostsLine(server.hostKeyLines[1]) + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        try Spawn.check(["ssh-keygen", "-H", "-f", file])
        let result = try await SSHTransport(endpoint: server.endpoint(policy: HostKeyPolicy(knownHostsFile: file)))
            .run(RemoteCommand("true"))
        #expect(result.succeeded)

        // The same key marked @revoked is refused.
        try "@revoked \(server.knownHostsLine(server.hostKeyLines[1]))\n".write(toFile: file, atomically: true, encoding: .utf8)
        // (Pinned too, so the client asks for exactly this key: revocation wins over pinning.)
        let policy = HostKeyPolicy(pinned: [try #require(HostKey(openSSH: server.hostKeyLines[1]))], knownHostsFile: file)
        let error = try #require(await remoteError { try await SSHTransport(endpoint: server.endpoint(policy: policy)).connect() })
        #expect(error.hostKeyError?.kind == .revoked)
    }

    @Test func trustOnFirstUseOnlyWithTheFlag() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let dir = try Spawn.makeTempDirectory(prefix: "tofu")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let record = dir + "/known_hosts"

        var policy = HostKeyPolicy(recordFile: record)
        let refused = try #require(await remoteError { try await SSHTransport(endpoint: server.endpoint(policy: policy)).connect() })
        #expect(refused.hostKeyError?.kind == .unknown)
        #expect(!FileManager.default.fileExists(atPath: record))

        policy.acceptNew = true
        _ = try await SSHTransport(endpoint: server.endpoint(policy: policy)).run(RemoteCommand("true"))
        let recorded = try String(contentsOfFile: record, encoding: .utf8)
        #expect(recorded.hasPrefix("[127.0.0.1]:\(server.port) "))
        #expect(server.hostKeyLines.contains { recorded.contains($0) })

        policy.acceptNew = false
        let again = try await SSHTransport(endpoint: server.endpoint(policy: policy)).run(RemoteCommand("true"))
        #expect(again.succeeded)
        #expect(try String(contentsOfFile: record, encoding: .utf8) == recorded)  // nothing added
    }

    @Test func closedPortFailsFast() async throws {
        let port = try SSHServer.freePort()  // nothing listens there
        let endpoint = SSHEndpoint(address: "127.0.0.1", port: port, user: "nobody", hostKeyPolicy: HostKeyPolicy(),
                                   connectTimeout: .seconds(5))
        let start = ContinuousClock.now
        let error = try #require(await remoteError { try await SSHTransport(endpoint: endpoint).connect() })
        #expect(error.kind == .connect)  // refused at once, not a timeout
        #expect(error.message.contains("refused"))
        #expect(error.description.contains("127.0.0.1:\(port)"))
        // No wall-clock bound here (timing goals live in `make bench`): `.connect`
        // rather than `.timeout` is what shows the refusal was not waited out.
        _ = start
    }

    @Test func silentServerTimesOut() async throws {
        // A socket that listens but never speaks: the kernel accepts the TCP
        // connection, the SSH handshake then waits forever.
        let listener = try SilentListener()
        defer { listener.close() }
        let endpoint = SSHEndpoint(address: "127.0.0.1", port: listener.port, user: "nobody",
                                   hostKeyPolicy: HostKeyPolicy(), connectTimeout: .seconds(1))
        let start = ContinuousClock.now
        let error = try #require(await remoteError { try await SSHTransport(endpoint: endpoint).connect() })
        #expect(error.kind == .timeout, "\(error)")
        let elapsed = ContinuousClock.now - start
        // At least the timeout (it cannot fire early); no upper bound, which a
        // loaded 2-core machine would make flaky.
        #expect(elapsed >= .milliseconds(900))
    }

    @Test func rsaOnlyServerExplainsWhy() async throws {
        let server = try await SSHServer.start(hostKeyTypes: [.rsa])
        defer { server.stop() }
        let error = try #require(await remoteError { try await SSHTransport(endpoint: server.endpoint()).connect() })
        #expect(error.kind == .protocolError)
        #expect(error.message.contains("RSA"), "\(error)")
    }
}

/// A TCP listener on 127.0.0.1 that never accepts.
final class SilentListener {
    let fd: Int32
    let port: Int
    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else { throw SpawnError("listen failed") }
        port = Int(UInt16(bigEndian: address.sin_port))
    }
    func close() { _ = Glibc.close(fd) }
}
