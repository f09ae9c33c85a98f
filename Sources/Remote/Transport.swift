// The seam between labsync and a machine: run a modelled command, write a file.
// `SSHTransport` is the real one; tests and the planner's recorded observations
// can provide others.

public protocol Transport: Sendable {
    /// Who this transport talks to, for messages ("user@host:port").
    var target: String { get }

    /// Runs `command`, streaming its output line by line to `onOutput` (called on
    /// the transport's own thread: keep it short) while collecting it.
    /// A non-zero exit is a result, not an error; errors are about reaching the
    /// host (`RemoteError`). `timeout` bounds the command's run time.
    func run(_ command: RemoteCommand, timeout: Duration?,
             onOutput: (@Sendable (OutputLine) -> Void)?) async throws -> CommandResult

    /// Replaces `path` atomically: contents go to a temp file in the same directory
    /// (over stdin, never argv), which gets its mode and owner before it is renamed
    /// over `path`. Readers see the old file or the new one, never a partial one.
    func writeFile(path: String, contents: [UInt8], mode: Int, owner: String?, group: String?,
                   become: Become) async throws

    /// Ends the session. A later `run` connects again.
    func close() async
}

extension Transport {
    public func run(_ command: RemoteCommand, timeout: Duration? = nil) async throws -> CommandResult {
        try await run(command, timeout: timeout, onOutput: nil)
    }

    public func writeFile(path: String, contents: [UInt8], mode: Int = 0o644, owner: String? = nil,
                          group: String? = nil, become: Become = .none) async throws {
        let command = RemoteCommand.writeFile(path: path, contents: contents, mode: mode, owner: owner,
                                              group: group, become: become)
        let result = try await run(command, timeout: nil, onOutput: nil)
        guard result.succeeded else {
            throw RemoteError(kind: .commandFailed, target: target, message: """
                writing \(path) failed (\(result.statusDescription)): \(result.stderrText.trimmingTrailingNewlines)
                """)
        }
    }
}

extension RemoteCommand {
    // mktemp creates the file 0600, so secret content is never readable by others,
    // not even between `cat` and `chmod`. The trap removes the temp file on failure.
    private static let writeFileScript = """
        set -eu
        dir=$(dirname -- "$1"); base=$(basename -- "$1")
        tmp=$(mktemp "$dir/.$base.labsync.XXXXXX")
        trap 'rm -f -- "$tmp"' EXIT
        cat > "$tmp"
        chmod "$2" "$tmp"
        if [ -n "$3" ]; then chown -- "$3" "$tmp"; fi
        if [ -n "$4" ]; then chgrp -- "$4" "$tmp"; fi
        mv -f -- "$tmp" "$1"
        trap - EXIT
        """

    /// The command `Transport.writeFile` runs: contents on stdin, never in argv.
    package static func writeFile(path: String, contents: [UInt8], mode: Int, owner: String?, group: String?,
                                  become: Become) -> RemoteCommand {
        RemoteCommand("/bin/sh", ["-c", writeFileScript, "labsync-write-file", path,
                                  String(mode, radix: 8), owner ?? "", group ?? ""],
                      stdin: contents, become: become)
    }

    /// What this command writes, when `writeFile(path:…)` made it; nil otherwise.
    /// `package`: the in-memory transport of the tests records writes with it.
    package var fileWrite: (path: String, mode: Int, owner: String?, group: String?)? {
        guard executable == "/bin/sh", arguments.count == 7, arguments[0] == "-c",
              arguments[1] == Self.writeFileScript, arguments[2] == "labsync-write-file",
              let mode = Int(arguments[4], radix: 8) else { return nil }
        return (arguments[3], mode, arguments[5].isEmpty ? nil : arguments[5], arguments[6].isEmpty ? nil : arguments[6])
    }
}

