// A remote action is a value: what to run, with which arguments, what to feed it,
// and whether to run it as root. It becomes a shell line in exactly one place
// (`ShellQuote.render`), so quoting has one implementation that one property test
// round-trips, and commands can be compared and printed without running them.

/// How a command gains privileges on the host.
public enum Become: String, Sendable, Hashable, Codable {
    case none
    /// `sudo -n`: never prompts; a host that wants a password fails fast.
    case sudo
}

public struct RemoteCommand: Sendable, Hashable {
    public var executable: String
    public var arguments: [String]
    /// Bytes written to the command's standard input, then EOF. Secrets travel
    /// here, never in `arguments` (argv is visible to every user in `ps`).
    public var stdin: [UInt8]?
    public var become: Become
    /// Send no EOF after `stdin`: the command's standard input stays open for as
    /// long as labsync runs it, so its end tells the command that labsync (or the
    /// SSH session) is gone. The apply script watches for it (HostScript).
    public var holdStdinOpen = false

    public init(_ executable: String, _ arguments: [String] = [], stdin: [UInt8]? = nil, become: Become = .none) {
        self.executable = executable
        self.arguments = arguments
        self.stdin = stdin
        self.become = become
    }

    /// The one POSIX sh line the remote login shell runs.
    public var shellLine: String { ShellQuote.render(self) }

    /// The shell line on one line, cut at 120 characters: how errors name a command.
    package var shortDescription: String {
        let flat = shellLine.replacing("\n", with: "⏎")
        return flat.count > 120 ? String(flat.prefix(117)) + "..." : flat
    }
}

public enum ShellQuote {
    /// Quotes one word for POSIX sh: everything inside single quotes, each `'`
    /// written as `'\''`. Inside single quotes sh interprets nothing — no `$`,
    /// backticks, backslashes, globbing or word splitting — so every string
    /// (newlines and leading `-` included) arrives as one unchanged argument.
    /// Words are always quoted, even "safe" ones: one rule, no judgement calls.
    public static func quote(_ word: String) -> String {
        "'" + word.replacing("'", with: #"'\''"#) + "'"
    }

    /// Renders a command to one sh line: `'exe' 'arg'…`, or with `become: .sudo`
    /// `sudo -n -- 'exe' 'arg'…` (`-n`: fail instead of prompting; `--`: the
    /// executable is never read as a sudo option).
    public static func render(_ command: RemoteCommand) -> String {
        let words = ([command.executable] + command.arguments).map(quote).joined(separator: " ")
        switch command.become {
        case .none: return words
        case .sudo: return "sudo -n -- " + words
        }
    }
}
