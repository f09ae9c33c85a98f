// One libssh2 session over one TCP socket: connect, verify the host key,
// authenticate, run commands. Everything runs in libssh2's non-blocking mode,
// waiting on the socket with poll(2) and a deadline, so every phase has a timeout
// and stdout and stderr are drained together (a blocking read of stdout to EOF
// hangs once the host has written ~2 MiB to stderr).
//
// Not thread-safe, like the libssh2 session under it: only the owning
// `SSHTransport` (on its own thread) touches a connection.
//
// This file holds the session and the helpers every phase shares; the phases are
// extensions in files of their own: SSHSocket.swift (TCP connect),
// SSHAuthentication.swift (host key and user), SSHChannel.swift (running one
// command), and PrivateKeyFile.swift reads key files before libssh2 does.

import CLibSSH2
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// libssh2_init must run once before sessions are created from several threads.
private let libssh2Initialized: Bool = libssh2_init(0) == 0

final class SSHConnection {
    let endpoint: SSHEndpoint
    // Internal, not private: the socket, authentication and channel code are
    // extensions of this class in files of their own.
    let target: String
    let socket: Int32
    let session: OpaquePointer
    /// Set once a socket-level error showed the connection is gone.
    var isBroken = false

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

    // MARK: - Liveness

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


    // MARK: - Helpers

    /// Calls `op` until it stops returning EAGAIN, waiting on the socket in between.
    func retry(deadline: ContinuousClock.Instant?, timeout kind: RemoteError.Kind, _ what: String,
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
    func waitSocket(until deadline: ContinuousClock.Instant?) -> Bool {
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



    func lastError() -> String {
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let rc = libssh2_session_last_error(session, &message, &length, 0)
        guard let message, length > 0 else { return "libssh2 error \(rc)" }
        return String(cString: message)
    }

    /// Builds an error naming the target; a socket-level `rc` marks the session broken.
    func fail(_ kind: RemoteError.Kind, _ message: String, rc: Int32? = nil) -> RemoteError {
        if let rc, Self.isSocketError(rc) { isBroken = true }
        // After these the session's state is unknown: never reuse it.
        if kind == .connectionLost || kind == .protocolError { isBroken = true }
        return RemoteError(kind: kind, target: target, message: message)
    }


    static func isSocketError(_ rc: Int32) -> Bool {
        [LIBSSH2_ERROR_SOCKET_NONE, LIBSSH2_ERROR_SOCKET_SEND, LIBSSH2_ERROR_SOCKET_RECV,
         LIBSSH2_ERROR_SOCKET_DISCONNECT, LIBSSH2_ERROR_SOCKET_TIMEOUT, LIBSSH2_ERROR_TIMEOUT,
         LIBSSH2_ERROR_BAD_SOCKET].contains(rc)
    }
}
