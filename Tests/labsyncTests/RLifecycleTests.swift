// R libraries end to end: the REAL built `labsync` against the loopback sshd,
// real R installing from the CRAN-like fixture (file:// and loopback HTTP).
// Nested in PipScenarios: every apply takes the same host lock.

import Foundation
import LabsyncTestSupport
import Testing

extension Workspace {
    /// An REnvironment on `loopback` under this workspace's root.
    func rLibrary(_ name: String, repo: String, packages: [String], extra: [String] = []) -> String {
        let list = packages.map { "\"\($0)\"" }.joined(separator: ", ")
        return """
            apiVersion: labsync/v1
            kind: REnvironment
            metadata: {name: \(name)}
            spec:
              host: loopback
              root: \(root)
              repos: ["\(repo)"]
              packages: [\(list)]
            \(extra.map { "  " + $0 + "\n" }.joined())
            """
    }

    /// Packages in a library, read from their DESCRIPTION files (not through labsync).
    func rPackages(_ name: String) -> [String: String] {
        let lib = path(of: name)
        var found: [String: String] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? [] {
            let text = contents(lib + "/" + entry + "/DESCRIPTION")
            let version = text.split(separator: "\n").first { $0.hasPrefix("Version:") }
            if let version { found[entry] = version.dropFirst(8).trimmingCharacters(in: .whitespaces) }
        }
        return found
    }

    /// R run by hand on the host (this machine), as an administrator would.
    func rByHand(_ code: String) throws {
        try Spawn.check(["Rscript", "--vanilla", "-e", code])
    }
}

private func rString(_ s: String) -> String { "'" + s.replacing("\\", with: "\\\\").replacing("'", with: "\\'") + "'" }

extension PipScenarios {
    @Suite(.serialized, .integration) struct RLibraries {
        @Test func createPinBumpDriftExportAndRemove() async throws {
            let repo = try await Spawn.offPool { try CRANFixture.fileURL() }
            let w = try Workspace("r-lifecycle")
            defer { w.cleanUp() }
            try w.write("stats.yaml", w.rLibrary("stats", repo: repo, packages: ["fxr (== 0.2-1)", "labsyncdemo"]))

            let first = try await w.plan()
            #expect(first.status == 2)
            #expect(first.plan.summary == ["create-library REnvironment/stats []",
                                           "install REnvironment/stats [\"fxr (== 0.2-1)\", \"labsyncdemo\"]"])
            try await w.apply()
            #expect(w.rPackages("stats") == ["fxr": "0.2-1", "labsyncdemo": "1.0"])
            #expect(w.marker("stats")?.packages == ["fxr (== 0.2-1)", "labsyncdemo"])
            let second = try await w.plan()
            #expect(second.status == 0, "\(second.plan.summary) \(second.plan.drift.map(\.detail))")

