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
///    never before.
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

    public init(steps: [PlannedStep], nonce: String = HostScript.makeNonce(), lockTimeoutSeconds: Int = 600,
                parallelism: Int = 4, owner: String, writtenAt: Date = Date()) {
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

    /// Host-wide steps first (their indices), then environment groups in plan order.
    var phases: (hostWide: [Int], groups: [[Int]]) {
        var hostWide: [Int] = []
        var groups: [String: [Int]] = [:]
        var order: [String] = []
        for (i, step) in steps.enumerated() {
            if step.action.isHostWide { hostWide.append(i); continue }
            let key = step.environmentPath ?? step.resource
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(i)
        }
        return (hostWide, order.map { groups[$0]! })
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
        let (hostWide, groups) = phases
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
            return "printf '%s' \(ShellQuote.quote(String(decoding: input, as: UTF8.self))) | \(line)"
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
