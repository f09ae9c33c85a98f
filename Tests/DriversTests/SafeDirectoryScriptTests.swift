// `labsync_safe_dir` (Drivers/Core/Scripts/safe_dir.sh) run by this machine's
// /bin/sh (dash on Debian, as on the hosts), on real directories: symbolic
// links, foreign owners, group/other write bits, sticky directories, and what
// `-c` creates. Issue 11 #1.

import Drivers
import Foundation
import LabsyncTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.integration) struct SafeDirectoryScriptTests {
    /// A fresh directory under /tmp (root 0700, from mkdtemp) made 0755, so
    /// that it passes and each test decides what below it is unsafe.
    final class Tree {
        let base: String
        init(_ name: String) throws {
            base = try Spawn.makeTempDirectory(prefix: "safe-dir-\(name)")
            chmod(base, 0o755)
        }
        deinit { GitFixture.removeTree(URL(fileURLWithPath: base)) }

        func directory(_ path: String, mode: mode_t = 0o755, owner: uid_t = 0) throws -> String {
            let full = base + "/" + path
            try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
            chmod(full, mode)  // past the umask
            chown(full, owner, owner)
            return full
        }

        func link(_ path: String, to target: String) throws -> String {
            try FileManager.default.createSymbolicLink(atPath: base + "/" + path, withDestinationPath: target)
            return base + "/" + path
        }

        func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: base + "/" + path) }
    }

    /// `labsync_safe_dir ARGS…` under /bin/sh: status and stderr.
    ///
    /// Every call also asks the plan-time verdict (`path_problem` of the observe
    /// script, observe_main.py) first, on the same tree, and holds the two to
    /// one rule: where the shell refuses a path for what exists on it, the
    /// observation names the same culprit in the same words; where the shell
    /// passes, so does it. What is missing the observation leaves to the shell
    /// (a step before may create it), so a refusal of a missing component is
    /// the shell's alone.
    static func check(_ arguments: [String]) throws -> (status: Int32, message: String) {
        let observed = try planTimeProblem(arguments)
        let script = CoreScripts.safeDirectory + "\nlabsync_safe_dir \"$@\""
        let result = try Spawn.run(["/bin/sh", "-c", script, "labsync-test"] + arguments)
        let message = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
        if result.status == 0 {
            #expect(observed == nil, "the shell passes \(arguments), the observation says: \(observed ?? "")")
        } else if message.contains("does not exist") || message.contains("cannot create")
                    || arguments.contains("-c") && observed == nil {
            // Missing at plan time (or made by -c and then found wrong): the shell's to judge.
        } else {
            #expect("labsync: " + (observed ?? "(passes)") == message, "\(arguments)")
        }
        return (result.status, message)
    }

    /// The observation's verdict on the path of `labsync_safe_dir ARGS…` (-c does
    /// not change it; -o does), nil when it passes.
    static func planTimeProblem(_ arguments: [String]) throws -> String? {
        let probe = """
            import sys
            namespace = {"__name__": "labsync_observe_test"}
            exec(sys.stdin.read(), namespace)
            print(namespace["path_problem"](sys.argv[1], sys.argv[2] == "1") or "")
            """
        let path = arguments.last ?? ""
        let result = try Spawn.run(["python3", "-c", probe, path, arguments.contains("-o") ? "1" : "0"],
                                   stdin: Array(ObserveScript.main.utf8))
        #expect(result.status == 0, "\(result.stderrText)")
        let text = result.stdoutText.trimmingCharacters(in: .newlines)
        return text.isEmpty ? nil : text
    }

    static let nobody: uid_t = 65534

    @Test func aSafePathPasses() throws {
        let t = try Tree("ok")
        let envs = try t.directory("srv/envs")
        let r = try Self.check([envs])
        #expect(r.status == 0, "\(r.message)")
        #expect(r.message.isEmpty)
        // A missing tail under a safe parent is the step's to create.
        #expect(try Self.check([envs + "/new/deeper"]).status == 0)
        #expect(!t.exists("srv/envs/new"), "without -c nothing is created")
        #expect(try Self.check(["/"]).status == 0)
    }

    @Test func aSymbolicLinkOnThePathIsRefusedAndNamed() throws {
        let t = try Tree("link")
        let target = try t.directory("target")
        let link = try t.link("x", to: target)
        let r = try Self.check(["-c", link + "/envs"])
        #expect(r.status == 1)
        #expect(r.message == "labsync: unsafe path \(link)/envs: \(link) is a symbolic link")
        #expect(!t.exists("target/envs"), "nothing created through the link")
        // The path itself a link: refused, even as an owner's directory.
        let leaf = try Self.check(["-o", link])
        #expect(leaf.status == 1)
        #expect(leaf.message.hasSuffix("\(link) is a symbolic link"), "\(leaf.message)")
    }

    @Test func groupOrOtherWritableIsRefused() throws {
        let t = try Tree("writable")
        let group = try t.directory("g", mode: 0o775)
        var r = try Self.check(["-c", group + "/envs"])
        #expect(r.status == 1)
        #expect(r.message == "labsync: unsafe path \(group)/envs: \(group) is writable by group (mode 775)")
        #expect(!t.exists("g/envs"))
        let others = try t.directory("o", mode: 0o757)
        r = try Self.check([others + "/envs"])
        #expect(r.message.hasSuffix("\(others) is writable by others (mode 757)"), "\(r.message)")
        // The path itself too, unless it is an owner's.
        r = try Self.check([group])
        #expect(r.status == 1)
        #expect(try Self.check(["-o", group]).status == 0)
    }

    @Test func aForeignOwnerIsRefusedAndNamed() throws {
        let t = try Tree("owner")
        let theirs = try t.directory("n", owner: Self.nobody)
        let r = try Self.check(["-c", theirs + "/envs"])
        #expect(r.status == 1)
        #expect(r.message == "labsync: unsafe path \(theirs)/envs: \(theirs) is owned by nobody (uid 65534), not root")
        #expect(!t.exists("n/envs"))
        // An owner's directory as the path itself: only its parents must be root's.
        #expect(try Self.check(["-o", theirs]).status == 0)
        let below = try t.directory("n/venv", owner: Self.nobody)
        #expect(try Self.check(["-o", below]).status == 1, "a parent owned by someone else still counts")
    }

    @Test func aStickyRootDirectoryIsPassedThroughButNeverTheTarget() throws {
        let t = try Tree("sticky")
        let sticky = try t.directory("tmp", mode: 0o1777)
        // Below it, checked components are root's: passed.
        let safe = try t.directory("tmp/labsync/envs")
        #expect(try Self.check([safe]).status == 0)
        // As the path itself: refused.
        let r = try Self.check([sticky])
        #expect(r.status == 1)
        #expect(r.message.hasSuffix("\(sticky) is writable by group and others (mode 1777)"), "\(r.message)")
        // A missing directory in it is not left to a later `mkdir -p` (another
        // user could make it a link first)…
        let missing = try Self.check([sticky + "/new/envs"])
        #expect(missing.status == 1)
        #expect(missing.message.contains("\(sticky)/new does not exist, and its parent is writable by others"), "\(missing.message)")
        // …but -c makes it, root 0755, and checks it once made.
        let created = try Self.check(["-c", sticky + "/new/envs"])
        #expect(created.status == 0, "\(created.message)")
        var info = stat()
        #expect(lstat(sticky + "/new/envs", &info) == 0)
        #expect(info.st_uid == 0 && info.st_mode & 0o7777 == 0o755)
        // A sticky directory someone else owns is not root's promise: refused.
        let theirs = try t.directory("theirs", mode: 0o1777, owner: Self.nobody)
        #expect(try Self.check([theirs + "/x"]).message.contains("owned by nobody"))
        // The real /tmp, as the tests' roots use it.
        #expect(try Self.check(["/tmp"]).status == 1)
    }

    /// `-c` loses a race in a sticky directory: between the first walk and its
    /// `mkdir`, another user makes the name a link (a `mkdir` on PATH plays that
    /// user). The check after the mkdir refuses; nothing is written through it.
    @Test func creationRefusesWhatAppearedMeanwhile() throws {
        let t = try Tree("race")
        let sticky = try t.directory("tmp", mode: 0o1777)
        let target = try t.directory("target")
        let shims = try t.directory("shims")
        // Called as `mkdir -m 755 -- DIR`.
        try "#!/bin/sh\nln -s \(target) \"$4\"\n".write(toFile: shims + "/mkdir", atomically: true, encoding: .utf8)
        chmod(shims + "/mkdir", 0o755)
        let script = CoreScripts.safeDirectory + "\nlabsync_safe_dir \"$@\""
        let r = try Spawn.run(["/bin/sh", "-c", script, "labsync-test", "-c", sticky + "/envs/app"],
                              env: ["PATH": shims + ":/usr/bin:/bin"])
        #expect(r.status == 1)
        #expect(r.stderrText.hasSuffix("\(sticky)/envs is a symbolic link\n"), "\(r.stderrText)")
        #expect(!t.exists("target/app"), "the link was not followed")
    }

    @Test func malformedPathsAndFilesOnThePathAreRefused() throws {
        let t = try Tree("malformed")
        _ = try t.directory("d")
        _ = FileManager.default.createFile(atPath: t.base + "/d/file", contents: Data())
        #expect(try Self.check(["relative/path"]).message == "labsync: unsafe path 'relative/path': not an absolute path")
        #expect(try Self.check([t.base + "//d"]).message.hasSuffix("not a normalized path"))
        #expect(try Self.check([t.base + "/d/../d"]).message.hasSuffix("not a normalized path"))
        let file = try Self.check(["-c", t.base + "/d/file/envs"])
        #expect(file.status == 1)
        #expect(file.message.hasSuffix("\(t.base)/d/file is not a directory (regular empty file)"), "\(file.message)")
    }

    /// The check is meant for dash: the function must not lean on bash.
    @Test func theShellIsPOSIX() throws {
        let sh = try Spawn.run(["readlink", "-f", "/bin/sh"]).stdoutText
        #expect(sh.contains("dash"), "these tests assume Debian's /bin/sh: \(sh)")
    }
}
