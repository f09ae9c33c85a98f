import Foundation
import Remote
import Specs

/// What `labsync hosts check` reports about one host.
public struct HostFacts: Sendable, Equatable {
    public var os: String
    public var python3: String?
    public var systemd: Bool
    /// root, passwordless, password-required, or missing.
    public var sudo: String
    /// Time to connect, authenticate and run the facts command.
    public var connectTime: Duration
    /// One no-op command on the open session.
    public var roundTrip: Duration
}

public enum HostCheck {
    /// A fixed script (no spec value in it): facts as key=value lines.
    static let script = """
        if [ -r /etc/os-release ]; then . /etc/os-release; fi
        echo "os=${PRETTY_NAME:-unknown}"
        if command -v python3 >/dev/null 2>&1; then
          echo "python3=$(python3 -c 'import platform; print(platform.python_version())' 2>/dev/null)"
        else
          echo "python3="
        fi
        if [ -d /run/systemd/system ]; then echo systemd=yes; else echo systemd=no; fi
        if [ "$(id -u)" = 0 ]; then echo sudo=root
        elif ! command -v sudo >/dev/null 2>&1; then echo sudo=missing
        elif sudo -n true 2>/dev/null; then echo sudo=passwordless
        else echo sudo=password-required; fi
        """

    /// Why apply could not use a host with these facts, or nil. A `become:
    /// sudo` host must let the user run sudo without a password: apply runs
    /// `sudo -n`, which fails at once rather than wait for a prompt nobody
    /// answers, so such a host would fail on the first step.
    public static func problem(_ facts: HostFacts, become: BecomeMethod, user: String) -> String? {
        guard become == .sudo else { return nil }
        switch facts.sudo {
        case "root", "passwordless": return nil
        case "password-required":
            return "become: sudo, but sudo asks \(user) for a password (sudo -n fails); apply cannot use this host. "
                + "Give \(user) a NOPASSWD sudo rule, or connect as root"
        case "missing":
            return "become: sudo, but sudo is not installed on the host; apply cannot use this host"
        default:
            return "become: sudo, but whether sudo works could not be told (\(TextEscaping.visible(facts.sudo)))"
        }
    }

    /// Connects (through `transport`) and reads the facts. Errors are the
    /// transport's (`RemoteError`: connect, host key, authentication, …).
    public static func check(_ transport: any Transport) async throws -> HostFacts {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await transport.run(RemoteCommand("/bin/sh", ["-c", script]), timeout: .seconds(30))
        let connected = clock.now - start
        guard result.succeeded else {
            throw RemoteError(kind: .commandFailed, target: transport.target,
                              message: "facts command failed (\(result.statusDescription)): \(result.stderrText)")
        }
        let probe = clock.now
        _ = try await transport.run(RemoteCommand("true"), timeout: .seconds(30))
        let roundTrip = clock.now - probe

        var facts: [String: String] = [:]
        for line in result.stdoutText.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            facts[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        let python = facts["python3"].flatMap { $0.isEmpty ? nil : $0 }
        return HostFacts(
            os: facts["os"] ?? "unknown", python3: python, systemd: facts["systemd"] == "yes",
            sudo: facts["sudo"] ?? "unknown", connectTime: connected, roundTrip: roundTrip)
    }
}
