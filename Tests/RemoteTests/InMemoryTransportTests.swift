// The in-memory transport's own scripting: what the contract suite does not
// cover because the real transport has no counterpart (rules, records, writes).

import Foundation
import LabsyncTestSupport
import Remote
import Testing

@Suite(.unit) struct InMemoryTransportTests {
    @Test func recordsCommandsAndTheLatestRuleAnswers() async throws {
        let host = InMemoryTransport(target: "vm")
        let uname = RemoteCommand("uname", ["-m"])
        await host.on(uname, .exit(0, stdout: "x86_64\n"))
        #expect(try await host.run(uname).stdoutText == "x86_64\n")
        await host.on(uname, .exit(0, stdout: "aarch64\n"))  // the host changed
        #expect(try await host.run(uname).stdoutText == "aarch64\n")
        // A rule sees the whole command, stdin included.
        await host.on({ $0.executable == "wc" }, respond: { .exit(0, stdout: "\($0.stdin?.count ?? 0)\n") })
        #expect(try await host.run(RemoteCommand("wc", ["-c"], stdin: [1, 2, 3])).stdoutText == "3\n")
        #expect(await host.commands.map(\.executable) == ["uname", "uname", "wc"])
        #expect(await host.unscripted.isEmpty)
    }

    @Test func unscriptedCommandsExit127AndAreListed() async throws {
        let host = InMemoryTransport()
        let result = try await host.run(RemoteCommand("apt-get", ["install", "x"], become: .sudo))
        #expect(result.exitStatus == 127)
        #expect(result.stderrText.contains("nothing scripted for `sudo -n -- 'apt-get' 'install' 'x'`"))
        #expect(await host.unscripted == [RemoteCommand("apt-get", ["install", "x"], become: .sudo)])
        // Matching includes `become`: the same command without sudo is another one.
        await host.on(RemoteCommand("id", ["-u"]), .exit(0, stdout: "1000\n"))
        #expect(try await host.run(RemoteCommand("id", ["-u"], become: .sudo)).exitStatus == 127)
    }

    @Test func transportErrorsAndSudoPasswordsAreThrownLikeSSH() async throws {
        let host = InMemoryTransport(target: "vm", user: "debian")
        await host.on(RemoteCommand("true"), .init([], .error(.connectionLost, "connection lost while running `true`")))
        let lost = try #require(await remoteError { _ = try await host.run(RemoteCommand("true")) })
        #expect(lost.kind == .connectionLost && lost.target == "vm")
        await host.on(RemoteCommand("id", become: .sudo), .exit(1, stderr: "sudo: a password is required\n"))
        let sudo = try #require(await remoteError { _ = try await host.run(RemoteCommand("id", become: .sudo)) })
        #expect(sudo.kind == .sudoRequiresPassword)
        #expect(sudo.message.contains("debian") && sudo.message.contains("NOPASSWD"))
    }

    @Test func writesAreRecordedUnlessARuleAnswers() async throws {
        let host = InMemoryTransport()
        try await host.writeFile(path: "/etc/labsync/a", contents: Array("one".utf8), mode: 0o600, owner: "root",
                                 become: .sudo)
        try await host.writeFile(path: "/etc/labsync/a", contents: Array("two".utf8))
        #expect(await host.files == ["/etc/labsync/a": Array("two".utf8)])
        #expect(await host.writes.map(\.mode) == [0o600, 0o644])
        let first = try #require(await host.writes.first)
        #expect(first.owner == "root" && first.become == .sudo)
        #expect(await host.commands.count == 2)
        #expect(await host.unscripted.isEmpty)
        // A rule for the write's command makes it fail, as a full disk would.
        await host.on({ $0.fileWrite?.path == "/etc/labsync/b" }, respond: { _ in .exit(1, stderr: "No space left\n") })
        let error = try #require(await remoteError { try await host.writeFile(path: "/etc/labsync/b", contents: [1]) })
        #expect(error.kind == .commandFailed && error.message.contains("No space left"))
        #expect(await host.files["/etc/labsync/b"] == nil)
    }

    /// Like SSHTransport's one session: a second command waits for the first.
    @Test func commandsRunOneAtATime() async throws {
        let host = InMemoryTransport()
        await host.on(RemoteCommand("slow"), .init([.wait(.milliseconds(300)), .stdout(Array("slow\n".utf8))], .exit(0)))
        await host.on(RemoteCommand("fast"), .exit(0, stdout: "fast\n"))
        // Output is recorded while a command holds its turn (after `run`
        // returns, the next command may already have run: no order there).
        let finished = LockedArray<String>()
        let record: @Sendable (OutputLine) -> Void = { finished.append($0.text) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { _ = try await host.run(RemoteCommand("slow"), timeout: nil, onOutput: record) }
            // Started after "slow" has taken its turn.
            while await host.commands.isEmpty { await Task.yield() }
            group.addTask { _ = try await host.run(RemoteCommand("fast"), timeout: nil, onOutput: record) }
            try await group.waitForAll()
        }
        #expect(finished.values == ["slow", "fast"])
    }
}
