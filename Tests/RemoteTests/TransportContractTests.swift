// The transport contract: what every `Transport` does with a command, checked by
// the same test bodies against the in-memory transport (unit tier) and the real
// SSHTransport to a loopback sshd (integration tier).
//
// Each command of the contract is a value: the command a real host runs, and its
// behaviour written as the in-memory transport's script. The sshd backend runs the
// command for real; the in-memory backend is scripted from the behaviour. The
// assertions are the contract's, not either backend's, so the fake is held to
// what the real transport does: how output is split into lines, bounded and
// kept, how a kill, a timeout and stdin look.

import Foundation
import LabsyncTestSupport
import Remote
import Testing

/// A command of the contract and what it does.
struct ContractCommand: Sendable {
    var command: RemoteCommand
    var behaviour: InMemoryTransport.Behaviour

    init(_ command: RemoteCommand, _ steps: [InMemoryTransport.Behaviour.Step], _ ending: InMemoryTransport.Behaviour.Ending) {
        self.command = command
        self.behaviour = InMemoryTransport.Behaviour(steps, ending)
    }

    /// `/bin/sh -c script`.
    static func sh(_ script: String, stdin: [UInt8]? = nil, _ steps: [InMemoryTransport.Behaviour.Step],
                   _ ending: InMemoryTransport.Behaviour.Ending) -> ContractCommand {
        ContractCommand(RemoteCommand("/bin/sh", ["-c", script], stdin: stdin), steps, ending)
    }
}

/// Where the contract runs.
protocol TransportBackend: Sendable {
    /// A transport that can run `commands`, kept for `body` and then closed.
    func withTransport(for commands: [ContractCommand], outputLimit: Int,
                       _ body: (any Transport) async throws -> Void) async throws
}

struct InMemoryBackend: TransportBackend {
    func withTransport(for commands: [ContractCommand], outputLimit: Int,
                       _ body: (any Transport) async throws -> Void) async throws {
        let transport = InMemoryTransport(target: "memory", outputLimit: outputLimit)
        for contract in commands { await transport.on(contract.command, contract.behaviour) }
        try await body(transport)
        // The clauses run only the commands they declared.
        #expect(await transport.unscripted.isEmpty)
    }
}

struct SSHBackend: TransportBackend {
    func withTransport(for commands: [ContractCommand], outputLimit: Int,
                       _ body: (any Transport) async throws -> Void) async throws {
        let server = try await SSHServer.start()
        defer { server.stop() }
        let transport = SSHTransport(endpoint: server.endpoint(outputLimit: outputLimit))
        try await body(transport)
        await transport.close()
    }
}

