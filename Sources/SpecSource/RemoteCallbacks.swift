import CLibGit2
import Foundation
import Remote

/// What libgit2's remote callbacks need: the host-key policy, the credentials, and what
/// was already tried. Lives only for one fetch and is used only on the libgit2 queue,
/// which is why the unchecked Sendable is sound.
final class RemoteCallbacks: @unchecked Sendable {
    private let url: String
    private let port: Int
    private let policy: HostKeyPolicy
    private let credentials: GitCredentials
    private var triedIdentityFile = false
    private var triedAgent = false
    private var tried: [String] = []
    /// Set when a callback refused; `check` reports it instead of libgit2's generic text.
    private(set) var failure: SourceError?

    init(source: GitSource) {
        url = source.url
        port = source.sshPort
        policy = source.hostKeyPolicy
        credentials = source.credentials
    }

    func install(in callbacks: inout git_remote_callbacks) {
        callbacks.payload = Unmanaged.passUnretained(self).toOpaque()
        callbacks.certificate_check = { certificate, valid, host, payload in
            RemoteCallbacks.from(payload).checkCertificate(certificate, valid: valid != 0, host: host)
        }
        callbacks.credentials = { out, url, usernameFromURL, allowedTypes, payload in
            RemoteCallbacks.from(payload).credential(out, usernameFromURL: usernameFromURL, allowed: allowedTypes)
        }
    }

    private static func from(_ payload: UnsafeMutableRawPointer?) -> RemoteCallbacks {
        Unmanaged<RemoteCallbacks>.fromOpaque(payload!).takeUnretainedValue()
    }

    /// ssh: the key must pass `verifyHostKey` — libgit2 1.5 would otherwise apply its own
    /// rules (and versions before 1.5.1 skipped the check entirely, CVE-2023-22742).
    /// https: libgit2's TLS verification stands (GIT_PASSTHROUGH).
    private func checkCertificate(_ certificate: UnsafeMutablePointer<git_cert>?, valid: Bool, host: UnsafePointer<CChar>?) -> Int32 {
        guard let certificate, certificate.pointee.cert_type == GIT_CERT_HOSTKEY_LIBSSH2 else {
            return GIT_PASSTHROUGH.rawValue
        }
        let hostName = host.map { String(cString: $0) } ?? "?"
        let hostKey = UnsafeRawPointer(certificate).assumingMemoryBound(to: git_cert_hostkey.self).pointee
        guard hostKey.type.rawValue & GIT_CERT_SSH_RAW.rawValue != 0, let raw = hostKey.hostkey,
              let key = HostKey(blob: Array(UnsafeRawBufferPointer(start: raw, count: hostKey.hostkey_len)))
        else {
            return refuse(.hostKey, "git server \(hostName) did not present a host key labsync can check")
        }
        do {
            try verifyHostKey(host: hostName, port: port, presented: key, policy: policy)
            return 0
        } catch {
            var message = "git server \(url): \(error.message)"
            let trusted = policy.trustedKeys(host: hostName, port: port)
            if error.kind == .changed, !trusted.contains(where: { $0.type == key.type }) {
                // libgit2 1.5 cannot ask the server for a key type (it only prefers the
                // type found in ~/.ssh/known_hosts), so a server with several host keys may
                // present one we hold no key of that type for. Still refused: say how to fix.
                message += """
                     Note: no \(key.type) key is trusted for this host, and libgit2 cannot \
                    ask for another key type; if \(key.fingerprint) is genuinely the server's, \
                    pin it too (ssh-keyscan -p \(port) \(hostName) lists all of its keys).
                    """
            }
            return refuse(.hostKey, message)
        }
    }

    /// Offers each configured method once: identity file, then agent. libgit2 calls back
    /// after every refusal, so without the bookkeeping it would loop forever.
    private func credential(
        _ out: UnsafeMutablePointer<UnsafeMutablePointer<git_credential>?>?,
        usernameFromURL: UnsafePointer<CChar>?, allowed: UInt32
    ) -> Int32 {
        let username = usernameFromURL.map { String(cString: $0) } ?? credentials.username ?? currentUserName()
        if allowed & GIT_CREDENTIAL_USERNAME.rawValue != 0, usernameFromURL == nil {
            return git_credential_username_new(out, username)
        }
        if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue != 0 {
            if let identity = credentials.identityFile.map(expandTilde), !triedIdentityFile {
                triedIdentityFile = true
                tried.append("identity file \(identity)")
                guard FileManager.default.isReadableFile(atPath: identity) else {
                    return refuse(.authentication, "ssh identity file \(identity) for \(url) cannot be read")
                }
                let publicKey = FileManager.default.fileExists(atPath: identity + ".pub") ? identity + ".pub" : nil
                return git_credential_ssh_key_new(out, username, publicKey, identity, credentials.passphrase)
            }
            if credentials.useAgent, !triedAgent, ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"] != nil {
                triedAgent = true
                tried.append("ssh-agent")
                return git_credential_ssh_key_from_agent(out, username)
            }
        }
        if allowed & GIT_CREDENTIAL_SSH_KEY.rawValue == 0 {
            // https (or another transport) asking for a password or token.
            return refuse(.authentication, """
                \(url) asks for a user name and password, which labsync does not send; \
                use an ssh:// URL with a key, or a repository readable without credentials
                """)
        }
        let attempts = tried.isEmpty ? "no credential configured (identity file or ssh-agent)" : "tried \(tried.joined(separator: ", "))"
        return refuse(.authentication, """
            authentication as \(username) to \(url) failed: \(attempts). \
            Use an ed25519 or ECDSA key: RSA keys do not work with this libssh2.
            """)
    }

    /// Records why a callback refused and tells libgit2 to stop.
    private func refuse(_ kind: SourceError.Kind, _ message: String) -> Int32 {
        failure = SourceError(kind: kind, message: message)
        git_error_set_str(Int32(GIT_ERROR_CALLBACK.rawValue), message)
        return kind == .hostKey ? GIT_ECERTIFICATE.rawValue : GIT_EAUTH.rawValue
    }
}

private func currentUserName() -> String {
    if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return String(cString: name) }
    return ProcessInfo.processInfo.environment["USER"] ?? "root"
}
