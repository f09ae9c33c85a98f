import Foundation
import Journal
import LabsyncTestSupport
import Remote
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 11 #4: the journal holds every plan and output line; only its owner reads it.
@Suite(.unit, .serialized) struct StateDirectoryTests {
    func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
    }

    func temporary() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("labsync-state-\(UUID().uuidString)")
    }

    @Test func newStateDirectoryAndJournalAreOwnerOnly() throws {
        let parent = temporary()
        defer { try? FileManager.default.removeItem(at: parent) }
        let state = parent.appendingPathComponent("state")
        let old = umask(0o022)  // the usual umask, which made 0755 and 0644
        defer { umask(old) }
        let journal = try Journal(stateDirectory: state)
        let run = try journal.begin(kind: .plan, trigger: "cli", revision: nil)
        try journal.addLine(run: run, stream: .output, "a line")  // creates -wal and -shm
        #expect(mode(state.path) == 0o700)
        for suffix in ["", "-wal", "-shm"] {
            let path = journal.path + suffix
            #expect(FileManager.default.fileExists(atPath: path), "\(path)")
            #expect(mode(path) == 0o600, "\(path): \(String(mode(path), radix: 8))")
        }
    }

    @Test func looserExistingStateIsTightened() throws {
        let state = temporary()
        defer { try? FileManager.default.removeItem(at: state) }
        do {  // as an older labsync left it
            let journal = try Journal(stateDirectory: state)
            let run = try journal.begin(kind: .plan, trigger: "cli", revision: nil)
            try journal.addLine(run: run, stream: .output, "a line")
        }
        chmod(state.path, 0o755)
        for suffix in ["", "-wal", "-shm"] {
            // A killed process leaves -wal and -shm behind; a clean close removes them.
            let path = state.appendingPathComponent("journal.sqlite" + suffix).path
            if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
            chmod(path, 0o644)
        }
        let journal = try Journal(stateDirectory: state)
        #expect(mode(state.path) == 0o700)
        for suffix in ["", "-wal", "-shm"] {
            #expect(mode(journal.path + suffix) == 0o600, "\(suffix): \(String(mode(journal.path + suffix), radix: 8))")
        }
        #expect(try journal.runs().count == 1)  // tightened, not recreated
    }

    @Test func aStateDirectoryThatIsAFileIsRefused() throws {
        let file = temporary()
        try Data().write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(throws: StateDirectory.Error.self) { try StateDirectory.prepare(file) }
    }
}
