import Drivers
import Foundation
import Remote
import Specs

/// The whole apply of one host as ONE remote shell script (one SSH round
/// trip, whatever the number of steps):
///
/// 1. take the host lock — `flock` on `/var/lock/labsync/host.lock`, held by
///    the script's shell, so it dies with the SSH session when labsync is
///    killed; a second labsync waits up to the lock timeout, then fails
///    naming the holder (written to `host.owner`);
/// 2. run host-wide steps (apt) one after another, all of them;
/// 3. run each environment's steps in order, environments in parallel
///    (at most `parallelism` at once); a failed environment does not stop
///    the others; an environment whose step needs a failed host-wide step
///    (`PlannedStep.needs`) is skipped, with the failed step's name;
/// 4. before a step's first command, check its `checkedPaths` on the host
///    (`labsync_safe_dir`): a symbolic link, a foreign owner or a group/other
///    write bit on the way fails the step, naming the culprit, before it
///    writes anything; after a step's commands all succeed, write its marker
///    atomically — never before;
/// 5. the after-resources phase (`StepKind.Phase.afterResources`, e.g. the
///    hub's configuration, whose kernels need their environments): one after
///    another in step-kind order; stop at the first failure; skipped like an
///    environment when a host-wide step it needs failed.
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
/// `@@<nonce> locked`, `@@<nonce> waiting <owner>`, `@@<nonce> lock-timeout <owner>`,
/// `@@<nonce> skip N <failed host-wide step kind>`, `@@<nonce> stale`.
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
    /// Where the lock lives; nil: `/var/lock/labsync` for root, the user's runtime
    /// directory otherwise. Tests point it at a directory of their own.
    public var lockDirectory: String?
    /// The host's `HostObservation.generation` the plan was made from. Once the
    /// lock is held, a different generation means another run changed the host in
    /// between: the script does nothing and exits `staleExitCode`. nil: not checked.
    /// Either way the script then writes its own nonce as the new generation.
    public var expectedGeneration: String?

    public init(steps: [PlannedStep], nonce: String = HostScript.makeNonce(), lockTimeoutSeconds: Int = 600,
                parallelism: Int = 4, owner: String, writtenAt: Date = Date(), secretValues: [String: String] = [:],
                lockDirectory: String? = nil, expectedGeneration: String? = nil) {
        self.expectedGeneration = expectedGeneration
        self.secretValues = secretValues
        self.lockDirectory = lockDirectory
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
    /// Exit code of the script when the plan is stale (see `expectedGeneration`).
    public static let staleExitCode: Int32 = 76

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
                values[name] = try resolveSecret(reference, resource: step.resource, environment: environment)
            }
        }
        return values
    }

    /// One secret reference's value on this machine (see `resolveSecrets`).
    public static func resolveSecret(_ reference: SecretReference, resource: String,
                                     environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(SecretError) -> String {
        var value: String
        switch reference {
        case .fromEnv(let variable):
            guard let v = environment[variable], !v.isEmpty else {
                throw SecretError(kind: .missing, message: "\(resource): secret \(reference): the environment variable \(variable) is not set")
            }
            value = v
        case .fromFile(let path):
            guard let data = FileManager.default.contents(atPath: (path as NSString).expandingTildeInPath) else {
                throw SecretError(kind: .unreadable, message: "\(resource): secret \(reference): cannot read \(path)")
            }
            value = String(decoding: data, as: UTF8.self)
            while value.last == "\n" || value.last == "\r" { value.removeLast() }
        }
        let unsafe = value.isEmpty || value.unicodeScalars.contains {
            $0.value < 0x21 || $0.value > 0x7E || $0 == "'" || $0 == "\"" || $0 == "\\"
        }
        if unsafe {
            throw SecretError(kind: .unsafe, message: "\(resource): secret \(reference) must be one printable ASCII word without quotes or backslashes")
        }
        return value
    }

    /// Compares secrets with observed fingerprints using the values this
    /// machine can resolve now (a plan without them cannot tell, and says nothing).
    public static func localSecretChecker(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> SecretChecker {
        SecretChecker { reference in try? resolveSecret(reference, resource: "", environment: environment) }
    }

    /// The script sent on `/bin/sh -s`'s stdin, which labsync holds open until the
    /// script ends (`RemoteCommand.holdStdinOpen`). It runs the work (`renderWork`)
    /// in a session (and process group) of its own, and a watcher reads stdin: its
    /// end means labsync or its SSH session is gone, and the whole group — pip, apt,
    /// the lock's holder — is killed at once instead of running on, holding the
    /// lock, until it next writes to the dead channel. SIGHUP and SIGTERM do the same.
    ///
    /// Everything is one `{ … }` block, which sh reads whole before running any of
    /// it, so the watcher cannot swallow script text. The work arrives on its sh's
    /// stdin as a here-document (a pipe: nothing on disk, nothing in argv); the
    /// nonce makes its end line unforgeable. (`kill -9 -PGID`: dash's `kill` takes
    /// neither `--` nor `-s KILL` before a negative pid.)
    public func render() -> String {
        let end = "LABSYNC_SCRIPT_END_\(nonce)"
        return """
            # labsync apply script; run by /bin/sh -s
            {
            exec 3<&0
            setsid /bin/sh -s 3<&- <<'\(end)' &
            \(renderWork())\(end)
            work=$!
            setsid /bin/sh -c 'cat >/dev/null; kill -9 "-$1" 2>/dev/null' labsync-watch "$work" <&3 >/dev/null 2>&1 3<&- &
            watch=$!
            exec 3<&-
            trap 'kill -9 "-$work" "-$watch" 2>/dev/null; exit 129' HUP TERM
            wait "$work"; rc=$?
            kill -9 "-$watch" 2>/dev/null
            exit "$rc"
            }

            """
    }

    /// The work itself: lock, steps, markers (see the type's comment).
    func renderWork() -> String {
        let q = ShellQuote.quote
        let m = "@@\(nonce)"
        let staleCheck = expectedGeneration.map { expected in
            #"[ "$(cat "$lockdir/generation" 2>/dev/null)" = "# + q(expected)
                + #" ] || { echo "$m stale"; exit "# + "\(Self.staleExitCode); }\n"
        } ?? ""
        let chooseLockDirectory = lockDirectory.map { "lockdir=\(q($0))" }
            ?? #"if [ "$(id -u)" = 0 ]; then lockdir=/var/lock/labsync; else lockdir="${XDG_RUNTIME_DIR:-$HOME/.cache}/labsync"; fi"#
        var s = """
            # labsync apply script; run by /bin/sh -s
            set -u
            m=\(q(m))
            \(chooseLockDirectory)
            \(CoreScripts.safeDirectory)
            # /var/lock is often a symlink to /run/lock, which a systemd-less image or a
            # fresh /run lacks: `mkdir -p` then fails with "File exists". Create the
            # directory the link names (readlink -m resolves a dangling link). Only the
            # parent is resolved: /run/lock is writable by everyone (sticky), so the
            # lock directory itself must be root's real directory, made and checked
            # here, or anyone could point host.owner's truncating write elsewhere.
            lockdir="$(readlink -m -- "$(dirname -- "$lockdir")" 2>/dev/null || dirname -- "$lockdir")/$(basename -- "$lockdir")"
            labsync_safe_dir -c "$lockdir" || exit 1
            exec 9>>"$lockdir/host.lock"
            if ! flock -n 9; then
              echo "$m waiting $(cat "$lockdir/host.owner" 2>/dev/null)"
              flock -w \(lockTimeoutSeconds) 9 || { echo "$m lock-timeout $(cat "$lockdir/host.owner" 2>/dev/null)"; exit \(Self.lockTimeoutExitCode); }
            fi
            printf '%s\\n' \(q(owner)) > "$lockdir/host.owner"
            echo "$m locked"
            \(staleCheck)printf '%s\\n' \(q(nonce)) > "$lockdir/generation"
            tmp=$(mktemp -d) || exit 1
            trap 'rm -rf "$tmp"' EXIT
            # Prefixes each line of a step's output with its number (stdout and stderr merged).
            tag() { while IFS= read -r line || [ -n "$line" ]; do printf '%s out %s %s\\n' "$m" "$1" "$line"; done; }

            """
        let (hostWide, groups, afterPhase) = phases
        // Host-wide steps all run (one after another); a resource group or a later
        // step is skipped only when a host-wide step it needs failed or was skipped.
        s += """
            failed=' '
            # Prints the first of its arguments that names a failed host-wide step.
            failedneed() { for k in "$@"; do case "$failed" in *" $k "*) printf '%s' "$k"; return 0;; esac; done; return 1; }

            """
        for i in hostWide {
            let failed = "failed=\"$failed\"\(q(steps[i].action.name + " "))\n"
            s += guarded([i], indent: "", then: stepBlock(i, indent: "") + "[ \"$rc\" = 0 ] || " + failed,
                         whenSkipped: failed)
        }
        // Environment groups, `parallelism` at a time.
        for wave in stride(from: 0, to: groups.count, by: parallelism) {
            for group in groups[wave..<min(wave + parallelism, groups.count)] {
                var body = "(\n"
                for i in group {
                    body += stepBlock(i, indent: "  ")
                    body += "  [ \"$rc\" = 0 ] || exit 1\n"
                }
                body += ") &\n"
                s += guarded(group, indent: "", then: body)
            }
            s += "wait\n"
        }
        for i in afterPhase {
            s += guarded([i], indent: "", then: stepBlock(i, indent: "") + "[ \"$rc\" = 0 ] || exit 1\n")
        }
        s += "[ \"$failed\" = ' ' ] || exit 1\n"
        s += "exit 0\n"
        return s
    }

    /// The host-wide step kinds that `indices` (one group, or one step) wait for:
    /// those they need (all of them when a step does not say) that this script runs
    /// before them.
    func blockers(_ indices: [Int]) -> [String] {
        var found: [String] = []
        for i in indices {
            let earlier = steps.indices.filter { j in
                steps[j].action.phase == .hostWide && (steps[i].action.phase != .hostWide || j < i)
            }.map { steps[$0].action.name }
            for kind in earlier where steps[i].needs?.contains(kind) ?? true {
                if !found.contains(kind) && kind != steps[i].action.name { found.append(kind) }
            }
        }
        return found
    }

    /// `then` unless one of the host-wide steps the steps need failed; then each
    /// step is reported as skipped (`@@<nonce> skip N <kind>`).
    private func guarded(_ indices: [Int], indent: String, then body: String, whenSkipped: String = "") -> String {
        let needed = blockers(indices)
        if needed.isEmpty { return body }
        var s = "if why=$(failedneed \(needed.map(ShellQuote.quote).joined(separator: " "))); then\n"
        for i in indices { s += "  echo \"$m skip \(i) $why\"\n" }
        s += whenSkipped.isEmpty ? "" : "  " + whenSkipped
        s += "else\n" + body + "fi\n"
        return s
    }

    /// One step: its commands joined with &&, then its marker; fd 9 (the lock)
    /// is closed for the commands so a stray child cannot outlive labsync
    /// holding the lock.
    private func stepBlock(_ index: Int, indent: String) -> String {
        let step = steps[index]
        var lines = step.checkedPaths.map(\.shellLine)
        lines += step.commands.map { command -> String in
            var plain = command
            plain.become = .none  // the script itself runs with the host's privileges
            plain.stdin = nil
            let line = ShellQuote.render(plain)
            // The script arrives on sh's stdin: a command must never read it.
            guard let input = command.stdin else { return line + " < /dev/null" }
            var text = String(decoding: input, as: UTF8.self)
            for (name, _) in step.secrets {
                text = text.replacing(SecretToken.token(name), with: secretValues[name] ?? "")
                if let value = secretValues[name], text.contains(SecretToken.fingerprintToken(name)) {
                    text = text.replacing(SecretToken.fingerprintToken(name), with: SecretFingerprint.fresh(value))
                }
            }
            return "printf '%s' \(ShellQuote.quote(text)) | \(line)"
        }
        if let marker = step.markerAfter, let path = step.markerPath {
            let contents = String(decoding: marker.fileContents(writtenAt: writtenAt), as: UTF8.self)
            let tmp = path + ".labsync-tmp"
            // The directory may be a spec `owner`'s, who could plant a link at the
            // temporary name: removed, then created with O_EXCL (`set -C`), which
            // never follows a link; `mv` replaces a link at the final name itself.
            lines.append("rm -f -- \(ShellQuote.quote(tmp))")
            lines.append("(set -C; printf '%s' \(ShellQuote.quote(contents)) > \(ShellQuote.quote(tmp)))")
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
