// A real OpenSSH server on loopback for integration tests.
//
//     let server = try await SSHServer.start()   // or `try SSHServer()` in sync code
//     defer { server.stop() }
//     // connect to server.host:server.port as SSHServer.user with server.clientKeys.ed25519,
//     // trusting server.hostKeyLines
//
// Each server is its own `sshd -D` on a free 127.0.0.1 port with its own config,
// authorized_keys and log in a temp directory. Keys are generated once per test
// process and shared (ssh-keygen for RSA is slow). Tests run as root (the machine
// and CI are root); the server logs in two dedicated non-root users, created once:
//
// - `labsync-test`: passwordless sudo; its shell is /bin/sh with a fresh home, so
//   no rc file (root's ~/.bashrc runs pyenv: ~150 ms per command) slows commands.
// - `labsync-nopw`: sudo only *with* a password, to test that `sudo -n` fails fast.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

public final class SSHServer: @unchecked Sendable {
    public enum KeyType: String, CaseIterable, Sendable {
        case ed25519, ecdsa, rsa
    }

    /// The user with passwordless sudo.
    public static let user = "labsync-test"
    /// A user whose sudo rule requires a password.
    public static let noPasswordSudoUser = "labsync-nopw"

    /// Private key paths on this machine, all authorized for both test users.
    public struct ClientKeys: Sendable {
        public var ed25519: String
        public var ecdsa: String
        public var rsa: String
        /// An ed25519 key encrypted with `passphrase`.
        public var ed25519Encrypted: String
        public var passphrase: String
    }

    public let host = "127.0.0.1"
    public private(set) var port: Int = 0
    /// This server's temp directory (config, authorized_keys, log).
    public let directory: String
    /// The host public keys the server presents, as "type base64".
    public let hostKeyLines: [String]
    public let clientKeys: ClientKeys
    public var logPath: String { directory + "/sshd.log" }
    public var authorizedKeysPath: String { directory + "/authorized_keys" }

    private var process: BackgroundProcess?
    private let lock = NSLock()

    /// Starts sshd with the given host key types (default ed25519 + ECDSA; `[.rsa]`
    /// gives an RSA-only server, which libssh2 1.10 cannot talk to). `wrapper` is
    /// prepended to sshd's command line (e.g. `unshare` giving the sessions a private
    /// view of some directories); it must end by exec'ing the command it is given.
    public init(hostKeyTypes: [KeyType] = [.ed25519, .ecdsa], wrapper: [String] = []) throws {
        try Self.ensureTestUsers()
        let keys = try Self.sharedKeys()
        directory = try Spawn.makeTempDirectory(prefix: "sshd")
        // sshd reads authorized_keys with the user's privileges.
        chmod(directory, 0o755)
        clientKeys = keys.client
        hostKeyLines = try hostKeyTypes.map { try Self.publicKeyLine(keys.hostKeyPath($0) + ".pub") }

        let authorized = try [keys.client.ed25519, keys.client.ecdsa, keys.client.rsa, keys.client.ed25519Encrypted]
            .map { try String(contentsOfFile: $0 + ".pub", encoding: .utf8) }.joined()
        try authorized.write(toFile: authorizedKeysPath, atomically: true, encoding: .utf8)
        chmod(authorizedKeysPath, 0o644)

        var lastFailure = "sshd did not start"
        for _ in 0..<5 {
            let port = try Self.freePort()
            let config = directory + "/sshd_config"
            try Self.config(port: port, hostKeys: hostKeyTypes.map(keys.hostKeyPath), authorizedKeys: authorizedKeysPath)
                .write(toFile: config, atomically: true, encoding: .utf8)
            // A watchdog shell runs sshd (behind `wrapper`, if any) and kills it when
            // sshd or this test process goes away, so a crashed or killed test run
            // leaves no sshd behind.
            let watchdog = """
                parent=$1; shift
                "$@" & pid=$!
                while kill -0 "$pid" 2>/dev/null && kill -0 "$parent" 2>/dev/null; do sleep 0.5; done
                kill "$pid" 2>/dev/null; wait "$pid"
                """
            let process = try Spawn.start(
                ["/bin/sh", "-c", watchdog, "sshd-watchdog", String(getpid())]
                    + wrapper + ["/usr/sbin/sshd", "-D", "-e", "-f", config],
                stderrPath: logPath)
            if Self.waitUntilListening(port: port, process: process) {
                self.port = port
                self.process = process
                return
            }
            process.stop()
            lastFailure = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? lastFailure
        }
        throw SpawnError("sshd did not start: \(lastFailure)")
    }

