// Issue 11 #1: whoever controls one directory on the way to an environment
// must not be able to steer labsync. The real binary plans and applies over the
// loopback sshd to roots that run through a symbolic link, a group-writable
// directory and a directory owned by `nobody`: the observation finds each, so
// `plan` already refuses it, naming the path and the culprit, and nothing is
// created where they lead. (The apply script checks again before each step,
// for a host that changes after the plan: HostScriptRunTests.)

import Foundation
import LabsyncTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension PipScenarios {
    @Suite(.serialized, .integration) struct PathSafety {
        @Test func rootsThroughUnsafeDirectoriesAreRefusedOnTheHost() async throws {
            let w = try Workspace("unsafe-paths")
            defer { w.cleanUp() }
            let fm = FileManager.default
            let target = w.directory + "/target"
            try fm.createDirectory(atPath: target, withIntermediateDirectories: true)
            try fm.createSymbolicLink(atPath: w.directory + "/x", withDestinationPath: target)
            try fm.createDirectory(atPath: w.directory + "/g", withIntermediateDirectories: true)
            chmod(w.directory + "/g", 0o775)
            try fm.createDirectory(atPath: w.directory + "/n", withIntermediateDirectories: true)
            chown(w.directory + "/n", 65534, 65534)  // nobody

            func environment(_ name: String, root: String) -> String {
                w.environment(name, packages: ["gamma"]).replacing("root: \(w.root)", with: "root: \(root)")
            }
            try w.write("envs.yaml", [environment("linked", root: w.directory + "/x/envs"),
                                      environment("shared", root: w.directory + "/g/envs"),
                                      environment("foreign", root: w.directory + "/n/envs"),
                                      w.environment("good", packages: ["gamma"])].joined(separator: "---\n"))

            let culprits = [("x", "\(w.directory)/x is a symbolic link", "linked"),
                            ("g", "\(w.directory)/g is writable by group (mode 775)", "shared"),
                            ("n", "\(w.directory)/n is owned by nobody (uid 65534), not root", "foreign")]
            let plan = try await w.labsync("plan", [])
            #expect(plan.status == 1, "errors in the plan: \(plan.stdoutText)\n\(plan.stderrText)")
            for (directory, culprit, name) in culprits {
                #expect(plan.stdoutText.contains("PythonEnvironment/\(name): unsafe path \(w.directory)/\(directory)/envs: \(culprit)"),
                        "\(plan.stdoutText)")
            }
            #expect(plan.stdoutText.contains("create-env PythonEnvironment/good"), "the host's other environment is planned")

            let result = try await w.labsync("apply", ["--yes"])
            #expect(result.status == 1, "\(result.stdoutText)\n\(result.stderrText)")
            let output = result.stdoutText + result.stderrText
            for (directory, culprit, name) in culprits {
                #expect(output.contains("PythonEnvironment/\(name): unsafe path \(w.directory)/\(directory)/envs: \(culprit)"),
                        "\(output)")
                #expect(!output.contains("create-env PythonEnvironment/\(name)"), "never run: \(output)")
            }
            #expect(try fm.contentsOfDirectory(atPath: target).isEmpty, "nothing created through the link")
            #expect(!fm.fileExists(atPath: w.directory + "/g/envs"))
            #expect(!fm.fileExists(atPath: w.directory + "/n/envs"))
            // The other environment of the host is untouched by the refusals.
            #expect(w.packages("good") == ["gamma": "1.0"])
            #expect(w.marker("good")?.spec == "good")
        }

        /// `owner`: the venv is that user's, the root above it stays root's and is
        /// created so; later steps accept the owner's venv (a real directory) and
        /// refuse it once it is swapped for a link.
        @Test func anOwnersEnvironmentIsCheckedAsARealDirectory() async throws {
            let w = try Workspace("owner-path")
            defer { w.cleanUp() }
            try w.write("app.yaml", w.environment("app", packages: ["gamma"], extra: ["owner: \(SSHServer.user)"]))
            try await w.apply()
            var info = stat()
            #expect(lstat(w.root, &info) == 0 && info.st_uid == 0 && info.st_mode & 0o777 == 0o755)
            let owner = try Spawn.run(["id", "-u", SSHServer.user]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(lstat(w.path(of: "app"), &info) == 0 && String(info.st_uid) == owner)

            // A later install into the owner's venv passes the check, and runs as
            // the owner: the owner's bin/python (here a wrapper that notes who ran
            // it) never runs as root.
            let python = w.path(of: "app") + "/bin/python"
            // Through the venv's other link, so that Python still finds pyvenv.cfg.
            let real = w.path(of: "app") + "/bin/python3"
            let witness = w.path(of: "app") + "/ran-as"
            try FileManager.default.removeItem(atPath: python)
            try "#!/bin/sh\nid -u >> '\(witness)'\nexec '\(real)' \"$@\"\n".write(toFile: python, atomically: true, encoding: .utf8)
            chmod(python, 0o755)
            chown(python, UInt32(owner) ?? 0, 0)
            try w.write("app.yaml", w.environment("app", packages: ["gamma", "delta"], extra: ["owner: \(SSHServer.user)"]))
            try await w.apply()
            #expect(w.packages("app") == ["gamma": "1.0", "delta": "1.0"])
            let ranAs = try String(contentsOfFile: witness, encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(!ranAs.isEmpty && ranAs.allSatisfy { $0 == owner }, "the owner's python ran as uid \(ranAs)")

            // The owner replaces the venv with a link to elsewhere: refused.
            let elsewhere = w.directory + "/elsewhere"
            try FileManager.default.moveItem(atPath: w.path(of: "app"), toPath: elsewhere)
            try FileManager.default.createSymbolicLink(atPath: w.path(of: "app"), withDestinationPath: elsewhere)
            try w.write("app.yaml", w.environment("app", packages: ["gamma", "delta", "beta"], extra: ["owner: \(SSHServer.user)"]))
            let result = try await w.labsync("apply", ["--yes"])
            #expect(result.status == 1)
            #expect((result.stdoutText + result.stderrText)
                        .contains("unsafe path \(w.path(of: "app")): \(w.path(of: "app")) is a symbolic link"),
                    "\(result.stdoutText)\(result.stderrText)")
            #expect(try !Self.installed(in: elsewhere).contains("beta"), "nothing installed through the link")
        }

        static func installed(in venv: String) throws -> [String] {
            let lib = venv + "/lib"
            return try FileManager.default.contentsOfDirectory(atPath: lib).flatMap { python in
                (try? FileManager.default.contentsOfDirectory(atPath: lib + "/" + python + "/site-packages")) ?? []
            }.filter { $0.hasSuffix(".dist-info") }.map { String($0.prefix { $0 != "-" }).lowercased() }
        }
    }
}
