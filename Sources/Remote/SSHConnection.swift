// One libssh2 session over one TCP socket: connect, verify the host key,
// authenticate, run commands. Everything runs in libssh2's non-blocking mode,
// waiting on the socket with poll(2) and a deadline, so every phase has a timeout
// and stdout and stderr are drained together (a blocking read of stdout to EOF
// hangs once the host has written ~2 MiB to stderr).
//
// Not thread-safe, like the libssh2 session under it: only the owning
// `SSHTransport` (on its own thread) touches a connection.

import CLibSSH2
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// libssh2_init must run once before sessions are created from several threads.
private let libssh2Initialized: Bool = libssh2_init(0) == 0

final class SSHConnection {
    let endpoint: SSHEndpoint
    private let target: String
    private let socket: Int32
    private let session: OpaquePointer
    /// Set once a socket-level error showed the connection is gone.
    private(set) var isBroken = false

    // MARK: - Connecting

    init(endpoint: SSHEndpoint) throws(RemoteError) {
        self.endpoint = endpoint
        self.target = endpoint.target
        let deadline = ContinuousClock.now + endpoint.connectTimeout
        guard libssh2Initialized else {
            throw RemoteError(kind: .protocolError, target: endpoint.target, message: "libssh2_init failed")
        }
        socket = try Self.connectSocket(endpoint: endpoint, deadline: deadline)
        guard let session = labsync_session_init() else {
            Glibc.close(socket)
            throw RemoteError(kind: .protocolError, target: endpoint.target, message: "libssh2_session_init failed")
        }
        self.session = session
        // From here on, deinit frees the session and closes the socket on any error.
        libssh2_session_set_blocking(session, 0)
        preferKnownHostKeyTypes()
        try handshake(deadline: deadline)
        try verifyHostKey()
        try authenticate(deadline: deadline)
        if let interval = endpoint.keepaliveInterval {
            // want_reply = 1: the server must answer, so a dead peer shows up as a send error.
            libssh2_keepalive_config(session, 1, UInt32(max(1, interval.components.seconds)))
        }
    }

    deinit {
        if !isBroken {
            // Best effort and non-blocking: tell the server goodbye if the socket takes it.
            _ = labsync_session_disconnect(session, "labsync closing")
        }
        libssh2_session_free(session)
        Glibc.close(socket)
    }