    /// A Host spec (YAML) for this server: the sudo test user, the ed25519
    /// client key, every host key pinned; with `findLinks`, environments on it
    /// install from that wheel directory only (no network).
    public func hostSpec(name: String = "loopback", labels: [String: String] = [:], findLinks: String? = nil) -> String {
        let keys = hostKeyLines.map { "\"\($0)\"" }.joined(separator: ", ")
        let labelText = labels.isEmpty ? "" : ", labels: {" + labels.sorted { $0.key < $1.key }
            .map { "\($0.key): \"\($0.value)\"" }.joined(separator: ", ") + "}"
        var spec = """
            apiVersion: labsync/v1
            kind: Host
            metadata: {name: \(name)\(labelText)}
            spec:
              address: \(host)
              port: \(port)
              user: \(Self.user)
              become: sudo
              identityFile: \(clientKeys.ed25519)
              hostKeys: [\(keys)]

            """
        if let findLinks { spec += "  index: {noIndex: true, findLinks: [\"\(findLinks)\"]}\n" }
        return spec
    }

    /// Starts a server without blocking Swift's cooperative pool (key generation
    /// and waiting for sshd take a while): prefer this in async tests.
    public static func start(hostKeyTypes: [KeyType] = [.ed25519, .ecdsa]) async throws -> SSHServer {
        try await Spawn.offPool { try SSHServer(hostKeyTypes: hostKeyTypes) }
    }

    deinit { stop() }

