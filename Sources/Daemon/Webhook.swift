import Foundation
import Remote

/// Checks that a `POST /hooks/git` comes from the git server that knows the
/// shared secret: GitHub signs the body (`X-Hub-Signature-256: sha256=<hex HMAC>`),
/// GitLab sends the secret itself (`X-Gitlab-Token`). Gitea and Forgejo send
/// GitHub's header too. Comparisons take constant time.
public struct WebhookVerifier: Sendable {
    public enum Verdict: Equatable, Sendable {
        case accepted(provider: String)
        /// No secret configured: the hook is off.
        case disabled
        case missingSignature
        case badSignature
    }

    let secret: String?

    public init(secret: String?) { self.secret = secret }

    public func verify(body: [UInt8], header: (String) -> String?) -> Verdict {
        guard let secret, !secret.isEmpty else { return .disabled }
        if let signature = header("X-Hub-Signature-256") {
            let expected = "sha256=" + hex(HMACSHA256.mac(key: Array(secret.utf8), message: body))
            return constantTimeEqual(Array(signature.lowercased().utf8), Array(expected.utf8)) ? .accepted(provider: "github") : .badSignature
        }
        if let token = header("X-Gitlab-Token") {
            return constantTimeEqual(Array(token.utf8), Array(secret.utf8)) ? .accepted(provider: "gitlab") : .badSignature
        }
        return .missingSignature
    }

    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}

/// HMAC-SHA-256, from Remote's small Swift digest code (no crypto library is a
/// dependency of labsync). Checked against `openssl dgst -hmac` in the tests.
enum HMACSHA256 {
    static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        hmacSHA256(key: key, message: message)
    }
}
