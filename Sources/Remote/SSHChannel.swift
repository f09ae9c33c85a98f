// Running one command on its own channel of the session: start it, feed stdin,
// drain stdout and stderr together until it exits, collect its status.

import CLibSSH2
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension SSHConnection {
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
        let described = command.shortDescription

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
            } else if !eofSent && !command.holdStdinOpen {
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
            status = CommandResult.exitStatus(killedBy: signal)
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

    static func channelIsClosing(_ rc: Int) -> Bool {
        rc == Int(LIBSSH2_ERROR_CHANNEL_CLOSED) || rc == Int(LIBSSH2_ERROR_CHANNEL_EOF_SENT)
    }
}
