// A `Transport` for unit tests: it answers commands from a script and runs
// nothing — no process, no socket. Where a caller could tell the difference it
// behaves like `SSHTransport`, and the transport contract suite
// (Tests/RemoteTests/TransportContractTests.swift) holds both to the same
// assertions:
// - output goes through the same `OutputCollector`: the same bounded, tail-kept
//   results and the same lines (split per stream, `\r\n` trimmed, long lines in
//   pieces, the last unterminated line delivered at the end);
// - a killed command has status 128 + signal number; `sudo -n` asking for a
//   password is `.sudoRequiresPassword`;
// - a command that outlasts its timeout fails with `.commandTimeout` once the
//   timeout has passed (on the given clock);
// - commands run one at a time, in the order they were called.
//
//     let host = InMemoryTransport()
//     await host.on(RemoteCommand("uname", ["-m"]), .exit(0, stdout: "x86_64\n"))
//     let result = try await host.run(RemoteCommand("uname", ["-m"]))
//     #expect(await host.commands.map(\.executable) == ["uname"])
//
// `writeFile` runs its usual command here too; unless a rule answers that command
// (to make a write fail, say), the transport records the write in `writes` and
// `files` and succeeds. An unscripted command exits 127 with a message on stderr
// (what a shell says for a command it cannot find) and is listed in `unscripted`.

import Remote

