// Authentication both ways: the server proves its host key (checked against the
// endpoint's policy), then we prove the user's identity with a key file or the
// ssh-agent. RSA identities are refused up front with the reason (libssh2 1.10
// signs only with SHA-1 ssh-rsa, which OpenSSH >= 8.8 rejects).

import CLibSSH2
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension SSHConnection {
    /// Ask first for the host key types we can check, so a server holding several
    /// keys offers the one we have pinned (otherwise it would look "changed").
    func preferKnownHostKeyTypes() {
        let known = endpoint.hostKeyPolicy.trustedKeys(host: endpoint.address, port: endpoint.port).map(\.type)
        guard !known.isEmpty else { return }
        let supported = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"]
        var order: [String] = []
        for type in known + supported where supported.contains(type) && !order.contains(type) { order.append(type) }
        _ = libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, order.joined(separator: ","))
    }

    func handshake(deadline: ContinuousClock.Instant) throws(RemoteError) {
        let rc = try retry(deadline: deadline, timeout: .timeout, "SSH handshake") {
            libssh2_session_handshake(session, socket)
        }
        guard rc == 0 else {
            var message = "SSH handshake failed: \(lastError())"
            if rc == LIBSSH2_ERROR_KEX_FAILURE {
                message += ". If the server has only an RSA host key: libssh2 1.10 verifies only ssh-rsa (SHA-1) host signatures, which OpenSSH ≥ 8.8 no longer offers; give the server an ed25519 or ECDSA host key."
            }
            throw fail(.protocolError, message, rc: rc)
        }
    }

    func verifyHostKey() throws(RemoteError) {
        var length = 0
        var type: Int32 = 0
        guard let raw = libssh2_session_hostkey(session, &length, &type), length > 0 else {
            throw fail(.hostKey, "the server sent no host key")
        }
        let blob = raw.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
        guard let presented = HostKey(blob: blob) else {
            throw fail(.hostKey, "the server's host key could not be parsed")
        }
        do {
            try Remote.verifyHostKey(host: endpoint.address, port: endpoint.port, presented: presented,
                                     policy: endpoint.hostKeyPolicy)
        } catch {
            throw RemoteError(kind: .hostKey, target: target, message: error.message, hostKeyError: error)
        }
    }

    // MARK: - Authentication

    func authenticate(deadline: ContinuousClock.Instant) throws(RemoteError) {
        var reasons: [String] = []
        if let identity = endpoint.identityFile {
            let path = Self.expandTilde(identity)
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw fail(.authentication, "identity file \(path) does not exist or is not readable")
            }
            if PrivateKeyFile.isRSA(path: path) {
                throw fail(.unsupportedKey, """
                    identity file \(path) is an RSA key, which labsync cannot use: libssh2 1.10 signs \
                    only with ssh-rsa (SHA-1), and OpenSSH 8.8 and later reject that. Create an ed25519 \
                    key (`ssh-keygen -t ed25519`) or an ECDSA key (`ssh-keygen -t ecdsa`) and add its \
                    .pub to the user's authorized_keys.
                    """)
            }
            let passphrase = ProcessInfo.processInfo.environment[endpoint.passphraseEnvVar]
            let rc = try retry(deadline: deadline, timeout: .timeout, "public key authentication") {
                labsync_userauth_publickey_fromfile(session, endpoint.user, path, passphrase)
            }
            if rc == 0 { return }
            if Self.isSocketError(rc) { throw fail(.connectionLost, "connection lost during authentication", rc: rc) }
            var reason = "identity file \(path) was not accepted (\(lastError()))"
            if rc == LIBSSH2_ERROR_FILE {
                reason = "identity file \(path) could not be read (\(lastError()))"
                if passphrase == nil, PrivateKeyFile.isEncrypted(path: path) {
                    reason += "; it is encrypted: put its passphrase in the environment variable \(endpoint.passphraseEnvVar)"
                }
            }
            reasons.append(reason)
        }
        if endpoint.useAgent {
            if try authenticateWithAgent(deadline: deadline, reasons: &reasons) { return }
        } else if endpoint.identityFile == nil {
            reasons.append("no identity file given and the ssh-agent is disabled")
        }
        throw fail(.authentication, "authentication as \(endpoint.user) failed: " + reasons.joined(separator: "; "))
    }

    private func authenticateWithAgent(deadline: ContinuousClock.Instant, reasons: inout [String]) throws(RemoteError) -> Bool {
        let socketPath = endpoint.agentSocket ?? ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"]
        guard let socketPath, !socketPath.isEmpty else {
            reasons.append("no ssh-agent (SSH_AUTH_SOCK is not set)")
            return false
        }
        guard let agent = libssh2_agent_init(session) else {
            reasons.append("ssh-agent: \(lastError())")
            return false
        }
        defer {
            libssh2_agent_disconnect(agent)
            libssh2_agent_free(agent)
        }
        libssh2_agent_set_identity_path(agent, socketPath)
        guard libssh2_agent_connect(agent) == 0 else {
            reasons.append("cannot reach the ssh-agent at \(socketPath)")
            return false
        }
        guard libssh2_agent_list_identities(agent) == 0 else {
            reasons.append("ssh-agent: cannot list identities (\(lastError()))")
            return false
        }
        var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        var tried = 0, rsa = 0
        while libssh2_agent_get_identity(agent, &identity, previous) == 0, let current = identity {
            previous = current
            tried += 1
            let blob = Array(UnsafeBufferPointer(start: current.pointee.blob, count: Int(current.pointee.blob_len)))
            if HostKey.embeddedType(blob) == "ssh-rsa" { rsa += 1 }
            let rc = try retry(deadline: deadline, timeout: .timeout, "ssh-agent authentication") {
                libssh2_agent_userauth(agent, endpoint.user, current)
            }
            if rc == 0 { return true }
            if Self.isSocketError(rc) { throw fail(.connectionLost, "connection lost during authentication", rc: rc) }
        }
        var reason = tried == 0 ? "the ssh-agent holds no keys" : "none of the ssh-agent's \(tried) keys was accepted"
        if rsa > 0 {
            reason += " (\(rsa) of them RSA, which libssh2 1.10 can only sign with SHA-1 ssh-rsa, rejected by OpenSSH ≥ 8.8: add an ed25519 or ECDSA key to the agent)"
        }
        reasons.append(reason)
        return false
    }

    static func expandTilde(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        return NSHomeDirectory() + path.dropFirst()
    }
}
