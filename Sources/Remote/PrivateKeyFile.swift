// What labsync needs to know about a private key file before libssh2 tries it:
// whether it is RSA (unusable) or encrypted (needs a passphrase).

import Foundation

/// Just enough of the private key formats to tell the key type before libssh2 tries it.
enum PrivateKeyFile {
    static func isRSA(path: String) -> Bool {
        if let pub = try? String(contentsOfFile: path + ".pub", encoding: .utf8), pub.hasPrefix("ssh-rsa ") { return true }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
        if text.contains("BEGIN RSA PRIVATE KEY") { return true }
        return openSSHPublicKeyType(text) == "ssh-rsa"
    }

    static func isEncrypted(path: String) -> Bool {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
        if text.contains("ENCRYPTED") { return true }  // PEM: "Proc-Type: 4,ENCRYPTED" / PKCS#8
        guard let body = openSSHBody(text) else { return false }
        return readString(body, at: 15).map { String(decoding: $0.value, as: UTF8.self) } != "none"
    }

    /// "openssh-key-v1\0", cipher, kdf, kdf options, key count, then the public key blob.
    static func openSSHPublicKeyType(_ text: String) -> String? {
        guard let body = openSSHBody(text) else { return nil }
        var offset = 15
        for _ in 0..<3 {  // cipher name, kdf name, kdf options
            guard let field = readString(body, at: offset) else { return nil }
            offset = field.next
        }
        offset += 4  // number of keys
        guard let publicKey = readString(body, at: offset) else { return nil }
        return HostKey.embeddedType(publicKey.value)
    }

    private static func openSSHBody(_ text: String) -> [UInt8]? {
        let begin = "-----BEGIN OPENSSH PRIVATE KEY-----", end = "-----END OPENSSH PRIVATE KEY-----"
        guard let b = text.range(of: begin), let e = text.range(of: end) else { return nil }
        let base64 = text[b.upperBound..<e.lowerBound].filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: String(base64)) else { return nil }
        let body = [UInt8](data)
        guard body.count > 15, body.starts(with: Array("openssh-key-v1\0".utf8)) else { return nil }
        return body
    }

    private static func readString(_ bytes: [UInt8], at offset: Int) -> (value: [UInt8], next: Int)? {
        guard offset + 4 <= bytes.count else { return nil }
        let n = Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
        guard n >= 0, offset + 4 + n <= bytes.count else { return nil }
        return (Array(bytes[(offset + 4)..<(offset + 4 + n)]), offset + 4 + n)
    }
}