/// One line of output (without its newline). Lines longer than the transport's
/// line limit are delivered in pieces.
public struct OutputLine: Sendable, Hashable {
    public enum Stream: Sendable, Hashable { case stdout, stderr }
    public var stream: Stream
    public var text: String
    public init(stream: Stream, text: String) {
        self.stream = stream
        self.text = text
    }
}

public struct CommandResult: Sendable, Hashable {
    /// The exit status. A command killed by a signal has status 128 + signal
    /// number here (as sh reports it) — SSH itself says 0 — so a kill is never
    /// mistaken for success.
    public var exitStatus: Int32
    /// The signal name without "SIG" ("KILL", "TERM") when the command was killed.
    public var exitSignal: String?
    /// Collected output, bounded: when a stream exceeded the limit, only its
    /// *last* bytes are kept (errors and summaries come last) and the flag is set.
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    public var stdoutTruncated: Bool
    public var stderrTruncated: Bool

    public init(exitStatus: Int32, exitSignal: String? = nil, stdout: [UInt8] = [], stderr: [UInt8] = [],
                stdoutTruncated: Bool = false, stderrTruncated: Bool = false) {
        self.exitStatus = exitStatus
        self.exitSignal = exitSignal
        self.stdout = stdout
        self.stderr = stderr
        self.stdoutTruncated = stdoutTruncated
        self.stderrTruncated = stderrTruncated
    }

    public var succeeded: Bool { exitStatus == 0 && exitSignal == nil }
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    public var statusDescription: String {
        if let exitSignal { return "killed by SIG\(exitSignal)" }
        return "exit status \(exitStatus)"
    }

    /// The status sh reports for a command killed by `signal` ("TERM" → 143).
    /// `package`: the in-memory transport of the tests reports kills the same way.
    package static func exitStatus(killedBy signal: String) -> Int32 {
        128 + (signalNumbers[signal] ?? 0)
    }

    private static let signalNumbers: [String: Int32] = [
        "HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "BUS": 7, "FPE": 8, "KILL": 9,
        "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15,
    ]
}

public struct RemoteError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case connect               // TCP connect failed (refused, unreachable, DNS)
        case timeout               // connect/handshake/auth took longer than connectTimeout
        case hostKey               // host key unknown, changed or revoked (see `hostKeyError`)
        case authentication        // no identity was accepted
        case unsupportedKey        // e.g. an RSA identity, which libssh2 1.10 cannot use
        case sudoRequiresPassword  // `sudo -n` refused: the host wants a password
        case connectionLost        // the session died mid-command; the next run reconnects
        case commandTimeout        // the command ran longer than its timeout
        case protocolError         // any other libssh2 failure
        case commandFailed         // a helper (e.g. writeFile) ran but its command failed
    }
    public var kind: Kind
    /// "user@host:port".
    public var target: String
    public var message: String
    /// For `.hostKey`: the verdict (unknown / changed / revoked) and its message.
    public var hostKeyError: HostKeyError?

    public init(kind: Kind, target: String, message: String, hostKeyError: HostKeyError? = nil) {
        self.kind = kind
        self.target = target
        self.message = message
        self.hostKeyError = hostKeyError
    }

    public var description: String { "\(target): \(message)" }

    /// `sudo -n` prints "a password is required" and exits 1 instead of prompting:
    /// that result is an error of its own, with the fix. `package`: the in-memory
    /// transport of the tests reports it the same way.
    package static func sudoRequiresPassword(_ command: RemoteCommand, _ result: CommandResult,
                                             target: String, user: String) -> RemoteError? {
        guard command.become == .sudo, result.exitStatus == 1,
              result.stderrText.contains("a password is required") else { return nil }
        return RemoteError(kind: .sudoRequiresPassword, target: target, message: """
            sudo on this host requires a password for \(user), and labsync never types \
            one: allow the commands without a password (a NOPASSWD rule in /etc/sudoers.d) or \
            connect as root and set `become: none`.
            """)
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var s = self
        while s.last?.isNewline == true { s.removeLast() }
        return s
    }
}
