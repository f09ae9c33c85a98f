// Host-key trust: the rules that decide whether the key a server presents belongs
// to the host we meant to reach. Pure Swift on purpose: both the SSH transport
// (libssh2) and git-over-ssh (libgit2's certificate_check) call the same function,
// and the rules are tested without a network.

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Specs

/// A public host key in SSH wire format.
public struct HostKey: Hashable, Sendable {
    /// The key type, e.g. "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa".
    public var type: String
    /// The raw public key blob (RFC 4253 §6.6), as it travels on the wire.
    public var blob: [UInt8]

    public init(type: String, blob: [UInt8]) {
        self.type = type
        self.blob = blob
    }

    /// A key from its blob alone; the type is read from the blob's first field
    /// (useful when a C library hands over only the raw key).
    public init?(blob: [UInt8]) {
        guard let type = Self.embeddedType(blob) else { return nil }
        self.init(type: type, blob: blob)
    }

    /// Parses `"<type> <base64> [comment]"` (a `.pub` file line or a pinned `hostKeys` entry).
    /// Returns nil when the base64 is invalid or the blob names a different type
    /// (`SSHKeyText.parse`, the parser validation also uses).
    public init?(openSSH line: String) {
        guard case .success(let key) = SSHKeyText.parse(line) else { return nil }
        self.init(type: key.type, blob: key.blob)
    }

    /// `"<type> <base64>"`, the form used in `hostKeys` and known_hosts.
    public var openSSH: String { "\(type) \(Data(blob).base64EncodedString())" }

    /// `SHA256:<base64 without padding>`, exactly as `ssh-keygen -lf` prints it.
    public var fingerprint: String {
        let b64 = Data(Digest.sha256(blob)).base64EncodedString()
        return "SHA256:" + b64.replacingOccurrences(of: "=", with: "")
    }

    /// The first field of a key blob is its type as an SSH string (uint32 length + bytes).
    static func embeddedType(_ blob: [UInt8]) -> String? { SSHKeyText.embeddedType(blob) }
}

/// Where trusted keys come from and whether a new one may be trusted on first use.
public struct HostKeyPolicy: Sendable {
    /// Keys pinned in the Host spec (`hostKeys`).
    public var pinned: [HostKey]
    /// An OpenSSH known_hosts file (plain or hashed entries, `[host]:port`, `@revoked`).
    public var knownHostsFile: String?
    /// `--accept-new-host-keys`: trust a host we have no key for, and record it.
    public var acceptNew: Bool
    /// Where trust-on-first-use records keys (known_hosts format); also read as trusted.
    public var recordFile: String?

    public init(pinned: [HostKey] = [], knownHostsFile: String? = nil, acceptNew: Bool = false, recordFile: String? = nil) {
        self.pinned = pinned
        self.knownHostsFile = knownHostsFile
        self.acceptNew = acceptNew
        self.recordFile = recordFile
    }

    /// Every key this policy already trusts for `host:port` (pinned first). The SSH
    /// transport uses the types to ask the server for a key we can check, so that a
    /// server holding both an ed25519 and an ECDSA key is not reported as "changed"
    /// just because it offered the other one.
    public func trustedKeys(host: String, port: Int) -> [HostKey] {
        var keys = pinned
        for entry in knownHostEntries(host: host, port: port) where entry.marker == nil {
            if !keys.contains(entry.key) { keys.append(entry.key) }
        }
        return keys
    }

    func knownHostEntries(host: String, port: Int) -> [KnownHosts.Entry] {
        [knownHostsFile, recordFile].compactMap { $0 }.flatMap { path in
            KnownHosts.parse(KnownHosts.read(path)).filter { $0.matches(host: host, port: port) }
        }
    }
}

public struct HostKeyError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case unknown, changed, revoked }
    public var kind: Kind
    public var message: String
    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { message }
}