            // The pin moves: exactly one install step.
            try w.write("stats.yaml", w.rLibrary("stats", repo: repo, packages: ["fxr (== 0.3-0)", "labsyncdemo"]))
            let bump = try await w.plan()
            #expect(bump.plan.steps == [JSONPlan.Step(host: "loopback", resource: "REnvironment/stats", action: "install",
                                                      packages: ["fxr (== 0.3-0)"],
                                                      reason: "fxr 0.2-1 does not satisfy == 0.3-0")])
            try await w.apply()
            #expect(w.rPackages("stats") == ["fxr": "0.3-0", "labsyncdemo": "1.0"])
            #expect(try await w.plan().status == 0)

            // export round-trips: its lines as another library's packages reproduce it.
            let export = try await w.labsync("export", ["REnvironment/stats"])
            #expect(export.status == 0, "\(export.stderrText)")
            let lines = export.stdoutText.split(separator: "\n").map(String.init)
            #expect(lines == ["fxr (== 0.3-0)", "labsyncdemo (== 1.0)"])
            try w.write("copy.yaml", w.rLibrary("copy", repo: repo, packages: lines))
            try await w.apply()
            #expect(w.rPackages("copy") == w.rPackages("stats"))
            #expect(try await w.plan().status == 0)

            // Removed by hand: drift, reinstalled.
            try w.rByHand("remove.packages('labsyncdemo', lib = \(rString(w.path(of: "stats"))))")
            let missing = try await w.plan()
            #expect(missing.plan.summary == ["install REnvironment/stats [\"labsyncdemo\"]"])
            #expect(missing.plan.drift.map { "\($0.kind) \($0.package)" } == ["missing-package labsyncdemo"])
            try await w.apply()
            #expect(w.rPackages("stats")["labsyncdemo"] == "1.0")

            // Added by hand: reported under `unmanaged: report` (the default), removed under `remove`.
            try w.rByHand("install.packages('fxrange', lib = \(rString(w.path(of: "stats"))), repos = \(rString(repo)), type = 'source')")
            #expect(w.rPackages("stats")["fxrange"] == "0.1-0")
            let reported = try await w.plan()
            #expect(reported.status == 0, "report is not a change: \(reported.plan.summary)")
            #expect(reported.plan.drift.map { "\($0.resource) \($0.kind) \($0.package)" }
                    == ["REnvironment/stats extra-package fxrange"])
            try w.write("stats.yaml", w.rLibrary("stats", repo: repo, packages: ["fxr (== 0.3-0)", "labsyncdemo"],
                                                 extra: ["unmanaged: remove"]))
            let removal = try await w.plan()
            #expect(removal.plan.summary == ["uninstall REnvironment/stats [\"fxrange\"]"])
            try await w.apply()
            #expect(w.rPackages("stats") == ["fxr": "0.3-0", "labsyncdemo": "1.0"])
            #expect(try await w.plan().status == 0)

            // state: absent removes that library and nothing else.
            try FileManager.default.createDirectory(atPath: w.path(of: "by-hand"), withIntermediateDirectories: true)
            try w.write("stats.yaml", w.rLibrary("stats", repo: repo, packages: [], extra: ["state: absent"]))
            let absent = try await w.plan()
            #expect(absent.plan.summary == ["remove-library REnvironment/stats []"])
            #expect(absent.plan.unmanaged.map(\.path) == [w.path(of: "by-hand")])
            try await w.apply()
            #expect(!FileManager.default.fileExists(atPath: w.path(of: "stats")))
            #expect(FileManager.default.fileExists(atPath: w.path(of: "by-hand")), "unmarked libraries are never deleted")
            #expect(w.rPackages("copy") == ["fxr": "0.3-0", "labsyncdemo": "1.0"])
            #expect(FileManager.default.fileExists(atPath: "/usr/lib/R/library/base/DESCRIPTION"), "R itself stays")
            #expect(try await w.plan().status == 0)
        }

        @Test func anUnsatisfiableRangeFailsItsLibraryOnly() async throws {
            _ = try await Spawn.offPool { try CRANFixture.directory() }
            let server = try await CRANFixture.serve()
            let w = try Workspace("r-range")
            defer { w.cleanUp() }
            try w.write("bad.yaml", w.rLibrary("bad", repo: server.url, packages: ["fxr (>= 9.0)"]))
            try w.write("good.yaml", w.rLibrary("good", repo: server.url, packages: ["labsyncdemo"]))
            let result = try await w.labsync("apply", ["--yes"], timeout: 600)
            await server.stop()
            #expect(result.status != 0)
            let output = result.stdoutText + result.stderrText
            #expect(output.contains("fxr (>= 9.0): the repositories offer fxr 0.3-0, which does not satisfy it"), "\(output)")
            #expect(w.rPackages("good") == ["fxr": "0.3-0", "labsyncdemo": "1.0"])
            #expect(w.rPackages("bad").isEmpty)
            #expect(w.marker("good")?.packages == ["labsyncdemo"])
            #expect(w.marker("bad")?.packages == [], "the marker records only what succeeded")
        }
    }
}
