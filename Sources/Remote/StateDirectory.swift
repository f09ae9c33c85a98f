import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The reconciler's state directory (journal, git mirrors, recorded host keys,
/// package-index cache). The journal holds every plan and every output line of
/// every step, so the directory is the owner's alone: 0700, and the journal's
/// files 0600. A directory or file found looser (created by an older labsync,
/// or by hand under a 022 umask) is tightened, not trusted as it is.
public enum StateDirectory {
    public static let directoryMode: mode_t = 0o700
    public static let fileMode: mode_t = 0o600

    public struct Error: Swift.Error, Sendable, CustomStringConvertible {
        public var path: String
        public var message: String
        public var description: String { "state directory \(path): \(message)" }
    }

    /// Creates `directory` (0700; missing parents with the usual mode) or
    /// tightens an existing one to 0700.
    public static func prepare(_ directory: URL) throws(Error) {
        let path = directory.path
        let parent = directory.deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw Error(path: path, message: "cannot create \(parent): \(error.localizedDescription)")
        }
        if mkdir(path, directoryMode) != 0 && errno != EEXIST {
            throw Error(path: path, message: "cannot create: \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw Error(path: path, message: "exists and is not a directory")
        }
        try tighten(path, to: directoryMode)
    }

    /// Tightens `path` to `mode` if it exists and grants more than `mode` does;
    /// creates nothing.
    public static func tighten(_ path: String, to mode: mode_t) throws(Error) {
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        guard info.st_mode & 0o7777 & ~mode != 0 else { return }
        if chmod(path, mode) != 0 {
            throw Error(path: path, message: "is accessible to others (mode \(String(info.st_mode & 0o7777, radix: 8))) and cannot be restricted to \(String(mode, radix: 8)): \(String(cString: strerror(errno)))")
        }
    }

    /// Creates `path` empty with mode 0600 if missing, so that SQLite (which
    /// creates its -wal and -shm files with the database's mode) never makes
    /// a world-readable journal; tightens it, and its -wal/-shm, if looser.
    public static func prepareDatabaseFile(_ path: String) throws(Error) {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, fileMode)
        guard fd >= 0 else { throw Error(path: path, message: "cannot create: \(String(cString: strerror(errno)))") }
        close(fd)
        for file in [path, path + "-wal", path + "-shm"] { try tighten(file, to: fileMode) }
    }
}
