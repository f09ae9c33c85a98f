import Drivers
import Foundation
import Remote

/// The whole apply of one host as ONE remote shell script (one SSH round
/// trip, whatever the number of steps):
///
/// 1. take the host lock — `flock` on `/var/lock/labsync/host.lock`, held by
///    the script's shell, so it dies with the SSH session when labsync is
///    killed; a second labsync waits up to the lock timeout, then fails
///    naming the holder (written to `host.owner`);
/// 2. run host-wide steps (apt) one after another; stop at the first failure;
/// 3. run each environment's steps in order, environments in parallel
///    (at most `parallelism` at once); a failed environment does not stop
///    the others;
/// 4. after a step's commands all succeed, write its marker atomically —
///    never before;
/// 5. the after-resources phase (`StepKind.Phase.afterResources`, e.g. the
///    hub's configuration, whose kernels need their environments): one after
///    another in step-kind order; stop at the first failure.
/// The script knows no driver: each step's kind says which phase it is in.
///
/// Secrets: a step's `secrets` are resolved on this machine (`resolveSecrets`)
/// only when the script is rendered, and replace their placeholders in the
/// stdin of the step's commands. They travel inside this script, which goes
/// to the host on the SSH channel's stdin, and reach the command through the
/// shell's builtin `printf`: never in an argv, a plan or a log.
///
/// Commands are rendered by `ShellQuote.render`, the project's one quoting
/// function. Output is reported through marker lines carrying a per-run
/// nonce, which program output cannot forge by accident:
/// `@@<nonce> begin N`, `@@<nonce> end N RC`, `@@<nonce> out N <line>`,
/// `@@<nonce> locked`, `@@<nonce> waiting <owner>`, `@@<nonce> lock-timeout <owner>`.
/// A step's stdout and stderr are merged into its `out` lines (they arrive
/// in order that way, even when environments run in parallel).
public struct HostScript: Sendable {
    public var steps: [PlannedStep]
    public var nonce: String
    public var lockTimeoutSeconds: Int
    public var parallelism: Int
    /// Who holds the lock, for a waiting labsync's message.
    public var owner: String
    public var writtenAt: Date
    /// Resolved secrets by placeholder name (see `resolveSecrets`).
    public var secretValues: [String: String]

    public init(steps: [PlannedStep], nonce: String = HostScript.makeNonce(), lockTimeoutSeconds: Int = 600,
                parallelism: Int = 4, owner: String, writtenAt: Date = Date(), secretValues: [String: String] = [:]) {
        self.secretValues = secretValues
        self.steps = steps
        self.nonce = nonce
        self.lockTimeoutSeconds = lockTimeoutSeconds
        self.parallelism = max(1, parallelism)
        self.owner = owner
        self.writtenAt = writtenAt
    }

