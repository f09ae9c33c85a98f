import Foundation
import LabsyncTestSupport
import Testing
@testable import Remote

/// Running commands over a real sshd on loopback.
@Suite(.integration) struct SSHCommandTests {
    @Test func sudoRunsAsRoot() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let ssh = SSHTransport(endpoint: server.endpoint())
        let result = try await ssh.run(RemoteCommand("id", ["-u"], become: .sudo))
        #expect(result.stdoutText == "0\n", "\(result.stderrText)")
    }

    @Test func sudoWithoutNopasswdFailsFast() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let ssh = SSHTransport(endpoint: server.endpoint(user: SSHServer.noPasswordSudoUser))
        try await ssh.connect()
        let start = ContinuousClock.now
        let error = try #require(await remoteError { _ = try await ssh.run(RemoteCommand("id", become: .sudo), timeout: .seconds(20)) })
        #expect(error.kind == .sudoRequiresPassword, "\(error)")
        #expect(error.message.contains("NOPASSWD"))
        // Failing fast is shown by the kind: a prompt would have run into the
        // 20 s timeout (`.commandTimeout`) instead.
        _ = start
    }

    @Test func argumentsArriveUnchanged() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let ssh = SSHTransport(endpoint: server.endpoint())
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = SplitMix64(seed: seed)
        for round in 0..<40 {
            let words = (0..<12).map { _ in randomWord(&random) }
            let result = try await ssh.run(RemoteCommand("printf", ["%s\\0"] + words))
            #expect(result.succeeded, "seed \(seed) round \(round): \(result.stderrText)")
            #expect(splitNUL(result.stdout) == words, "seed \(seed) round \(round)")
        }
    }

    @Test func stdinIsDeliveredAndClosed() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let ssh = SSHTransport(endpoint: server.endpoint())
        let input = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let result = try await ssh.run(RemoteCommand("sha256sum", stdin: input))
        let expected = try Spawn.check(["sha256sum"], stdin: input)
        #expect(result.stdoutText == expected)
        // A command that exits without reading its input is not an error.
        let ignoring = try await ssh.run(RemoteCommand("/bin/sh", ["-c", "exit 5"], stdin: input), timeout: .seconds(20))
        #expect(ignoring.exitStatus == 5)
        #expect(try await ssh.run(RemoteCommand("echo", ["next"])).stdoutText == "next\n")
        // No stdin given: the command sees EOF at once instead of hanging.
        let cat = try await ssh.run(RemoteCommand("cat"), timeout: .seconds(10))
        #expect(cat.succeeded && cat.stdout.isEmpty)
    }

    @Test func linesAreStreamedPerStream() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let ssh = SSHTransport(endpoint: server.endpoint())
        let lines = LockedArray<OutputLine>()
        let result = try await ssh.run(RemoteCommand("/bin/sh", ["-c", "echo one; echo err >&2; printf 'two\\nthree'"]),
                                       timeout: nil) { lines.append($0) }
        #expect(result.stdoutText == "one\ntwo\nthree")
        #expect(lines.values.filter { $0.stream == .stdout }.map(\.text) == ["one", "two", "three"])
        #expect(lines.values.filter { $0.stream == .stderr }.map(\.text) == ["err"])
    }

    @Test func exitStatusAndSignal() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let ssh = SSHTransport(endpoint: server.endpoint())
        let failed = try await ssh.run(RemoteCommand("/bin/sh", ["-c", "exit 42"]))
        #expect(failed.exitStatus == 42 && failed.exitSignal == nil && !failed.succeeded)
        // SSH reports a killed command as status 0 plus a signal; it must not look like success.
        // The process sshd started is the login shell running our line: kill that one.
        let killed = try await ssh.run(RemoteCommand("/bin/sh", ["-c", "kill -TERM $PPID"]))
        #expect(killed.exitSignal == "TERM")
        #expect(killed.exitStatus == 143)
        #expect(!killed.succeeded)
    }

    @Test func hugeOutputIsBoundedAndStatusKept() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let limit = 1 << 20
        let ssh = SSHTransport(endpoint: server.endpoint(outputLimit: limit))
        // 3 MB on stderr first (a blocking stdout reader would deadlock here), then 50 MB on stdout.
        let script = "head -c 3000000 /dev/zero | tr '\\0' e >&2; head -c 52428800 /dev/zero | tr '\\0' o; echo END; exit 3"
        let start = ContinuousClock.now
        let result = try await ssh.run(RemoteCommand("/bin/sh", ["-c", script]), timeout: .seconds(120))
        #expect(result.exitStatus == 3)
        #expect(result.stdout.count == limit)
        #expect(result.stdoutTruncated)
        #expect(result.stdout.suffix(4) == Array("END\n".utf8))  // the tail is what is kept
        #expect(result.stderr.count == limit && result.stderrTruncated)
        #expect(result.stderr.allSatisfy { $0 == UInt8(ascii: "e") })
        print("50 MB over ssh took \(ContinuousClock.now - start)")
        // A small output is kept whole.
        let small = try await ssh.run(RemoteCommand("echo", ["hi"]))
        #expect(small.stdoutText == "hi\n" && !small.stdoutTruncated)
    }

    @Test func commandTimeoutClosesTheChannel() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let ssh = SSHTransport(endpoint: server.endpoint())
        let start = ContinuousClock.now
        let error = try #require(await remoteError { _ = try await ssh.run(RemoteCommand("sleep", ["600"]), timeout: .seconds(1)) })
        #expect(error.kind == .commandTimeout)
        #expect(error.message.contains("sleep"))
        // Far below the command's own 600 s: the timeout ended it, not the command.
        // (No tight bound: a loaded 2-core machine makes those flaky.)
        #expect(ContinuousClock.now - start < .seconds(300))
        let next = try await ssh.run(RemoteCommand("echo", ["still here"]))
        #expect(next.stdoutText == "still here\n")
    }

    @Test func droppedConnectionIsReportedAndNextRunReconnects() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let ssh = SSHTransport(endpoint: server.endpoint())
        // Prints the pid of the sshd process serving this session.
        let findSSHD = #"p=$PPID; while [ "$p" -gt 1 ] && [ "$(cat /proc/$p/comm)" != sshd ]; do p=$(cut -d' ' -f4 /proc/$p/stat); done; echo $p"#
        let firstPID = try await ssh.run(RemoteCommand("/bin/sh", ["-c", findSSHD]), timeout: .seconds(10)).stdoutText
        // Kill this session's sshd process as soon as the command reports its pid.
        let start = ContinuousClock.now
        let error = try #require(await remoteError {
            _ = try await ssh.run(RemoteCommand("/bin/sh", ["-c", "echo $$; sleep 30"]), timeout: .seconds(20)) { line in
                if line.stream == .stdout, let pid = Int32(line.text), let sshd = sshdAncestor(of: pid) {
                    kill(sshd, SIGKILL)
                }
            }
        })
        #expect(error.kind == .connectionLost, "\(error)")
        #expect(error.description.contains("127.0.0.1:\(server.port)"))
        #expect(error.message.contains("sleep 30"))
        _ = start  // `.connectionLost` (not `.commandTimeout`) shows the drop was noticed

        let again = try await ssh.run(RemoteCommand("/bin/sh", ["-c", findSSHD]), timeout: .seconds(10))
        #expect(again.succeeded)
        #expect(again.stdoutText != firstPID)  // a new session

        // A session that died while idle is replaced before the next command starts.
        let idleSSHD = try #require(Int32(again.stdoutText.trimmingTrailingNewlines))
        kill(idleSSHD, SIGKILL)
        usleep(100_000)
        let afterIdleDrop = try await ssh.run(RemoteCommand("echo", ["ok"]), timeout: .seconds(10))
        #expect(afterIdleDrop.stdoutText == "ok\n")
    }

    @Test func manyHostsRunInParallelOffTheSharedPool() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        // Four transports (as for four hosts), each blocked in `sleep 5`. If their
        // blocking libssh2 calls ran on Swift's 2-thread pool this would take ≥ 10 s
        // (20 s one after another); sleeping costs no CPU, so load barely matters.
        let transports = (0..<4).map { _ in SSHTransport(endpoint: server.endpoint()) }
        for transport in transports { try await transport.connect() }
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for transport in transports {
                group.addTask { _ = try await transport.run(RemoteCommand("sleep", ["5"])) }
            }
            try await group.waitForAll()
        }
        #expect(ContinuousClock.now - start < .milliseconds(9500))
    }

    @Test func twentyConcurrentCommandsKeepTheirOutput() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let ssh = SSHTransport(endpoint: server.endpoint())
        let script = #"i=0; while [ $i -lt 300 ]; do echo "$1 line $i"; echo "$1 err $i" >&2; i=$((i+1)); done"#
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<20 {
                group.addTask {
                    let tag = "task-\(task)"
                    let streamed = LockedArray<OutputLine>()
                    let result = try await ssh.run(RemoteCommand("/bin/sh", ["-c", script, "sh", tag]),
                                                   timeout: .seconds(60)) { streamed.append($0) }
                    let expectedOut = (0..<300).map { "\(tag) line \($0)\n" }.joined()
                    let expectedErr = (0..<300).map { "\(tag) err \($0)\n" }.joined()
                    #expect(result.stdoutText == expectedOut)
                    #expect(result.stderrText == expectedErr)
                    #expect(streamed.values.count == 600)
                    #expect(streamed.values.allSatisfy { $0.text.hasPrefix(tag + " ") })
                }
            }
            try await group.waitForAll()
        }
    }

    @Test func writeFileIsAtomicWithModeAndOwner() async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let ssh = SSHTransport(endpoint: server.endpoint())
        let dir = try Spawn.makeTempDirectory(prefix: "write")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        chmod(dir, 0o755)
        let secret = Array("password: 'x$(y)`z`\n".utf8) + [0, 255, 10]
        let path = dir + "/secret file"
        try await ssh.writeFile(path: path, contents: secret, mode: 0o600, owner: "root", group: "root", become: .sudo)
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == secret)
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o600)
        #expect(info.st_uid == 0)
        // Replacing keeps the directory clean (no temp files left behind).
        try await ssh.writeFile(path: path, contents: Array("v2\n".utf8), mode: 0o640, owner: SSHServer.user, become: .sudo)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "v2\n")
        #expect(stat(path, &info) == 0 && info.st_mode & 0o7777 == 0o640 && info.st_uid == getpwnam(SSHServer.user).pointee.pw_uid)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["secret file"])
        // A failure is an error naming the path (the user cannot write into root's dir).
        chmod(dir, 0o755)
        let error = try #require(await remoteError { try await ssh.writeFile(path: dir + "/denied", contents: [1]) })
        #expect(error.kind == .commandFailed && error.message.contains(dir + "/denied"))
    }
}

