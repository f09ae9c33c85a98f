// Running helper processes from tests with posix_spawn + waitpid.
//
// Not Foundation.Process: starting sshd with it hung Swift Testing for minutes
// (sshd closes inherited descriptors, Foundation's single watcher thread blocks,
// and then every waitUntilExit in the test process hangs). Output goes to temp
// files, so a chatty child can never block on a full pipe.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

public struct SpawnError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public struct SpawnResult: Sendable {
    /// The exit status, or 128 + signal number when the process was killed.
    public var status: Int32
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

public enum Spawn {
    /// Runs `argv` (looked up in PATH) to completion and returns its status and output.
    /// `env` entries are added to (or replace) the inherited environment; `stdin` is
    /// fed from a temp file (nil: /dev/null). The process is killed after `timeout` seconds.
    @discardableResult
    public static func run(_ argv: [String], env: [String: String] = [:], stdin: [UInt8]? = nil,
                           cwd: String? = nil, timeout: Double = 120) throws -> SpawnResult {
        let dir = try makeTempDirectory(prefix: "spawn")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inPath = dir + "/stdin", outPath = dir + "/stdout", errPath = dir + "/stderr"
        if let stdin { try Data(stdin).write(to: URL(fileURLWithPath: inPath)) }
        let process = try start(argv, env: env, stdinPath: stdin == nil ? "/dev/null" : inPath,
                                stdoutPath: outPath, stderrPath: errPath, cwd: cwd)
        let status = process.wait(timeout: timeout)
        let out = (try? Data(contentsOf: URL(fileURLWithPath: outPath))) ?? Data()
        let err = (try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data()
        guard let status else {
            throw SpawnError("\(argv.joined(separator: " ")) did not finish within \(timeout) s and was killed")
        }
        return SpawnResult(status: status, stdout: [UInt8](out), stderr: [UInt8](err))
    }

    /// Runs `argv` and throws unless it exits 0; returns stdout as text.
    @discardableResult
    public static func check(_ argv: [String], env: [String: String] = [:], stdin: [UInt8]? = nil,
                             cwd: String? = nil) throws -> String {
        let result = try run(argv, env: env, stdin: stdin, cwd: cwd)
        guard result.status == 0 else {
            throw SpawnError("\(argv.joined(separator: " ")) exited \(result.status): \(result.stderrText)")
        }
        return result.stdoutText
    }

    /// Starts `argv` in the background; its output goes to the given files
    /// (appended, created if needed). The caller stops it with `kill()`/`wait()`.
    public static func start(_ argv: [String], env: [String: String] = [:], stdinPath: String = "/dev/null",
                             stdoutPath: String = "/dev/null", stderrPath: String = "/dev/null",
                             cwd: String? = nil) throws -> BackgroundProcess {
        precondition(!argv.isEmpty, "argv must name a program")
        guard !TestTier.onlyUnitSelected else {
            throw SpawnError("""
                the unit tier starts no processes, but a test started \(argv[0]): \
                tag it `.integration` (see Sources/LabsyncTestSupport/TestTiers.swift)
                """)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if let cwd {
            guard let addchdir = GlibcExtensions.addchdir else { throw SpawnError("posix_spawn_file_actions_addchdir_np is missing") }
            _ = addchdir(&actions, cwd)
        }
        // Don't leak the test process's descriptors (sockets, other children's pipes).
        _ = GlibcExtensions.addclosefrom?(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Default signal handling and an empty mask, whatever the test runner set up;
        // and a process group of its own, so kill() reaches its children too.
        var defaults = sigset_t()
        sigfillset(&defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))

        var environment = ProcessInfo.processInfo.environment
        for (key, value) in env { environment[key] = value }
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArgv.forEach { free($0) }
            cEnv.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, &attributes, cArgv, cEnv)
        guard rc == 0 else {
            throw SpawnError("cannot start \(argv[0]): \(String(cString: strerror(rc)))")
        }
        return BackgroundProcess(pid: pid, command: argv.joined(separator: " "))
    }

    /// Runs blocking work (spawning, waitpid, sleeps) on a fresh thread, so async
    /// tests don't block Swift's cooperative pool (2 threads on 2 cores), which
    /// stalls every other test running in parallel.
    public static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.start()
        }
    }

    /// `run`, off the cooperative pool.
    public static func runAsync(_ argv: [String], env: [String: String] = [:], stdin: [UInt8]? = nil,
                                cwd: String? = nil, timeout: Double = 120) async throws -> SpawnResult {
        try await offPool { try run(argv, env: env, stdin: stdin, cwd: cwd, timeout: timeout) }
    }

    public static func makeTempDirectory(prefix: String) throws -> String {
        // NSTemporaryDirectory() ends in "/": join without doubling it, since
        // specs refuse non-normalized paths such as "/tmp//x".
        var base = NSTemporaryDirectory()
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        var template = Array((base + "/labsync-\(prefix)-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw SpawnError("mkdtemp failed: \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }
}

/// glibc's `_np` spawn extensions are declared only under _GNU_SOURCE, which
/// Swift's Glibc module does not set: look them up at run time (glibc ≥ 2.34).
private enum GlibcExtensions {
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    typealias AddClosefrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    static let addchdir: AddChdir? = symbol("posix_spawn_file_actions_addchdir_np")
    static let addclosefrom: AddClosefrom? = symbol("posix_spawn_file_actions_addclosefrom_np")

    private static func symbol<T>(_ name: String) -> T? {
        guard let handle = dlopen(nil, RTLD_NOW), let pointer = dlsym(handle, name) else { return nil }
        return unsafeBitCast(pointer, to: T.self)
    }
}

/// A child started by `Spawn.start`. Kill and reap it before the test ends.
public final class BackgroundProcess: @unchecked Sendable {
    public let pid: pid_t
    public let command: String
    private let lock = NSLock()
    private var exitStatus: Int32?

    init(pid: pid_t, command: String) {
        self.pid = pid
        self.command = command
    }

    /// True until the process has exited (reaps it if it just did).
    public var isRunning: Bool {
        lock.lock(); defer { lock.unlock() }
        return reap(options: WNOHANG) == nil
    }

    /// Sends `signal` to the process group (the process and its children).
    public func kill(_ signal: Int32 = SIGTERM) {
        lock.lock(); defer { lock.unlock() }
        guard exitStatus == nil else { return }
        Glibc.kill(-pid, signal)
    }

    /// Waits for exit; nil when `timeout` (seconds) passed first, after which the
    /// process group is SIGKILLed and reaped.
    @discardableResult
    public func wait(timeout: Double? = nil) -> Int32? {
        let deadline = timeout.map { Date().addingTimeInterval($0) }
        while true {
            lock.lock()
            if let status = reap(options: WNOHANG) { lock.unlock(); return status }
            lock.unlock()
            if let deadline, Date() >= deadline {
                kill(SIGKILL)
                lock.lock()
                _ = reap(options: 0)
                lock.unlock()
                return nil
            }
            usleep(5_000)
        }
    }

    /// SIGTERM, then SIGKILL if it lingers; always reaps.
    public func stop() {
        kill(SIGTERM)
        if wait(timeout: 5) == nil { kill(SIGKILL); wait() }
    }

    /// Call with the lock held.
    private func reap(options: Int32) -> Int32? {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        let rc = waitpid(pid, &status, options)
        guard rc == pid else {
            if rc < 0 && errno == ECHILD { exitStatus = -1 }  // reaped elsewhere
            return exitStatus
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift does not import.
        let signal = status & 0x7f
        exitStatus = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        return exitStatus
    }
}
