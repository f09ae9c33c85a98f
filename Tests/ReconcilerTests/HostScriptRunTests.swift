// The rendered host script run by a real /bin/sh on this machine (no SSH), with
// its lock in a directory of the test's own: what the script does when the host
// is not the usual Debian box.

import Drivers
import Foundation
import LabsyncTestSupport
@testable import Reconciler
import Remote
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite(.integration) struct HostScriptRunTests {
    static func step(_ name: String, _ shell: String, kind: StepKind = .install, resource: String = "PythonEnvironment/a",
                     path: String? = nil) -> PlannedStep {
        PlannedStep(host: "h", resource: resource, action: kind, reason: name,
                    commands: [RemoteCommand("/bin/sh", ["-c", shell])], environmentPath: path)
    }

    /// Issue 11 #20: `/var/lock` → `/run/lock`, and `/run/lock` missing. The script
    /// creates the directory the link names and takes its lock there.
    @Test func lockUnderADanglingSymlink() throws {
        let dir = try Spawn.makeTempDirectory(prefix: "hostscript-lock")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/run", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/lock", withDestinationPath: dir + "/run/lock")
        let script = HostScript(steps: [Self.step("one", "echo hello")], nonce: "n", owner: "test-owner",
                                lockDirectory: dir + "/lock/labsync").renderWork()
        let result = try Spawn.run(["/bin/sh", "-s"], stdin: Array(script.utf8))
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stdoutText.contains("@@n locked"))
        #expect(result.stdoutText.contains("@@n out 0 hello"))
        let owner = try String(contentsOfFile: dir + "/run/lock/labsync/host.owner", encoding: .utf8)
        #expect(owner == "test-owner\n")
    }

    /// Issue 11 #7: once it holds the lock, the script compares the generation the
    /// plan was made from with the one beside the lock; another run's means the plan
    /// is stale, and nothing runs. A current plan runs and writes its own generation.
    @Test func aPlanMadeBeforeAnotherRunIsRefusedOnceLocked() throws {
        let dir = try Spawn.makeTempDirectory(prefix: "hostscript-stale")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let steps = [Self.step("one", "echo ran")]
        func run(expecting generation: String?, nonce: String) throws -> SpawnResult {
            let script = HostScript(steps: steps, nonce: nonce, owner: "o", lockDirectory: dir,
                                    expectedGeneration: generation).renderWork()
            return try Spawn.run(["/bin/sh", "-s"], stdin: Array(script.utf8))
        }
        func generation() -> String? { try? String(contentsOfFile: dir + "/generation", encoding: .utf8) }

        // No apply ever ran here: the observation said "".
        var result = try run(expecting: "", nonce: "first")
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(generation() == "first\n")

        // A plan made from that same observation, after "first" ran: stale.
        result = try run(expecting: "", nonce: "second")
        #expect(result.status == HostScript.staleExitCode)
        #expect(result.stdoutText.contains("@@second stale"))
        #expect(!result.stdoutText.contains("@@second begin"))
        #expect(generation() == "first\n", "a refused run changes nothing")

        // A plan made after "first": runs.
        result = try run(expecting: "first", nonce: "third")
        #expect(result.status == 0)
        #expect(result.stdoutText.contains("@@third out 0 ran"))
        #expect(generation() == "third\n")
    }

    /// Issue 11 #16: a failed ensure-uv skips the uv environment that needs it, and
    /// nothing else: the pip environment and a later host-wide step still run.
    @Test func failedHostWideStepSkipsOnlyItsDependents() throws {
        let dir = try Spawn.makeTempDirectory(prefix: "hostscript-needs")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let steps = HostScriptNeedsFixture.steps
        let script = HostScript(steps: steps, nonce: "n", owner: "o", lockDirectory: dir + "/lock").renderWork()
        let result = try Spawn.run(["/bin/sh", "-s"], stdin: Array(script.utf8))
        #expect(result.status == 1, "a failed step fails the script")
        let tracker = StepTracker(host: "h", steps: steps.map(PlanStep.init), nonce: "n", keptLines: 10, events: { _ in })
        for line in result.stdoutText.split(separator: "\n") { tracker.consume(OutputLine(stream: .stdout, text: String(line))) }
        let outcomes = tracker.outcomes()
        #expect(outcomes.map(\.status) == [.failed, .succeeded, .skipped, .succeeded, .succeeded])
        #expect(outcomes[2].skippedBecause == "ensure-uv")
        #expect(outcomes[4].output == ["pip env"])
        #expect(result.stdoutText.contains("@@n out 0 no uv"))
    }

    /// Issue 11 #1, for labsync's own files: /run/lock is writable by everyone
    /// (sticky), so a `labsync` directory planted there by another user, or a
    /// link in its place, must not receive the host.owner write. Refused before
    /// the lock is taken, naming the culprit; nothing runs, nothing is written.
    @Test func aLockDirectoryOthersControlIsRefused() throws {
        let dir = try Spawn.makeTempDirectory(prefix: "hostscript-lockdir")
        defer { GitFixture.removeTree(URL(fileURLWithPath: dir)) }
        let sticky = dir + "/lock"
        try FileManager.default.createDirectory(atPath: sticky + "/planted", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/elsewhere", withIntermediateDirectories: true)
        chmod(sticky, 0o1777)
        chown(sticky + "/planted", 65534, 65534)
        try FileManager.default.createSymbolicLink(atPath: sticky + "/linked", withDestinationPath: dir + "/elsewhere")
        for (name, culprit) in [("planted", "is owned by nobody (uid 65534), not root"), ("linked", "is a symbolic link")] {
            let script = HostScript(steps: [Self.step("one", "echo ran")], nonce: "n", owner: "o",
                                    lockDirectory: sticky + "/" + name).renderWork()
            let result = try Spawn.run(["/bin/sh", "-s"], stdin: Array(script.utf8))
            #expect(result.status == 1)
            #expect(result.stderrText == "labsync: unsafe path \(sticky)/\(name): \(sticky)/\(name) \(culprit)\n")
            #expect(!result.stdoutText.contains("@@n locked") && !result.stdoutText.contains("ran"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/elsewhere").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: sticky + "/planted").isEmpty)
    }

    /// Issue 11 #1: a step's paths are resolved on the host before its first
    /// command. Through a symbolic link the step fails, its output naming the
    /// path and the link; its commands and marker never run, the link's target
    /// stays empty, and another environment of the host still converges.
    @Test func aStepWhosePathRunsThroughALinkFailsBeforeWriting() throws {
        let dir = try Spawn.makeTempDirectory(prefix: "hostscript-paths")
        defer { GitFixture.removeTree(URL(fileURLWithPath: dir)) }
        chmod(dir, 0o755)
        try FileManager.default.createDirectory(atPath: dir + "/target", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/x", withDestinationPath: dir + "/target")
        func create(_ root: String, _ name: String) -> PlannedStep {
            var step = Self.step(name, #"mkdir -p "$0" && echo made"#.replacing("$0", with: root + "/" + name),
                                 kind: .createEnv, resource: "PythonEnvironment/\(name)", path: root + "/" + name)
            step.markerAfter = LabsyncMarker(spec: name, packages: [], python: "3")
            step.markerPath = root + "/" + name + "/.labsync.json"
            step.checkedPaths = [CheckedPath(root, create: true), CheckedPath(root + "/" + name)]
            return step
        }
        let steps = [create(dir + "/x/envs", "linked"), create(dir + "/real/envs", "fine")]
        let script = HostScript(steps: steps, nonce: "n", owner: "o", lockDirectory: dir + "/lock").renderWork()
        // (The script's own status does not count environments' failures: the
        // tracker reads them from the step lines, as the applier does.)
        let result = try Spawn.run(["/bin/sh", "-s"], stdin: Array(script.utf8))
        let tracker = StepTracker(host: "h", steps: steps.map(PlanStep.init), nonce: "n", keptLines: 10, events: { _ in })
        for line in result.stdoutText.split(separator: "\n") { tracker.consume(OutputLine(stream: .stdout, text: String(line))) }
        let outcomes = tracker.outcomes()
        #expect(outcomes.map(\.status) == [.failed, .succeeded])
        #expect(outcomes[0].output == ["labsync: unsafe path \(dir)/x/envs: \(dir)/x is a symbolic link"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/target").isEmpty, "nothing written through the link")
        #expect(outcomes[1].output == ["made"])
        #expect(FileManager.default.fileExists(atPath: dir + "/real/envs/fine/.labsync.json"))
    }
}

/// ensure-uv (fails), ensure-python, a uv environment (needs ensure-uv), a pip
/// environment (create needs ensure-python, which succeeds; install needs nothing).
enum HostScriptNeedsFixture {
    static var steps: [PlannedStep] {
        var uvFails = HostScriptRunTests.step("uv", "echo no uv; exit 1", kind: .ensureUV, resource: "Host/h")
        uvFails.needs = []
        var python = HostScriptRunTests.step("python", "true", kind: .ensurePython, resource: "Host/h")
        python.needs = []
        var uvEnv = HostScriptRunTests.step("uv env", "echo uv env", resource: "PythonEnvironment/fast", path: "/e/fast")
        uvEnv.needs = ["ensure-uv"]
        var pipEnv = HostScriptRunTests.step("pip env", "echo pip env", resource: "PythonEnvironment/slow", path: "/e/slow")
        pipEnv.needs = []
        var pipCreate = HostScriptRunTests.step("create", "true", kind: .createEnv, resource: "PythonEnvironment/slow", path: "/e/slow")
        pipCreate.needs = ["ensure-python"]
        return [uvFails, python, uvEnv, pipCreate, pipEnv]
    }
}