/// writeFile puts the content on stdin, never in argv: checked on the command it renders.
@Suite(.unit) struct WriteFileRenderingTests {
    actor Recorder: Transport {
        nonisolated var target: String { "recorder" }
        var commands: [RemoteCommand] = []
        func run(_ command: RemoteCommand, timeout: Duration?, onOutput: (@Sendable (OutputLine) -> Void)?) -> CommandResult {
            commands.append(command)
            return CommandResult(exitStatus: 0)
        }
        func close() {}
    }

    @Test func contentTravelsOnStdin() async throws {
        let recorder = Recorder()
        let secret = "s3cr3t-token-value"
        try await recorder.writeFile(path: "/etc/labsync/secret", contents: Array(secret.utf8), mode: 0o600)
        let command = try #require(await recorder.commands.first)
        #expect(command.stdin == Array(secret.utf8))
        #expect(!command.shellLine.contains(secret))
        #expect(command.arguments.contains("600"))
    }
}

// MARK: - Helpers

/// The nearest ancestor of `pid` that is an sshd process (the session's sshd).
func sshdAncestor(of pid: Int32) -> Int32? {
    var current = pid
    for _ in 0..<10 {
        guard let stat = try? String(contentsOfFile: "/proc/\(current)/stat", encoding: .utf8),
              let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return nil }
        let name = stat[stat.index(after: open)..<close]
        if name == "sshd" && current != pid { return current }
        let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
        guard fields.count > 1, let parent = Int32(fields[1]), parent > 1 else { return nil }
        current = parent
    }
    return nil
}

