import Foundation

/// A certificate authority made on the spot with openssl, and a server
/// certificate it signed for loopback (`127.0.0.1`, `localhost`): what a
/// TLS-inspecting proxy or a university mirror with a private CA looks like
/// to a client. `trustSystemWide()` puts the CA in the host's system store
/// (Debian's `update-ca-certificates`), and only there: no client's own
/// bundle (certifi, uv's webpki roots) knows it.
public struct TestCA: Sendable {
    public let directory: String
    public var certificate: String { directory + "/ca.pem" }
    public var serverCertificate: String { directory + "/server.pem" }
    public var serverKey: String { directory + "/server-key.pem" }
    /// A name no other test CA shares, so two runs never remove each other's.
    public let name: String

    public init() throws {
        directory = try Spawn.makeTempDirectory(prefix: "testca")
        name = "labsync-test-ca-\(UInt32.random(in: 1_000_000...9_999_999))"
        let ca = directory + "/ca-key.pem", request = directory + "/server.csr", ext = directory + "/server.ext"
        try Spawn.check(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                         "-nodes", "-keyout", ca, "-out", certificate, "-days", "2", "-subj", "/CN=\(name)",
                         "-addext", "basicConstraints=critical,CA:TRUE",
                         "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        try Spawn.check(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                         "-keyout", serverKey, "-out", request, "-subj", "/CN=127.0.0.1"])
        // rustls (uv) wants the name in subjectAltName and a leaf that is not a CA.
        try """
            basicConstraints=critical,CA:FALSE
            keyUsage=critical,digitalSignature
            extendedKeyUsage=serverAuth
            subjectAltName=IP:127.0.0.1,DNS:localhost

            """.write(toFile: ext, atomically: true, encoding: .utf8)
        try Spawn.check(["openssl", "x509", "-req", "-in", request, "-CA", certificate, "-CAkey", ca,
                         "-CAcreateserial", "-out", serverCertificate, "-days", "2", "-extfile", ext])
        for file in [certificate, serverCertificate, serverKey] { chmod(file, 0o644) }
        chmod(directory, 0o755)
    }

    /// Where Debian's update-ca-certificates picks up local CAs (`.crt` only).
    public var systemPath: String { "/usr/local/share/ca-certificates/\(name).crt" }

    /// Adds the CA to the system store (root only). Undo with `untrustSystemWide`.
    public func trustSystemWide() throws {
        try FileManager.default.copyItem(atPath: certificate, toPath: systemPath)
        chmod(systemPath, 0o644)
        try Spawn.check(["update-ca-certificates"])
    }

    /// Removes the CA from the system store again (`update-ca-certificates --fresh`
    /// rebuilds the bundle from what is left).
    public func untrustSystemWide() {
        try? FileManager.default.removeItem(atPath: systemPath)
        _ = try? Spawn.run(["update-ca-certificates", "--fresh"])
    }

    public func remove() { try? FileManager.default.removeItem(atPath: directory) }
}
