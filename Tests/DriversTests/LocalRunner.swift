// Runs a RemoteCommand on this machine exactly as a remote login shell would:
// `/bin/sh -c "$(ShellQuote.render(command))"` with the command's stdin. posix_spawn,
// not Foundation.Process (see PLATFORM-NOTES: Process can hang Swift Testing).

import Foundation
import Remote
#if canImport(Glibc)
import Glibc
#endif

struct LocalResult {
    var status: Int32
    var stdout: [UInt8]
    var stderr: String
}

enum LocalRunner {
    static func run(_ command: RemoteCommand) throws -> LocalResult {
        try run(["/bin/sh", "-c", command.shellLine], stdin: command.stdin ?? [])
    }

    static func run(_ argv: [String], stdin: [UInt8] = []) throws -> LocalResult {
        let dir = try temporaryDirectory("run")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(stdin).write(to: URL(fileURLWithPath: dir + "/in"))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, dir + "/in", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, dir + "/out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, dir + "/err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ)
        guard rc == 0 else { throw RunnerError(message: "cannot start \(argv[0]): \(rc)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let out = try Data(contentsOf: URL(fileURLWithPath: dir + "/out"))
        let err = try Data(contentsOf: URL(fileURLWithPath: dir + "/err"))
        return LocalResult(status: (status >> 8) & 0xff, stdout: Array(out), stderr: String(decoding: err, as: UTF8.self))
    }

    static func temporaryDirectory(_ prefix: String) throws -> String {
        var template = Array((NSTemporaryDirectory() + "/labsync-\(prefix)-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw RunnerError(message: "mkdtemp failed") }
        return String(cString: made)
    }
}

struct RunnerError: Error { var message: String }