/// Decides whether `presented` is the right key for `host:port`.
///
/// - trusted (pinned, in known_hosts, or in the TOFU record) → returns;
/// - revoked (an `@revoked` entry for this host lists it) → throws `.revoked`;
/// - changed (keys for this host are known, none matches) → throws `.changed`
///   naming both fingerprints — never overridden by `acceptNew`;
/// - unknown with `acceptNew` → appended to `recordFile` (when set) and trusted;
/// - unknown → throws `.unknown` with the fingerprint and the line to pin it.
/// A missing known_hosts file is simply "no keys known": never a reason to trust.
public func verifyHostKey(host: String, port: Int, presented: HostKey, policy: HostKeyPolicy) throws(HostKeyError) {
    let name = KnownHosts.hostPattern(host: host, port: port)
    let entries = policy.knownHostEntries(host: host, port: port)

    if entries.contains(where: { $0.marker == "@revoked" && $0.key == presented }) {
        throw HostKeyError(kind: .revoked, message: """
            host key for \(name) is REVOKED (marked @revoked in a known_hosts file): \
            \(presented.type) \(presented.fingerprint). Refusing to connect.
            """)
    }
    let known = policy.trustedKeys(host: host, port: port)
    if known.contains(presented) { return }

    if !known.isEmpty {
        let expected = known.map { "\($0.type) \($0.fingerprint)" }.joined(separator: ", ")
        throw HostKeyError(kind: .changed, message: """
            host key for \(name) has CHANGED: the server presented \(presented.type) \
            \(presented.fingerprint), but the trusted key is \(expected). This may be an \
            attack (someone impersonating the host) or a reinstalled machine; verify the \
            new key out of band, then update the Host's hostKeys or the known_hosts entry.
            """)
    }

    if policy.acceptNew {
        if let recordFile = policy.recordFile {
            do {
                try KnownHosts.append(line: "\(name) \(presented.openSSH)", to: recordFile)
            } catch {
                // Trusting a key we could not record would silently re-trust a different
                // key next time: refuse instead.
                throw HostKeyError(kind: .unknown, message: """
                    host key for \(name) (\(presented.type) \(presented.fingerprint)) could not be \
                    recorded in \(recordFile): \(error)
                    """)
            }
        }
        return
    }

    throw HostKeyError(kind: .unknown, message: """
        host key for \(name) is not known: \(presented.type) \(presented.fingerprint). \
        If this is the right host, pin the key in its Host spec:
            hostKeys: ["\(presented.openSSH)"]
        or run again with --accept-new-host-keys to trust and record it.
        """)
}

/// OpenSSH known_hosts reading and writing (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT").
enum KnownHosts {
    struct Entry {
        var marker: String?          // "@revoked", "@cert-authority", or nil
        var patterns: [String]       // comma-separated host field, or one hashed "|1|salt|hash"
        var key: HostKey

        func matches(host: String, port: Int) -> Bool {
            let name = KnownHosts.hostPattern(host: host, port: port)
            var matched = false
            for pattern in patterns {
                if pattern.hasPrefix("|1|") {
                    if KnownHosts.hashedMatches(pattern, name: name) { matched = true }
                } else if pattern.hasPrefix("!") {
                    // A negated pattern that matches excludes the host, whatever else matched.
                    if KnownHosts.wildcardMatch(String(pattern.dropFirst()).lowercased(), name.lowercased()) { return false }
                } else if KnownHosts.wildcardMatch(pattern.lowercased(), name.lowercased()) {
                    matched = true
                }
            }
            return matched
        }
    }

    /// `host` for port 22, `[host]:port` otherwise — what OpenSSH looks up and records.
    static func hostPattern(host: String, port: Int) -> String {
        port == 22 ? host : "[\(host)]:\(port)"
    }

    static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    /// Lines that do not parse are skipped here; validation reports them
    /// (with their line numbers) before any connection is made.
    static func parse(_ text: String) -> [Entry] {
        text.split(whereSeparator: \.isNewline).compactMap { raw -> Entry? in
            guard case .success(let e)? = SSHKeyText.parseKnownHostsLine(raw) else { return nil }
            return Entry(marker: e.marker, patterns: e.patterns, key: HostKey(type: e.key.type, blob: e.key.blob))
        }
    }

    /// `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`.
    static func hashedMatches(_ pattern: String, name: String) -> Bool {
        let parts = pattern.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 4, let salt = Data(base64Encoded: String(parts[2])),
              let hash = Data(base64Encoded: String(parts[3])) else { return false }
        return Digest.hmacSHA1(key: [UInt8](salt), message: Array(name.utf8)) == [UInt8](hash)
    }

    /// OpenSSH host patterns: `*` any run of characters, `?` exactly one.
    static func wildcardMatch(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == "?" || p[pi] == t[ti] {
                pi += 1; ti += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    struct WriteError: Error, CustomStringConvertible {
        var description: String
    }

    /// Appends one line with a single O_APPEND write, so concurrent recorders
    /// (several hosts connecting at once) never interleave within a line.
    static func append(line: String, to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw WriteError(description: String(cString: strerror(errno))) }
        defer { close(fd) }
        // Start on a fresh line if the file does not end with one.
        var bytes = Array((line + "\n").utf8)
        var st = stat()
        if fstat(fd, &st) == 0, st.st_size > 0 {
            let existing = (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
            if existing.last != UInt8(ascii: "\n") { bytes.insert(UInt8(ascii: "\n"), at: 0) }
        }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw WriteError(description: String(cString: strerror(errno))) }
    }
}