    /// Non-blocking connect bounded by the deadline; TCP_NODELAY because each
    /// command is a few small packets (measured: ~46 ms per command without it, ~3 ms with).
    private static func connectSocket(endpoint: SSHEndpoint, deadline: ContinuousClock.Instant) throws(RemoteError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let gai = getaddrinfo(endpoint.address, String(endpoint.port), &hints, &list)
        guard gai == 0, let first = list else {
            throw RemoteError(kind: .connect, target: endpoint.target,
                              message: "cannot resolve \(endpoint.address): \(String(cString: gai_strerror(gai)))")
        }
        defer { freeaddrinfo(list) }

        var lastError = "no address"
        var timedOut = false
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let ai = candidate {
            candidate = ai.pointee.ai_next
            let fd = Glibc.socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
                                  ai.pointee.ai_protocol)
            guard fd >= 0 else { lastError = String(cString: strerror(errno)); continue }
            var rc = Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen)
            if rc != 0 && errno == EINPROGRESS {
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let ms = Self.milliseconds(until: deadline)
                if ms > 0 && poll(&pfd, 1, Int32(ms)) == 1 {
                    var soError: Int32 = 0
                    var len = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len)
                    rc = soError == 0 ? 0 : -1
                    errno = soError
                } else {
                    timedOut = true
                    rc = -1
                    errno = ETIMEDOUT
                }
            }
            if rc == 0 {
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, socklen_t(MemoryLayout<Int32>.size))
                return fd
            }
            lastError = String(cString: strerror(errno))
            Glibc.close(fd)
            if timedOut { break }
        }
        if timedOut {
            throw RemoteError(kind: .timeout, target: endpoint.target,
                              message: "TCP connect timed out after \(endpoint.connectTimeout)")
        }
        throw RemoteError(kind: .connect, target: endpoint.target, message: "cannot connect: \(lastError)")
    }

    /// Ask first for the host key types we can check, so a server holding several
    /// keys offers the one we have pinned (otherwise it would look "changed").
    private func preferKnownHostKeyTypes() {
        let known = endpoint.hostKeyPolicy.trustedKeys(host: endpoint.address, port: endpoint.port).map(\.type)
        guard !known.isEmpty else { return }
        let supported = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"]
        var order: [String] = []
        for type in known + supported where supported.contains(type) && !order.contains(type) { order.append(type) }
        _ = libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, order.joined(separator: ","))
    }

    private func handshake(deadline: ContinuousClock.Instant) throws(RemoteError) {
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

    private func verifyHostKey() throws(RemoteError) {
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

    private func authenticate(deadline: ContinuousClock.Instant) throws(RemoteError) {
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

    // MARK: - Running a command

    /// Checks a reused session before a command: a failing keepalive means the
    /// server or network dropped it while idle.
    func isAlive() -> Bool {
        guard !isBroken else { return false }
        guard endpoint.keepaliveInterval != nil else { return true }
        var next: Int32 = 0
        let rc = libssh2_keepalive_send(session, &next)
        if rc != 0 && rc != LIBSSH2_ERROR_EAGAIN { isBroken = true }
        return !isBroken
    }

    /// Errors thrown before the command was started carry `started == false`, so
    /// the caller may safely retry on a fresh connection.
    struct Failure: Error {
        var error: RemoteError
        var started: Bool
    }

    func run(_ command: RemoteCommand, timeout: Duration?, outputLimit: Int,
             onOutput: (@Sendable (OutputLine) -> Void)?) throws(Failure) -> CommandResult {
        let line = command.shellLine
        let deadline = timeout.map { ContinuousClock.now + $0 }
        let openDeadline = deadline ?? ContinuousClock.now + endpoint.connectTimeout
        let described = Self.shortDescription(line)

        // Open the channel and start the command.
        var channel: OpaquePointer?
        do throws(RemoteError) {
            while true {
                channel = labsync_channel_open_session(session)
                if channel != nil { break }
                let rc = libssh2_session_last_errno(session)
                guard rc == LIBSSH2_ERROR_EAGAIN else {
                    throw fail(Self.isSocketError(rc) ? .connectionLost : .protocolError,
                               "cannot open a channel for `\(described)`: \(lastError())", rc: rc)
                }
                guard waitSocket(until: openDeadline) else {
                    throw fail(deadline == nil ? .timeout : .commandTimeout, "timed out opening a channel for `\(described)`")
                }
            }
        } catch {
            throw Failure(error: error, started: false)
        }
        guard let channel else { fatalError("unreachable") }

        // Once a channel is open, any failure (timeout included) retires the whole
        // session instead of closing just the channel: libssh2's channel close waits
        // for the server's close, which sshd sends only when the command has exited
        // (a `sleep 30` would hold us for 30 s). libssh2_session_free frees the
        // channel; the next run reconnects (~30 ms on a LAN).
        var finished = false
        defer {
            if !finished { isBroken = true }
        }
        do throws(RemoteError) {
            let rc = try retry(deadline: openDeadline, timeout: deadline == nil ? .timeout : .commandTimeout,
                               "starting `\(described)`") { labsync_channel_exec(channel, line) }
            guard rc == 0 else {
                throw fail(Self.isSocketError(rc) ? .connectionLost : .protocolError,
                           "cannot start `\(described)`: \(lastError())", rc: rc)
            }
        } catch {
            throw Failure(error: error, started: false)
        }

        do {
            let result = try pump(channel: channel, command: command, described: described, deadline: deadline,
                                  outputLimit: outputLimit, onOutput: onOutput)
            finished = true
            return result
        } catch {
            throw Failure(error: error, started: true)
        }
    }

    /// Feeds stdin and drains stdout and stderr together until the command exits.
    private func pump(channel: OpaquePointer, command: RemoteCommand, described: String,
                      deadline: ContinuousClock.Instant?, outputLimit: Int,
                      onOutput: (@Sendable (OutputLine) -> Void)?) throws(RemoteError) -> CommandResult {
        var stdout = OutputCollector(stream: .stdout, limit: outputLimit)
        var stderr = OutputCollector(stream: .stderr, limit: outputLimit)
        let input = command.stdin ?? []
        var written = 0
        var eofSent = false
        let bufferSize = 64 * 1024
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: bufferSize)
        defer { buffer.deallocate() }
        let emit: ((OutputLine) -> Void)? = onOutput.map { callback in { callback($0) } }

        func checkRead(_ n: Int) throws(RemoteError) {
            if n < 0 && n != Int(LIBSSH2_ERROR_EAGAIN) {
                throw fail(Self.isSocketError(Int32(n)) ? .connectionLost : .protocolError,
                           Self.isSocketError(Int32(n)) ? "connection lost while running `\(described)`"
                                                        : "reading output of `\(described)` failed: \(lastError())",
                           rc: Int32(n))
            }
        }

        while true {
            var progressed = false
            // stdin first, in pieces the channel window accepts.
            if written < input.count {
                let n = input.withUnsafeBytes { raw in
                    labsync_channel_write(channel, raw.baseAddress!.assumingMemoryBound(to: CChar.self) + written,
                                          min(input.count - written, bufferSize))
                }
                if n > 0 {
                    written += n
                    progressed = true
                } else if Self.channelIsClosing(n) {
                    // The command exited without reading all its input: not an error.
                    written = input.count
                    eofSent = true
                } else {
                    try checkRead(n)
                }
            } else if !eofSent {
                let rc = libssh2_channel_send_eof(channel)
                if rc == 0 || Self.channelIsClosing(Int(rc)) {
                    eofSent = true
                    progressed = true
                } else {
                    try checkRead(Int(rc))
                }
            }
            // Drain both streams until each would block.
            var stdoutOpen = true, stderrOpen = true
            while true {
                let n = labsync_channel_read(channel, buffer, bufferSize)
                if n > 0 {
                    buffer.withMemoryRebound(to: UInt8.self, capacity: n) {
                        stdout.append(UnsafeBufferPointer(start: $0, count: n), emit: emit)
                    }
                    progressed = true
                    continue
                }
                try checkRead(n)
                stdoutOpen = n == Int(LIBSSH2_ERROR_EAGAIN)
                break
            }
            while true {
                let n = labsync_channel_read_stderr(channel, buffer, bufferSize)
                if n > 0 {
                    buffer.withMemoryRebound(to: UInt8.self, capacity: n) {
                        stderr.append(UnsafeBufferPointer(start: $0, count: n), emit: emit)
                    }
                    progressed = true
                    continue
                }
                try checkRead(n)
                stderrOpen = n == Int(LIBSSH2_ERROR_EAGAIN)
                break
            }
            if !stdoutOpen && !stderrOpen && libssh2_channel_eof(channel) != 0 { break }
            if progressed { continue }

            if let deadline, ContinuousClock.now >= deadline {
                throw fail(.commandTimeout, """
                    `\(described)` did not finish within its timeout; the SSH session was closed \
                    (the remote process may run on until it next writes output)
                    """)
            }
            try sendKeepalive(described: described)
            _ = waitSocket(until: deadline)
        }

        // The exit status arrives with (before) the channel close: wait for it.
        let closeDeadline = deadline ?? ContinuousClock.now + .seconds(30)
        var rc = try retry(deadline: closeDeadline, timeout: .commandTimeout, "closing `\(described)`") {
            libssh2_channel_close(channel)
        }
        if rc == 0 {
            rc = try retry(deadline: closeDeadline, timeout: .commandTimeout, "closing `\(described)`") {
                libssh2_channel_wait_closed(channel)
            }
        }
        if rc != 0 {
            throw fail(Self.isSocketError(rc) ? .connectionLost : .protocolError,
                       Self.isSocketError(rc) ? "connection lost while running `\(described)`"
                                              : "closing the channel of `\(described)` failed: \(lastError())", rc: rc)
        }
        var status = libssh2_channel_get_exit_status(channel)
        var signal: String?
        var signalPointer: UnsafeMutablePointer<CChar>?
        var signalLength = 0
        if libssh2_channel_get_exit_signal(channel, &signalPointer, &signalLength, nil, nil, nil, nil) == 0,
           let signalPointer {
            if signalLength > 0 {
                signal = String(decoding: UnsafeRawBufferPointer(start: signalPointer, count: signalLength), as: UTF8.self)
            }
            libssh2_free(session, signalPointer)
        }
        if let signal {
            // SSH reports status 0 for a killed command; report it the way sh does.
            status = 128 + (Self.signalNumbers[signal] ?? 0)
        }
        _ = try? retry(deadline: closeDeadline, timeout: .commandTimeout, "freeing a channel") { libssh2_channel_free(channel) }

        let out = stdout.finish(emit: emit)
        let err = stderr.finish(emit: emit)
        return CommandResult(exitStatus: status, exitSignal: signal, stdout: out.bytes, stderr: err.bytes,
                             stdoutTruncated: out.truncated, stderrTruncated: err.truncated)
    }

    private func sendKeepalive(described: String) throws(RemoteError) {
        guard endpoint.keepaliveInterval != nil else { return }
        var next: Int32 = 0
        let rc = libssh2_keepalive_send(session, &next)
        if rc != 0 && rc != LIBSSH2_ERROR_EAGAIN {
            throw fail(.connectionLost, "connection lost while running `\(described)`", rc: rc)
        }
    }

    // MARK: - Helpers

    /// Calls `op` until it stops returning EAGAIN, waiting on the socket in between.
    private func retry(deadline: ContinuousClock.Instant?, timeout kind: RemoteError.Kind, _ what: String,
                       _ op: () -> Int32) throws(RemoteError) -> Int32 {
        while true {
            let rc = op()
            if rc != LIBSSH2_ERROR_EAGAIN { return rc }
            guard waitSocket(until: deadline) else {
                throw fail(kind, "\(what) timed out")
            }
        }
    }

    /// Waits until the socket is ready in the direction libssh2 is blocked on,
    /// at most one second at a time (so callers can send keepalives and check
    /// deadlines). Returns false when the deadline has passed.
    @discardableResult
    private func waitSocket(until deadline: ContinuousClock.Instant?) -> Bool {
        var ms = 1000
        if let deadline {
            let left = Self.milliseconds(until: deadline)
            if left <= 0 { return false }
            ms = min(ms, left)
        }
        let directions = libssh2_session_block_directions(session)
        var events: Int16 = 0
        if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events |= Int16(POLLIN) }
        if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
        if events == 0 { events = Int16(POLLIN) }
        var pfd = pollfd(fd: socket, events: events, revents: 0)
        _ = poll(&pfd, 1, Int32(ms))
        return true
    }

    private static func milliseconds(until deadline: ContinuousClock.Instant) -> Int {
        let left = deadline - ContinuousClock.now
        let ms = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
        return Int(max(0, min(ms, Int64(Int32.max))))
    }

    private func lastError() -> String {
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let rc = libssh2_session_last_error(session, &message, &length, 0)
        guard let message, length > 0 else { return "libssh2 error \(rc)" }
        return String(cString: message)
    }

    /// Builds an error naming the target; a socket-level `rc` marks the session broken.
    private func fail(_ kind: RemoteError.Kind, _ message: String, rc: Int32? = nil) -> RemoteError {
        if let rc, Self.isSocketError(rc) { isBroken = true }
        // After these the session's state is unknown: never reuse it.
        if kind == .connectionLost || kind == .protocolError { isBroken = true }
        return RemoteError(kind: kind, target: target, message: message)
    }

    static func channelIsClosing(_ rc: Int) -> Bool {
        rc == Int(LIBSSH2_ERROR_CHANNEL_CLOSED) || rc == Int(LIBSSH2_ERROR_CHANNEL_EOF_SENT)
    }

    static func isSocketError(_ rc: Int32) -> Bool {
        [LIBSSH2_ERROR_SOCKET_NONE, LIBSSH2_ERROR_SOCKET_SEND, LIBSSH2_ERROR_SOCKET_RECV,
         LIBSSH2_ERROR_SOCKET_DISCONNECT, LIBSSH2_ERROR_SOCKET_TIMEOUT, LIBSSH2_ERROR_TIMEOUT,
         LIBSSH2_ERROR_BAD_SOCKET].contains(rc)
    }

    static func expandTilde(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        return NSHomeDirectory() + path.dropFirst()
    }

    private static func shortDescription(_ line: String) -> String {
        let flat = line.replacingOccurrences(of: "\n", with: "⏎")
        return flat.count > 120 ? String(flat.prefix(117)) + "..." : flat
    }

    private static let signalNumbers: [String: Int32] = [
        "HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "BUS": 7, "FPE": 8, "KILL": 9,
        "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15,
    ]
}

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
