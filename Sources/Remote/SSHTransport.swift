import Foundation

/// How to reach one host over SSH (the Host spec, resolved).
public struct SSHEndpoint: Sendable {
    public var address: String
    public var port: Int
    public var user: String
    /// A private key on this machine (ed25519 or ECDSA; `~/` is expanded).
    public var identityFile: String?
    /// The environment variable holding the identity file's passphrase, if any.
    public var passphraseEnvVar: String
    /// Try the ssh-agent (after the identity file, if one is given).
    public var useAgent: Bool
    /// The agent's socket; nil means `$SSH_AUTH_SOCK`.
    public var agentSocket: String?
    public var hostKeyPolicy: HostKeyPolicy
    /// Bounds TCP connect, handshake and authentication together.
    public var connectTimeout: Duration
    /// SSH keepalive while commands run and before a session is reused; nil = off.
    public var keepaliveInterval: Duration?
    /// At most this many bytes of each of stdout and stderr are kept per command.
    public var outputLimit: Int

    public init(address: String, port: Int = 22, user: String, identityFile: String? = nil,
                passphraseEnvVar: String = "LABSYNC_SSH_PASSPHRASE", useAgent: Bool = true,
                agentSocket: String? = nil, hostKeyPolicy: HostKeyPolicy,
                connectTimeout: Duration = .seconds(10), keepaliveInterval: Duration? = .seconds(30),
                outputLimit: Int = 16 * 1024 * 1024) {
        self.address = address
        self.port = port
        self.user = user
        self.identityFile = identityFile
        self.passphraseEnvVar = passphraseEnvVar
        self.useAgent = useAgent
        self.agentSocket = agentSocket
        self.hostKeyPolicy = hostKeyPolicy
        self.connectTimeout = connectTimeout
        self.keepaliveInterval = keepaliveInterval
        self.outputLimit = outputLimit
    }

    /// "user@address:port", used in every message about this host.
    public var target: String { "\(user)@\(address):\(port)" }
}

/// The SSH transport to one host.
///
/// Concurrency model: one SSH session per host, owned by this actor, whose
/// executor is a dedicated thread (`ThreadExecutor`) — libssh2 calls block and a
/// session is not thread-safe, so they never run on Swift's shared pool and never
/// on two threads. Commands from concurrent callers are *serialized*: each `run`
/// is one synchronous job on that thread (no suspension inside), so a command
/// owns the session from start to exit and its output cannot mix with another's.
/// Parallelism comes from many hosts (one transport, one thread each), and on one
/// host from batching work into fewer commands.
///
/// The session is opened on first use and reused. When it dies (a dropped
/// connection, an sshd restart), the running command fails with
/// `.connectionLost` — it is never re-run, since it may have had effects — and
/// the next `run` connects again. A reused session that turns out dead *before*
/// its command starts is replaced transparently.
/// Holds the session; touched only on the transport's own thread (by the
/// actor, or by the deinit's last closure after the actor is gone).
private final class ConnectionSlot: @unchecked Sendable {
    var connection: SSHConnection?
}

public actor SSHTransport: Transport {
    public nonisolated let endpoint: SSHEndpoint
    private let executor: ThreadExecutor
    /// The session, in a box the deinit can hand to the executor's thread.
    private let slot = ConnectionSlot()
    private var connection: SSHConnection? {
        get { slot.connection }
        set { slot.connection = newValue }
    }

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    public nonisolated var target: String { endpoint.target }

    public init(endpoint: SSHEndpoint) {
        self.endpoint = endpoint
        self.executor = ThreadExecutor(name: "ssh \(endpoint.target)")
    }

    // The session is freed on its own thread, like every other libssh2 call.
    // (Not an `isolated deinit`: that crashed the optimizer of Swift 6.3 —
    // "circular reference" — in release builds.)
    deinit {
        let slot = self.slot
        executor.shutdown { slot.connection = nil }  // frees the session, closes the socket
    }

    /// Connects now (otherwise the first `run` does): for checks that report
    /// connection problems separately from command failures.
    public func connect() throws(RemoteError) {
        _ = try liveConnection()
    }

    public func run(_ command: RemoteCommand, timeout: Duration?,
                    onOutput: (@Sendable (OutputLine) -> Void)?) throws -> CommandResult {
        let result = try runOnce(command, timeout: timeout, onOutput: onOutput, mayRetry: true)
        if let error = RemoteError.sudoRequiresPassword(command, result, target: target, user: endpoint.user) {
            throw error
        }
        return result
    }

    public func close() {
        connection = nil
    }

    private func runOnce(_ command: RemoteCommand, timeout: Duration?,
                         onOutput: (@Sendable (OutputLine) -> Void)?, mayRetry: Bool) throws(RemoteError) -> CommandResult {
        let wasReused = connection != nil
        let live = try liveConnection()
        do {
            let result = try live.run(command, timeout: timeout, outputLimit: endpoint.outputLimit, onOutput: onOutput)
            if live.isBroken { connection = nil }
            return result
        } catch {
            if live.isBroken { connection = nil }
            // The command never started on a session we reused: safe to try once more
            // on a new one (the old one was dropped while idle).
            if !error.started, wasReused, live.isBroken, mayRetry {
                return try runOnce(command, timeout: timeout, onOutput: onOutput, mayRetry: false)
            }
            throw error.error
        }
    }

    private func liveConnection() throws(RemoteError) -> SSHConnection {
        if let connection, connection.isAlive() { return connection }
        connection = nil
        let fresh = try SSHConnection(endpoint: endpoint)
        connection = fresh
        return fresh
    }
}
