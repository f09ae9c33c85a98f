import Foundation
import Remote
import Specs

/// Turns Host specs into SSH endpoints, and owns one transport per host for
/// the length of a run (DESIGN: one SSH session per host, reused).
public struct InventoryOptions: Sendable {
    /// Trust-on-first-use: record keys of hosts seen for the first time.
    public var acceptNewHostKeys: Bool
    /// Where recorded (TOFU) keys live: `<state-dir>/known_hosts`.
    public var recordedKeysFile: String
    /// Used when a Host has neither `hostKeys` nor `knownHostsFile`.
    public var defaultKnownHostsFile: String?
    public var connectTimeout: Duration

    public init(acceptNewHostKeys: Bool = false, recordedKeysFile: String,
                defaultKnownHostsFile: String? = expandHome("~/.ssh/known_hosts"),
                connectTimeout: Duration = .seconds(10)) {
        self.acceptNewHostKeys = acceptNewHostKeys
        self.recordedKeysFile = recordedKeysFile
        self.defaultKnownHostsFile = defaultKnownHostsFile
        self.connectTimeout = connectTimeout
    }
}


public enum Inventory {
    /// The endpoint for a Host spec. Pinned `hostKeys` win; else the Host's
    /// `knownHostsFile`, else the user's known_hosts, plus the keys labsync
    /// recorded on first use. A missing file is never a reason to trust a key.
    public static func endpoint(for host: HostSpec, options: InventoryOptions) -> SSHEndpoint {
        let pinned = host.hostKeys.compactMap { HostKey(openSSH: $0.value) }
        let knownHosts = pinned.isEmpty ? (host.knownHostsFile.map(expandHome) ?? options.defaultKnownHostsFile) : nil
        // Pins are authoritative: with pins, neither known_hosts nor an
        // earlier TOFU record can make another key trusted.
        let policy = HostKeyPolicy(
            pinned: pinned, knownHostsFile: knownHosts, acceptNew: options.acceptNewHostKeys,
            recordFile: pinned.isEmpty ? options.recordedKeysFile : nil)
        return SSHEndpoint(
            address: host.address, port: host.port, user: host.user,
            identityFile: host.identityFile.map(expandHome), hostKeyPolicy: policy,
            connectTimeout: options.connectTimeout)
    }

    /// How commands on this host gain root.
    public static func become(for host: HostSpec) -> Become {
        host.become == .sudo ? .sudo : .none
    }
}