public actor InMemoryTransport: Transport {
    /// What a scripted command does: its steps in order, then how it ends.
    public struct Behaviour: Sendable, Hashable {
        public enum Step: Sendable, Hashable {
            case stdout([UInt8])
            case stderr([UInt8])
            /// Copies the command's stdin to stdout, as `cat` does.
            case stdinToStdout
            /// The command runs this long (as `sleep` does); counts against its timeout.
            case wait(Duration)
        }

        public enum Ending: Sendable, Hashable {
            case exit(Int32)
            /// Killed by a signal, named without "SIG" ("TERM").
            case signal(String)
            /// The transport fails instead of returning a result (e.g. `.connectionLost`).
            case error(RemoteError.Kind, String)
        }

        public var steps: [Step]
        public var ending: Ending

        public init(_ steps: [Step], _ ending: Ending) {
            self.steps = steps
            self.ending = ending
        }

        /// Prints `stdout`, then `stderr`, and exits with `status`.
        public static func exit(_ status: Int32, stdout: String = "", stderr: String = "") -> Behaviour {
            var steps: [Step] = []
            if !stdout.isEmpty { steps.append(.stdout(Array(stdout.utf8))) }
            if !stderr.isEmpty { steps.append(.stderr(Array(stderr.utf8))) }
            return Behaviour(steps, .exit(status))
        }
    }

    /// One `writeFile` call.
    public struct FileWrite: Sendable, Hashable {
        public var path: String
        public var contents: [UInt8]
        public var mode: Int
        public var owner: String?
        public var group: String?
        public var become: Become
    }

    private struct Rule: Sendable {
        var matches: @Sendable (RemoteCommand) -> Bool
        var respond: @Sendable (RemoteCommand) -> Behaviour
    }

    public nonisolated let target: String
    private let outputLimit: Int
    private let user: String
    private let clock: any Clock<Duration>
    private var rules: [Rule] = []
    /// Every command `run` was called with, in order (stdin included).
    public private(set) var commands: [RemoteCommand] = []
    /// The commands nothing was scripted for.
    public private(set) var unscripted: [RemoteCommand] = []
    /// Every `writeFile`, in order; `files` holds the latest contents per path.
    public private(set) var writes: [FileWrite] = []
    public var files: [String: [UInt8]] {
        writes.reduce(into: [:]) { $0[$1.path] = $1.contents }
    }
    /// How many times `close` was called.
    public private(set) var closeCount = 0

    // One command at a time, like the real transport (whose session runs one
    // command from start to exit): a queue of callers waiting for their turn.
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// `outputLimit` is SSHEndpoint's (bytes kept per stream); `user` is named in
    /// messages as the SSH user would be; `clock` times `wait` steps and timeouts.
    public init(target: String = "in-memory", user: String = "labsync", outputLimit: Int = 16 * 1024 * 1024,
                clock: any Clock<Duration> = ContinuousClock()) {
        self.target = target
        self.user = user
        self.outputLimit = outputLimit
        self.clock = clock
    }

    /// Scripts `command` (matched on executable, arguments and become; not stdin).
    /// A later rule for the same command replaces the earlier one.
    public func on(_ command: RemoteCommand, _ behaviour: Behaviour) {
        on({ $0.executable == command.executable && $0.arguments == command.arguments && $0.become == command.become },
           respond: { _ in behaviour })
    }

    /// Scripts every command `matches` accepts; `respond` sees the whole command
    /// (stdin included). The most recently added matching rule answers.
    public func on(_ matches: @escaping @Sendable (RemoteCommand) -> Bool,
                   respond: @escaping @Sendable (RemoteCommand) -> Behaviour) {
        rules.append(Rule(matches: matches, respond: respond))
    }

    public func run(_ command: RemoteCommand, timeout: Duration?,
                    onOutput: (@Sendable (OutputLine) -> Void)?) async throws -> CommandResult {
        await takeTurn()
        defer { endTurn() }
        commands.append(command)
        let behaviour: Behaviour
        if let rule = rules.last(where: { $0.matches(command) }) {
            behaviour = rule.respond(command)
        } else if let write = command.fileWrite {
            writes.append(FileWrite(path: write.path, contents: command.stdin ?? [], mode: write.mode,
                                    owner: write.owner, group: write.group, become: command.become))
            behaviour = .exit(0)
        } else {
            unscripted.append(command)
            behaviour = .exit(127, stderr: "in-memory transport: nothing scripted for `\(command.shortDescription)`\n")
        }
        let result = try await perform(behaviour, of: command, timeout: timeout, onOutput: onOutput)
        if let error = RemoteError.sudoRequiresPassword(command, result, target: target, user: user) {
            throw error
        }
        return result
    }

    public func close() {
        closeCount += 1
    }

    private func perform(_ behaviour: Behaviour, of command: RemoteCommand, timeout: Duration?,
                         onOutput: (@Sendable (OutputLine) -> Void)?) async throws -> CommandResult {
        var stdout = OutputCollector(stream: .stdout, limit: outputLimit)
        var stderr = OutputCollector(stream: .stderr, limit: outputLimit)
        let emit: ((OutputLine) -> Void)? = onOutput.map { callback in { callback($0) } }
        var elapsed = Duration.zero
        for step in behaviour.steps {
            switch step {
            case .stdout(let bytes):
                bytes.withUnsafeBufferPointer { stdout.append($0, emit: emit) }
            case .stderr(let bytes):
                bytes.withUnsafeBufferPointer { stderr.append($0, emit: emit) }
            case .stdinToStdout:
                (command.stdin ?? []).withUnsafeBufferPointer { stdout.append($0, emit: emit) }
            case .wait(let duration):
                if let timeout, elapsed + duration > timeout {
                    try await clock.sleep(for: timeout - elapsed)
                    throw RemoteError(kind: .commandTimeout, target: target, message: """
                        `\(command.shortDescription)` did not finish within its timeout (in-memory transport)
                        """)
                }
                try await clock.sleep(for: duration)
                elapsed += duration
            }
        }
        let out = stdout.finish(emit: emit)
        let err = stderr.finish(emit: emit)
        let status: Int32, signal: String?
        switch behaviour.ending {
        case .exit(let code):
            (status, signal) = (code, nil)
        case .signal(let name):
            (status, signal) = (CommandResult.exitStatus(killedBy: name), name)
        case .error(let kind, let message):
            throw RemoteError(kind: kind, target: target, message: message)
        }
        return CommandResult(exitStatus: status, exitSignal: signal, stdout: out.bytes, stderr: err.bytes,
                             stdoutTruncated: out.truncated, stderrTruncated: err.truncated)
    }

    private func takeTurn() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func endTurn() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()  // the turn passes on; `busy` stays set
        }
    }
}
