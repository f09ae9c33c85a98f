// The public doors to Digest (SHA-256 and HMAC-SHA-256 in Swift), for modules
// that must compare file contents with what a host reports (the hub driver
// compares the rendered jupyterhub_config.py with the sha256 the observe
// script computed) or check a webhook's signature (the daemon).

public func sha256Hex(_ bytes: [UInt8]) -> String {
    Digest.sha256(bytes).map { byte in
        let hex = String(byte, radix: 16)
        return byte < 16 ? "0" + hex : hex
    }.joined()
}

/// HMAC-SHA-256 (RFC 2104), checked against `openssl dgst -hmac` in DaemonTests.
public func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
    Digest.hmacSHA256(key: key, message: message)
}