final class LockedArray<Element: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Element] = []
    func append(_ element: Element) { lock.lock(); storage.append(element); lock.unlock() }
    var values: [Element] { lock.lock(); defer { lock.unlock() }; return storage }
}

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A word built from shell metacharacters, whitespace, quotes and non-ASCII text (never NUL).
func randomWord(_ random: inout SplitMix64) -> String {
    let pieces = ["'", "\"", "$", "$(", ")", "`", "\n", ";", "-", "--", "\\", " ", "\t", "*", "?", "|", "&",
                  "<", ">", "~", "#", "!", "{", "}", "[", "]", "=", "%", "%s", "\r", "é", "☃", "😀", "ß", "$HOME",
                  "a", "b", "x", "0", "\u{7f}", "\u{1}", "'\\''"]
    var word = Bool.random(using: &random) ? "-" : ""  // often a leading dash
    for _ in 0..<Int.random(in: 0...10, using: &random) {
        if Int.random(in: 0..<6, using: &random) == 0 {
            // Any non-NUL unicode scalar now and then.
            let value = UInt32.random(in: 1...0x10FFFF, using: &random)
            if let scalar = Unicode.Scalar(value) { word.unicodeScalars.append(scalar) }
        } else {
            word += pieces.randomElement(using: &random)!
        }
    }
    return word
}
