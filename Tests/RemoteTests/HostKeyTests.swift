import Foundation
import LabsyncTestSupport
import Testing
@testable import Remote

@Suite struct DigestTests {
    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test(.unit) func knownVectors() {
        #expect(hex(Digest.sha256([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex(Digest.sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // Two-block message (padding crosses a block boundary).
        #expect(hex(Digest.sha256(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(hex(Digest.sha1(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        // RFC 2202, HMAC-SHA-1 test case 2.
        #expect(hex(Digest.hmacSHA1(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)))
                == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
    }

    @Test(.integration) func sha256MatchesSha256sumForManyLengths() throws {
        for length in [55, 56, 63, 64, 65, 119, 120, 1000] {
            let data = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let expected = try Spawn.check(["sha256sum"], stdin: data).split(separator: " ")[0]
            #expect(hex(Digest.sha256(data)) == String(expected), "length \(length)")
        }
    }
}

@Suite struct HostKeyTests {
    static func generateKey(_ type: String, in dir: String) throws -> (line: String, fingerprint: String) {
        let path = dir + "/key_\(type)"
        try Spawn.check(["ssh-keygen", "-q", "-t", type, "-N", "", "-C", "comment here", "-f", path])
        let line = try String(contentsOfFile: path + ".pub", encoding: .utf8)
        // "256 SHA256:… comment here (ED25519)"
        let fingerprint = try Spawn.check(["ssh-keygen", "-lf", path + ".pub"]).split(separator: " ")[1]
        return (line.trimmingCharacters(in: .newlines), String(fingerprint))
    }

    @Test(.integration, arguments: ["ed25519", "ecdsa", "rsa"])
    func fingerprintMatchesSshKeygen(type: String) async throws {
        let dir = try Spawn.makeTempDirectory(prefix: "hk")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (line, fingerprint) = try await Spawn.offPool { try Self.generateKey(type, in: dir) }
        let key = try #require(HostKey(openSSH: line))
        #expect(key.fingerprint == fingerprint)
        #expect(line.hasPrefix(key.openSSH + " "))
        #expect(HostKey(blob: key.blob) == key)
    }

    @Test(.unit) func rejectsMalformedLines() {
        #expect(HostKey(openSSH: "ssh-ed25519") == nil)
        #expect(HostKey(openSSH: "ssh-ed25519 not-base64!") == nil)
        // Blob says ssh-ed25519, line says ssh-rsa.
        #expect(HostKey(openSSH: "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIG+ENZPhPA3QOQvBO9EV9bCUpKZknB8EnDu1ENiSOvBZ") == nil)
    }

    let keyA = HostKey(openSSH: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG+ENZPhPA3QOQvBO9EV9bCUpKZknB8EnDu1ENiSOvBZ")!
    let keyB = HostKey(openSSH: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJWT7/9aEjSpqWwmbuNmiZdkdRR2NK+6RxVJaPvZlbGl")!

    func verdict(_ host: String, port: Int = 22, _ key: HostKey, _ policy: HostKeyPolicy) -> HostKeyError.Kind? {
        do {
            try verifyHostKey(host: host, port: port, presented: key, policy: policy)
            return nil
        } catch {
            return error.kind
        }
    }

    @Test(.unit) func pinnedKeys() throws {
        #expect(verdict("10.0.0.1", keyA, HostKeyPolicy(pinned: [keyA])) == nil)
        do {
            try verifyHostKey(host: "10.0.0.1", port: 22, presented: keyB, policy: HostKeyPolicy(pinned: [keyA]))
            Issue.record("a different key was accepted")
        } catch {
            #expect(error.kind == .changed)
            #expect(error.message.contains(keyA.fingerprint))
            #expect(error.message.contains(keyB.fingerprint))
        }
    }

    @Test(.unit) func unknownKeyExplainsHowToPin() throws {
        let policy = HostKeyPolicy(knownHostsFile: "/nonexistent/known_hosts")  // missing file: trust nothing
        do {
            try verifyHostKey(host: "example.org", port: 2222, presented: keyA, policy: policy)
            Issue.record("an unknown key was accepted")
        } catch {
            #expect(error.kind == .unknown)
            #expect(error.message.contains(keyA.fingerprint))
            #expect(error.message.contains("hostKeys: [\"\(keyA.openSSH)\"]"))
            #expect(error.message.contains("[example.org]:2222"))
        }
    }

    @Test(.integration) func knownHostsPlainHashedWildcardAndRevoked() throws {
        let dir = try Spawn.makeTempDirectory(prefix: "kh")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/known_hosts"
        try """
            # comment
            plain.example.org,10.1.1.1 \(keyA.openSSH)
            [ported.example.org]:2222 \(keyA.openSSH) some comment
            [hashed.example.org]:2200 \(keyA.openSSH)
            *.wild.example.org,!bad.wild.example.org \(keyA.openSSH)
            @revoked revoked.example.org \(keyB.openSSH)
            revoked.example.org \(keyA.openSSH)

            """.write(toFile: file, atomically: true, encoding: .utf8)
        // Let OpenSSH hash the entries (hashes every host name, as HashKnownHosts does).
        try Spawn.check(["ssh-keygen", "-H", "-f", file])
        let hashed = try String(contentsOfFile: file, encoding: .utf8)
        #expect(hashed.contains("|1|"))
        #expect(!hashed.contains("hashed.example.org"))
        let policy = HostKeyPolicy(knownHostsFile: file)

        #expect(verdict("plain.example.org", keyA, policy) == nil)
        #expect(verdict("10.1.1.1", keyA, policy) == nil)
        #expect(verdict("hashed.example.org", port: 2200, keyA, policy) == nil)
        #expect(verdict("ported.example.org", port: 2222, keyA, policy) == nil)
        #expect(verdict("ported.example.org", port: 22, keyA, policy) == .unknown)
        #expect(verdict("plain.example.org", keyB, policy) == .changed)
        #expect(verdict("other.example.org", keyA, policy) == .unknown)
        #expect(verdict("revoked.example.org", keyB, policy) == .revoked)
        #expect(verdict("revoked.example.org", keyA, policy) == nil)
        #expect(verdict("BAD.wild.example.org", keyA, policy) == .unknown)

        // ssh-keygen -H does not hash wildcard lines; check those against the plain file too.
        try "*.wild.example.org,!bad.wild.example.org \(keyA.openSSH)\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(verdict("a.wild.example.org", keyA, policy) == nil)
        #expect(verdict("bad.wild.example.org", keyA, policy) == .unknown)
    }

    @Test(.integration) func trustOnFirstUseOnlyWhenAsked() throws {
        let dir = try Spawn.makeTempDirectory(prefix: "tofu")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let record = dir + "/state/known_hosts"
        var policy = HostKeyPolicy(recordFile: record)
        #expect(verdict("h", port: 2022, keyA, policy) == .unknown)
        #expect(!FileManager.default.fileExists(atPath: record))

        policy.acceptNew = true
        #expect(verdict("h", port: 2022, keyA, policy) == nil)
        #expect(try String(contentsOfFile: record, encoding: .utf8) == "[h]:2022 \(keyA.openSSH)\n")
        // Recorded: trusted without the flag, and a different key is now "changed", flag or not.
        policy.acceptNew = false
        #expect(verdict("h", port: 2022, keyA, policy) == nil)
        policy.acceptNew = true
        #expect(verdict("h", port: 2022, keyB, policy) == .changed)
        // OpenSSH agrees with what we recorded.
        let found = try Spawn.run(["ssh-keygen", "-F", "[h]:2022", "-f", record])
        #expect(found.status == 0)
    }
}
