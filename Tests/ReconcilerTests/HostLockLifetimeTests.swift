// Issue 11 #6: the host lock dies with the client. A real apply through the test
// sshd runs a long step; the client goes away mid-step (its session closes, as
// when labsync is killed); within 2 s the step's processes are gone and the lock
// is free. While it ran, a second apply waited and named the real holder.

import Drivers
import Foundation
import LabsyncTestSupport
import Reconciler
import Remote
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized, .integration) struct HostLockLifetimeTests {
    /// Pids whose command line mentions `text` (the "host" is this machine).
    static func processes(mentioning text: String) -> [pid_t] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
            guard let pid = pid_t(entry), pid != getpid(),
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self).contains(text) ? pid : nil
        }
    }

    /// Whether this process can take the lock now (then lets go of it).
    static func lockIsFree(_ path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return flock(fd, LOCK_EX | LOCK_NB) == 0
    }

    static func waitUntil(seconds: Double, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    @Test func aDeadClientFreesTheLockAndItsProcessesAtOnce() async throws {
        let server = try SSHServer()
        defer { server.stop() }
        let lockDirectory = try Spawn.makeTempDirectory(prefix: "host-lock")
        defer { try? FileManager.default.removeItem(atPath: lockDirectory) }
        let endpoint = SSHEndpoint(address: server.host, port: server.port, user: "root",
                                   identityFile: server.clientKeys.ed25519, useAgent: false,
                                   hostKeyPolicy: HostKeyPolicy(pinned: server.hostKeyLines.compactMap { HostKey(openSSH: $0) }))
        // A silent step: it never writes, so nothing on the host would notice the dead channel.
        let marker = "61.\(Int.random(in: 10000...99999))"
        let slow = PlannedStep(host: "h", resource: "X/slow", action: .install, reason: "r",
                               commands: [RemoteCommand("/bin/sh", ["-c", "sleep \(marker)"])], environmentPath: "/x")
        var first = HostApplier(host: "h", transport: SSHTransport(endpoint: endpoint), become: .none,
                                owner: "first run, pid 4242", timeout: .seconds(20))
        first.lockDirectory = lockDirectory
        let running = Task { await first.apply([slow]) { _ in } }
        // Bounds for a loaded machine (the integration tier runs suites in
        // parallel): connecting and starting can take seconds there.
        #expect(await Self.waitUntil(seconds: 15) { !Self.processes(mentioning: "sleep \(marker)").isEmpty })

        // Meanwhile a second apply waits, names the holder, and gives up after 1 s.
        let quick = PlannedStep(host: "h", resource: "X/quick", action: .install, reason: "r",
                                commands: [RemoteCommand("true")], environmentPath: "/y")
        var second = HostApplier(host: "h", transport: SSHTransport(endpoint: endpoint), become: .none,
                                 lockTimeoutSeconds: 1, owner: "second run")
        second.lockDirectory = lockDirectory
        let blocked = await second.apply([quick]) { _ in }
        #expect(blocked.error?.contains("held by: first run, pid 4242") == true, "\(blocked.error ?? "no error")")

        // The first client's session closes at its timeout (as when labsync dies).
        let result = await running.value
        #expect(result.error != nil)
        #expect(await Self.waitUntil(seconds: 2) { Self.processes(mentioning: "sleep \(marker)").isEmpty },
                "the step's processes outlived the client: \(Self.processes(mentioning: "sleep \(marker)"))")
        #expect(await Self.waitUntil(seconds: 2) { Self.lockIsFree(lockDirectory + "/host.lock") })

        // And the next apply takes the lock at once.
        let next = await second.apply([quick]) { _ in }
        #expect(next.error == nil, "\(next.error ?? "")")
        #expect(next.outcomes.map(\.status) == [.succeeded])
    }
}