    /// Stops sshd (and, since it has its own process group, its session children)
    /// and removes the temp directory.
    public func stop() {
        lock.lock()
        let process = self.process
        self.process = nil
        lock.unlock()
        guard let process else { return }
        process.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Adds a public key line to the authorized_keys of both test users.
    public func authorize(publicKeyLine: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: authorizedKeysPath))
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data((publicKeyLine.trimmingCharacters(in: .newlines) + "\n").utf8))
    }

    /// A known_hosts line for this server, as OpenSSH writes it: `[127.0.0.1]:port type base64`.
    public func knownHostsLine(_ hostKeyLine: String) -> String {
        "[\(host)]:\(port) \(hostKeyLine)"
    }

    /// The sshd log so far (useful in a failing test's message).
    public func log() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    // MARK: - Setup helpers

    static func config(port: Int, hostKeys: [String], authorizedKeys: String) -> String {
        var lines = [
            "Port \(port)",
            "ListenAddress 127.0.0.1",
            "PidFile none",
            "AuthorizedKeysFile \(authorizedKeys)",
            "StrictModes no",  // the keys live under /tmp
            "UsePAM no",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes",
            "PermitRootLogin prohibit-password",
            // Tests open many connections at once; the defaults (10:30:100) drop some.
            "MaxStartups 200",
            "MaxSessions 100",
            "MaxAuthTries 20",
            "PrintMotd no",
            "LogLevel VERBOSE",
            "Subsystem sftp internal-sftp",
        ]
        lines += hostKeys.map { "HostKey \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A port that was free a moment ago (bind port 0, read it back, close).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SpawnError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw SpawnError("bind: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func waitUntilListening(port: Int, process: BackgroundProcess) -> Bool {
        for _ in 0..<500 {
            guard process.isRunning else { return false }
            if canConnect(port: port) { return true }
            usleep(10_000)
        }
        return false
    }

    private static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    static func publicKeyLine(_ pubPath: String) throws -> String {
        let fields = try String(contentsOfFile: pubPath, encoding: .utf8).split(separator: " ")
        guard fields.count >= 2 else { throw SpawnError("malformed public key \(pubPath)") }
        return "\(fields[0]) \(fields[1])"
    }

    // MARK: - Keys, generated once per process

    struct Keys {
        var directory: String
        var client: ClientKeys
        func hostKeyPath(_ type: KeyType) -> String { directory + "/ssh_host_\(type.rawValue)_key" }
    }

    private static let keysLock = NSLock()
    nonisolated(unsafe) private static var keys: Keys?

    static func sharedKeys() throws -> Keys {
        keysLock.lock()
        defer { keysLock.unlock() }
        if let keys { return keys }
        let dir = try Spawn.makeTempDirectory(prefix: "sshkeys")
        chmod(dir, 0o755)
        func generate(_ type: KeyType, _ path: String, passphrase: String = "") throws {
            var argv = ["ssh-keygen", "-q", "-t", type.rawValue, "-N", passphrase, "-C", "labsync-test", "-f", path]
            if type == .rsa { argv += ["-b", "2048"] }
            try Spawn.check(argv)
        }
        for type in KeyType.allCases {
            try generate(type, dir + "/ssh_host_\(type.rawValue)_key")
            try generate(type, dir + "/id_\(type.rawValue)")
        }
        let passphrase = "labsync test passphrase"
        try generate(.ed25519, dir + "/id_ed25519_encrypted", passphrase: passphrase)
        let made = Keys(directory: dir, client: ClientKeys(
            ed25519: dir + "/id_ed25519", ecdsa: dir + "/id_ecdsa", rsa: dir + "/id_rsa",
            ed25519Encrypted: dir + "/id_ed25519_encrypted", passphrase: passphrase))
        keys = made
        return made
    }

    // MARK: - Test users, created once per machine

    private static let usersLock = NSLock()
    nonisolated(unsafe) private static var usersReady = false

    /// Creates the test users and their sudo rules if missing. Idempotent; safe
    /// against other test processes doing the same (an flock serializes them).
    public static func ensureTestUsers() throws {
        usersLock.lock()
        defer { usersLock.unlock() }
        if usersReady { return }
        guard getuid() == 0 else {
            throw SpawnError("the sshd test harness must run as root (it creates test users and runs sshd)")
        }
        let lockFD = open("/run/lock/labsync-test-users.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        if lockFD >= 0 { flock(lockFD, LOCK_EX) }
        defer { if lockFD >= 0 { close(lockFD) } }

        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        chmod("/run/sshd", 0o755)

        if try Spawn.run(["id", "-u", user]).status != 0 {
            try Spawn.check(["useradd", "--create-home", "--shell", "/bin/sh", user])
        }
        // "*": no password, but not "locked" ("!"), which sshd without PAM refuses.
        try Spawn.check(["usermod", "-p", "*", user])
        try writeSudoers("labsync-test", "\(user) ALL=(ALL) NOPASSWD:ALL\n")

        if try Spawn.run(["id", "-u", noPasswordSudoUser]).status != 0 {
            try Spawn.check(["useradd", "--create-home", "--shell", "/bin/sh", noPasswordSudoUser])
        }
        try Spawn.check(["chpasswd"], stdin: Array("\(noPasswordSudoUser):labsync-test-password\n".utf8))
        try writeSudoers("labsync-nopw", "\(noPasswordSudoUser) ALL=(ALL) ALL\n")
        usersReady = true
    }

    private static func writeSudoers(_ name: String, _ rule: String) throws {
        let path = "/etc/sudoers.d/\(name)"
        if (try? String(contentsOfFile: path, encoding: .utf8)) == rule { return }
        let temp = path + ".tmp"
        try rule.write(toFile: temp, atomically: false, encoding: .utf8)
        chmod(temp, 0o440)
        try Spawn.check(["visudo", "-c", "-q", "-f", temp])
        guard rename(temp, path) == 0 else { throw SpawnError("cannot install \(path)") }
    }
}
