// Secret fingerprints: how a plan sees that a secret changed (a rotated OAuth
// client secret) without the secret, or anything that gives it away, ever
// being in a plan, a log, the journal or a command line.
//
// The host keeps, beside the secret (0600, root), `hmac-sha256:<salt>:<mac>`:
// MAC = HMAC-SHA-256(key: salt, message: secret), the salt 32 random bytes
// drawn by the executor each time it writes the secret. Observation reports
// that line; the planner recomputes the MAC with the observed salt from the
// value it resolves on the reconciler's machine and compares. The line is no
// more than a salted hash: it travels in observations, never in a plan, and a
// client secret an identity provider issues (≥ 128 random bits) cannot be
// guessed back from it; the per-write salt means two hosts with the same
// secret, or one host before and after a rotation back, show unrelated lines.

import Remote
import Specs

public enum SecretFingerprint {
    static let scheme = "hmac-sha256"

    /// The line for `value` with `salt`.
    public static func make(_ value: String, salt: [UInt8]) -> String {
        "\(scheme):\(hex(salt)):\(hex(hmacSHA256(key: salt, message: Array(value.utf8))))"
    }

    /// A new line with a fresh random salt (the executor, when it writes the secret).
    public static func fresh(_ value: String) -> String {
        var generator = SystemRandomNumberGenerator()
        return make(value, salt: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// Whether `line` (as observed) was made from `value`. nil: not a line of
    /// this scheme (then nothing can be said).
    public static func matches(_ line: String, value: String) -> Bool? {
        let parts = line.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == scheme, let salt = bytes(fromHex: parts[1]), !salt.isEmpty else { return nil }
        return make(value, salt: salt) == line
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    static func bytes(fromHex text: Substring) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            out.append(byte)
            index = next
        }
        return out
    }
}

/// What the planner may know about secrets: whether a reference's current value
/// (resolved on the reconciler's machine) made an observed fingerprint line. It
/// never hands the value to a driver.
public struct SecretChecker: Sendable {
    let resolve: @Sendable (SecretReference) -> String?

    /// `resolve` returns the reference's value, or nil when it cannot be read
    /// here (a CI plan without the secret): then no change is claimed.
    public init(resolve: @escaping @Sendable (SecretReference) -> String?) { self.resolve = resolve }

    /// Knows no secret: every comparison is "cannot tell".
    public static let unavailable = SecretChecker { _ in nil }

    /// true: the value differs from the one the line was made from; false: the
    /// same; nil: cannot tell (no value here, or a line of another scheme).
    public func changed(_ reference: SecretReference, observed line: String) -> Bool? {
        guard let value = resolve(reference), let same = SecretFingerprint.matches(line, value: value) else { return nil }
        return !same
    }
}