    public static func makeNonce() -> String {
        String((0..<12).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
    }

    /// Exit code of the script when the lock could not be had in time.
    public static let lockTimeoutExitCode: Int32 = 75

    /// Host-wide steps first (their indices), then resource groups in plan
    /// order, then the after-resources phase in step-kind order.
    var phases: (hostWide: [Int], groups: [[Int]], after: [Int]) {
        var hostWide: [Int] = []
        var groups: [String: [Int]] = [:]
        var order: [String] = []
        var after: [Int] = []
        for (i, step) in steps.enumerated() {
            switch step.action.phase {
            case .hostWide: hostWide.append(i); continue
            case .afterResources: after.append(i); continue
            case .resources: break
            }
            let key = step.environmentPath ?? step.resource
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(i)
        }
        // Stable: steps of one action keep their plan order.
        let afterOrdered = after.enumerated().sorted { a, b in
            let (x, y) = (steps[a.element].action, steps[b.element].action)
            return x != y ? StepKind.precedes(x, y) : a.offset < b.offset
        }.map(\.element)
        return (hostWide, order.map { groups[$0]! }, afterOrdered)
    }

    public struct SecretError: Error, Sendable, CustomStringConvertible {
        public enum Kind: Sendable, Hashable { case missing, unreadable, unsafe }
        public var kind: Kind
        public var message: String
        public var description: String { message }
    }

    /// Resolves every step's secret references on this machine. Messages name
    /// the reference, never the value. Values must be one line without
    /// whitespace, quotes or backslashes (OAuth client secrets are tokens): they
    /// are written into a single-quoted environment file line.
    public static func resolveSecrets(for steps: [PlannedStep],
                                      environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(SecretError) -> [String: String] {
        var values: [String: String] = [:]
        for step in steps {
            for (name, reference) in step.secrets.sorted(by: { $0.key < $1.key }) where values[name] == nil {
                var value: String
                switch reference {
                case .fromEnv(let variable):
                    guard let v = environment[variable], !v.isEmpty else {
                        throw SecretError(kind: .missing, message: "\(step.resource): secret \(reference): the environment variable \(variable) is not set")
                    }
                    value = v
                case .fromFile(let path):
                    guard let data = FileManager.default.contents(atPath: (path as NSString).expandingTildeInPath) else {
                        throw SecretError(kind: .unreadable, message: "\(step.resource): secret \(reference): cannot read \(path)")
                    }
                    value = String(decoding: data, as: UTF8.self)
                    while value.last == "\n" || value.last == "\r" { value.removeLast() }
                }
                let unsafe = value.isEmpty || value.unicodeScalars.contains {
                    $0.value < 0x21 || $0.value > 0x7E || $0 == "'" || $0 == "\"" || $0 == "\\"
                }
                if unsafe {
                    throw SecretError(kind: .unsafe, message: "\(step.resource): secret \(reference) must be one printable ASCII word without quotes or backslashes")
                }
                values[name] = value
            }
        }
        return values
    }

    public func render() -> String {
        let q = ShellQuote.quote
        let m = "@@\(nonce)"
        var s = """
            # labsync apply script; run by /bin/sh -s
            set -u
            m=\(q(m))
            if [ "$(id -u)" = 0 ]; then lockdir=/var/lock/labsync; else lockdir="${XDG_RUNTIME_DIR:-$HOME/.cache}/labsync"; fi
            mkdir -p "$lockdir" || exit 1
            exec 9>>"$lockdir/host.lock"
            if ! flock -n 9; then
              echo "$m waiting $(cat "$lockdir/host.owner" 2>/dev/null)"
              flock -w \(lockTimeoutSeconds) 9 || { echo "$m lock-timeout $(cat "$lockdir/host.owner" 2>/dev/null)"; exit \(Self.lockTimeoutExitCode); }
            fi
            printf '%s\\n' \(q(owner)) > "$lockdir/host.owner"
            echo "$m locked"
            tmp=$(mktemp -d) || exit 1
            trap 'rm -rf "$tmp"' EXIT
            # Prefixes each line of a step's output with its number (stdout and stderr merged).
            tag() { while IFS= read -r line || [ -n "$line" ]; do printf '%s out %s %s\\n' "$m" "$1" "$line"; done; }

            """
        let (hostWide, groups, afterPhase) = phases
        for i in hostWide {
            s += stepBlock(i, indent: "")
            s += "[ \"$rc\" = 0 ] || exit 1\n"
        }
        // Environment groups, `parallelism` at a time.
        for wave in stride(from: 0, to: groups.count, by: parallelism) {
            for group in groups[wave..<min(wave + parallelism, groups.count)] {
                s += "(\n"
                for i in group {
                    s += stepBlock(i, indent: "  ")
                    s += "  [ \"$rc\" = 0 ] || exit 1\n"
                }
                s += ") &\n"
            }
            s += "wait\n"
        }
        for i in afterPhase {
            s += stepBlock(i, indent: "")
            s += "[ \"$rc\" = 0 ] || exit 1\n"
        }
        s += "exit 0\n"
        return s
    }

    /// One step: its commands joined with &&, then its marker; fd 9 (the lock)
    /// is closed for the commands so a stray child cannot outlive labsync
    /// holding the lock.
    private func stepBlock(_ index: Int, indent: String) -> String {
        let step = steps[index]
        var lines = step.commands.map { command -> String in
            var plain = command
            plain.become = .none  // the script itself runs with the host's privileges
            plain.stdin = nil
            let line = ShellQuote.render(plain)
            // The script arrives on sh's stdin: a command must never read it.
            guard let input = command.stdin else { return line + " < /dev/null" }
            var text = String(decoding: input, as: UTF8.self)
            for (name, _) in step.secrets {
                text = text.replacing(SecretToken.token(name), with: secretValues[name] ?? "")
            }
            return "printf '%s' \(ShellQuote.quote(text)) | \(line)"
        }
        if let marker = step.markerAfter, let path = step.markerPath {
            let contents = String(decoding: marker.fileContents(writtenAt: writtenAt), as: UTF8.self)
            let tmp = path + ".labsync-tmp"
            lines.append("printf '%s' \(ShellQuote.quote(contents)) > \(ShellQuote.quote(tmp))")
            lines.append("mv -f -- \(ShellQuote.quote(tmp)) \(ShellQuote.quote(path))")
        }
        let body = lines.isEmpty ? "true" : lines.joined(separator: " && \\\n\(indent)    ")
        // The exit status crosses the pipe to `tag` through a file: POSIX sh
        // has no pipefail.
        return """
            \(indent)echo "$m begin \(index)"
            \(indent){ { \(body); } 9>&- 2>&1; echo $? > "$tmp/\(index)"; } | tag \(index)
            \(indent)rc=$(cat "$tmp/\(index)" 2>/dev/null || echo 1)
            \(indent)echo "$m end \(index) $rc"

            """
    }
}