/// The contract, one clause per behaviour. Each clause lists its commands (so the
/// in-memory backend can be scripted) and checks what a transport does with them.
enum ContractClause: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case exitStatus, separateStreams, stdin, lineStreaming, timeout, killedBySignal, largeOutput

    var testDescription: String { rawValue }

    static let statuses: [Int32] = [0, 1, 42, 255]
    static func exit(_ status: Int32) -> ContractCommand { .sh("exit \(status)", [], .exit(status)) }

    static let streams = ContractCommand.sh(
        #"printf 'out one\nout two\n'; printf 'err one\n' >&2; printf 'out three \377'; printf 'err two' >&2; exit 3"#,
        [.stdout(Array("out one\nout two\n".utf8)), .stderr(Array("err one\n".utf8)),
         .stdout(Array("out three ".utf8) + [0xFF]), .stderr(Array("err two".utf8))], .exit(3))

    /// Every byte value, NULs and invalid UTF-8 included, over a megabyte.
    static let input: [UInt8] = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
    static let cat = ContractCommand(RemoteCommand("cat", stdin: input), [.stdinToStdout], .exit(0))
    static let catNoInput = ContractCommand(RemoteCommand("cat"), [.stdinToStdout], .exit(0))
    static let ignoresInput = ContractCommand.sh("exit 5", stdin: input, [], .exit(5))

    /// Lines of both streams, a CRLF line, a line longer than the 64 KiB line
    /// limit, and a last line without a newline.
    static let longLine = String(repeating: "x", count: 150_000)
    static let lines = ContractCommand.sh(
        #"echo one; echo err >&2; printf 'crlf\r\n'; head -c 150000 /dev/zero | tr '\0' x; echo; printf 'two\nthree'"#,
        [.stdout(Array("one\n".utf8)), .stderr(Array("err\n".utf8)), .stdout(Array("crlf\r\n".utf8)),
         .stdout(Array((longLine + "\n").utf8)), .stdout(Array("two\nthree".utf8))], .exit(0))

    static let sleepsLong = ContractCommand(RemoteCommand("sleep", ["600"]), [.wait(.seconds(600))], .exit(0))
    static let sleepsShort = ContractCommand(RemoteCommand("sleep", ["0.2"]), [.wait(.milliseconds(200))], .exit(0))
    static let echo = ContractCommand(RemoteCommand("echo", ["still here"]), [.stdout(Array("still here\n".utf8))], .exit(0))

    /// Kills the login shell that runs the command line (its parent), as a host
    /// would kill a command; SSH reports a signal, the transport status 128 + 15.
    static let killed = ContractCommand.sh("kill -TERM $PPID", [], .signal("TERM"))

    /// 3 MB on stderr first (a blocking stdout reader would deadlock on it), then
    /// 8 MiB on stdout and a last line: with a 1 MiB limit only the tails are kept.
    static let limit = 1 << 20
    static let large = ContractCommand.sh(
        #"head -c 3000000 /dev/zero | tr '\0' e >&2; head -c 8388608 /dev/zero | tr '\0' o; echo END; exit 3"#,
        [.stderr([UInt8](repeating: UInt8(ascii: "e"), count: 3_000_000)),
         .stdout([UInt8](repeating: UInt8(ascii: "o"), count: 8_388_608)), .stdout(Array("END\n".utf8))], .exit(3))
    static let small = ContractCommand(RemoteCommand("echo", ["hi"]), [.stdout(Array("hi\n".utf8))], .exit(0))

    var commands: [ContractCommand] {
        switch self {
        case .exitStatus: Self.statuses.map(Self.exit)
        case .separateStreams: [Self.streams]
        case .stdin: [Self.cat, Self.catNoInput, Self.ignoresInput, Self.echo]
        case .lineStreaming: [Self.lines]
        case .timeout: [Self.sleepsLong, Self.sleepsShort, Self.echo]
        case .killedBySignal: [Self.killed]
        case .largeOutput: [Self.large, Self.small]
        }
    }

    var outputLimit: Int { self == .largeOutput ? Self.limit : 16 * 1024 * 1024 }

    func check(_ backend: some TransportBackend) async throws {
        try await backend.withTransport(for: commands, outputLimit: outputLimit) { transport in
            try await check(transport)
        }
    }

    private func check(_ transport: any Transport) async throws {
        switch self {
        case .exitStatus:
            // A non-zero exit is a result, not an error.
            for status in Self.statuses {
                let result = try await transport.run(Self.exit(status).command, timeout: .seconds(30))
                #expect(result.exitStatus == status && result.exitSignal == nil)
                #expect(result.succeeded == (status == 0))
                #expect(result.statusDescription == "exit status \(status)")
            }

        case .separateStreams:
            let result = try await transport.run(Self.streams.command, timeout: .seconds(30))
            #expect(result.stdout == Array("out one\nout two\nout three ".utf8) + [0xFF])
            #expect(result.stderrText == "err one\nerr two")
            #expect(result.exitStatus == 3 && !result.stdoutTruncated && !result.stderrTruncated)

        case .stdin:
            let echoed = try await transport.run(Self.cat.command, timeout: .seconds(60))
            #expect(echoed.succeeded)
            #expect(echoed.stdout == Self.input)
            // No stdin: the command sees EOF at once instead of waiting for input.
            let empty = try await transport.run(Self.catNoInput.command, timeout: .seconds(30))
            #expect(empty.succeeded && empty.stdout.isEmpty)
            // A command that exits without reading its input is not an error, and
            // the transport stays usable.
            let ignoring = try await transport.run(Self.ignoresInput.command, timeout: .seconds(30))
            #expect(ignoring.exitStatus == 5)
            #expect(try await transport.run(Self.echo.command, timeout: .seconds(30)).stdoutText == "still here\n")

        case .lineStreaming:
            let lines = LockedArray<OutputLine>()
            let result = try await transport.run(Self.lines.command, timeout: .seconds(30)) { lines.append($0) }
            // Every line was delivered before `run` returned; within a stream, in order.
            // (Across streams there is no order: SSH carries them separately.)
            // The 150,000-character line comes in pieces of exactly 64 KiB, however the
            // stream was cut into reads. (Compared by length and content separately:
            // a failing comparison of the text itself would print 150 KB.)
            let stdout = lines.values.filter { $0.stream == .stdout }.map(\.text)
            #expect(stdout.map(\.count) == [3, 4, 65_536, 65_536, 150_000 - 2 * 65_536, 3, 5])
            #expect(stdout.prefix(2) + stdout.suffix(2) == ["one", "crlf", "two", "three"])
            #expect(stdout.dropFirst(2).prefix(3).allSatisfy { $0.allSatisfy { $0 == "x" } })
            #expect(lines.values.filter { $0.stream == .stderr }.map(\.text) == ["err"])
            // The collected output is the raw bytes, not the lines.
            let collected = result.stdoutText == "one\ncrlf\r\n" + Self.longLine + "\ntwo\nthree"
            #expect(collected, "collected stdout differs from what was printed")
            #expect(result.stderrText == "err\n")

        case .timeout:
            let start = ContinuousClock.now
            let error = try #require(await remoteError {
                _ = try await transport.run(Self.sleepsLong.command, timeout: .seconds(1))
            })
            #expect(error.kind == .commandTimeout, "\(error)")
            #expect(error.message.contains("sleep"))
            // The timeout, not the command, ended the run: not before the timeout,
            // and far below the command's 600 s (no tight bound: a loaded machine).
            let waited = ContinuousClock.now - start
            #expect(waited >= .seconds(1) && waited < .seconds(300), "\(waited)")
            // A command within its timeout finishes, and the transport is usable again.
            #expect(try await transport.run(Self.sleepsShort.command, timeout: .seconds(60)).succeeded)
            #expect(try await transport.run(Self.echo.command).stdoutText == "still here\n")

        case .killedBySignal:
            let result = try await transport.run(Self.killed.command, timeout: .seconds(30))
            #expect(result.exitSignal == "TERM")
            #expect(result.exitStatus == 143)
            #expect(!result.succeeded)
            #expect(result.statusDescription == "killed by SIGTERM")

        case .largeOutput:
            let result = try await transport.run(Self.large.command, timeout: .seconds(120))
            #expect(result.exitStatus == 3)
            #expect(result.stdout.count == Self.limit && result.stdoutTruncated)
            #expect(result.stdout.suffix(4) == Array("END\n".utf8))  // the tail is what is kept
            #expect(result.stdout.dropLast(4).allSatisfy { $0 == UInt8(ascii: "o") })
            #expect(result.stderr.count == Self.limit && result.stderrTruncated)
            #expect(result.stderr.allSatisfy { $0 == UInt8(ascii: "e") })
            let small = try await transport.run(Self.small.command)
            #expect(small.stdoutText == "hi\n" && !small.stdoutTruncated)
        }
    }
}

@Suite(.unit) struct InMemoryTransportContractTests {
    @Test(arguments: ContractClause.allCases)
    func contract(_ clause: ContractClause) async throws {
        try await clause.check(InMemoryBackend())
    }
}

@Suite(.integration) struct SSHTransportContractTests {
    @Test(arguments: ContractClause.allCases)
    func contract(_ clause: ContractClause) async throws {
        try await clause.check(SSHBackend())
    }
}
