import Foundation
import LabsyncTestSupport
import Testing

/// `labsync packages …` and `validate --check-index` as a user runs them,
/// against scripts/index-server.py serving the generated test index on loopback.
@Suite(.integration) struct PackagesCommandTests {
    /// The test index server and a private state directory.
    final class Fixture: @unchecked Sendable {
        let process: BackgroundProcess
        let port: Int
        let logPath: String
        let state: String
        private let root: String
        private let work: String
        var url: String { "http://127.0.0.1:\(port)/simple/" }

        init(htmlOnly: Bool = false) async throws {
            let script = LabsyncBinary.packageRoot.appendingPathComponent("scripts/index-server.py").path
            let root = try Spawn.makeTempDirectory(prefix: "packages-tree")
            _ = try await Spawn.runAsync(["python3", script, "--write-fixture", root])
            let work = try Spawn.makeTempDirectory(prefix: "packages-cmd")
            self.root = root
            self.work = work
            logPath = work + "/requests.log"
            state = work + "/state"
            process = try Spawn.start(["python3", script, root, "--port-file", work + "/port", "--log", logPath]
                                      + (htmlOnly ? ["--html-only"] : []))
            var found: Int?
            for _ in 0..<200 {
                if let text = try? String(contentsOfFile: work + "/port", encoding: .utf8), let p = Int(text) { found = p; break }
                try await Task.sleep(nanoseconds: 20_000_000)
            }
            guard let found else { throw SpawnError("index server did not start") }
            port = found
        }

        func labsync(_ arguments: [String]) async throws -> SpawnResult {
            try await LabsyncBinary.runAsync(arguments + ["--state-dir", state])
        }

        var requests: [String] {
            ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        func stop() async {
            _ = try? await Spawn.offPool { self.process.stop() }
            try? FileManager.default.removeItem(atPath: work)
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    @Test(arguments: [false, true])
    func refreshThenSearch(htmlOnly: Bool) async throws {
        let f = try await Fixture(htmlOnly: htmlOnly)
        defer { Task { await f.stop() } }
        let refresh = try await f.labsync(["packages", "refresh", "--index", f.url])
        #expect(refresh.status == 0, "\(refresh.stderrText)")
        #expect(refresh.stdoutText.hasPrefix("indexed 11 names from \(f.url)"))
        // Not a TTY: no progress lines.
        #expect(refresh.stderrText == "")

        let again = try await f.labsync(["packages", "refresh", "--index", f.url])
        #expect(again.stdoutText.hasPrefix("up to date: 11 names"), "\(again.stdoutText)")
        #expect(f.requests == ["/simple/ 200 \(htmlOnly ? "html" : "json")", "/simple/ 304 \(htmlOnly ? "html" : "json")"])

        let search = try await f.labsync(["packages", "search", "sci"])
        #expect(search.stdoutText == "scikit-image\nscikit-learn\nscipy\n")
        let substring = try await f.labsync(["packages", "search", "lib"])
        #expect(substring.stdoutText == "pure-lib\n")
        let limited = try await f.labsync(["packages", "search", "s", "--limit", "1"])
        #expect(limited.stdoutText == "scikit-image\n")
    }

    @Test func searchBeforeRefreshSaysSo() async throws {
        let state = try Spawn.makeTempDirectory(prefix: "packages-empty")
        let result = try await LabsyncBinary.runAsync(["packages", "search", "numpy", "--state-dir", state])
        #expect(result.status == 1)
        #expect(result.stderrText.contains("run `labsync packages refresh` first"))
    }

    @Test func versionsNewestFirstForThatPython() async throws {
        let f = try await Fixture()
        defer { Task { await f.stop() } }
        let py313 = try await f.labsync(["packages", "versions", "numpy", "--python", "3.13", "--index", f.url])
        #expect(py313.status == 0)
        #expect(py313.stdoutText == "2.3.0rc1  wheel  pre-release\n")
        let musl = try await f.labsync(["packages", "versions", "numpy", "--python", "3.13", "--platform", "musllinux_1_2_x86_64", "--index", f.url])
        #expect(musl.stdoutText == "2.1.0  wheel\n")
        let pure = try await f.labsync(["packages", "versions", "Pure.Lib", "--python", "3.12.4", "--index", f.url])
        #expect(pure.stdoutText == "2.1  wheel\n2.0  sdist\n1.0  wheel\n")
        let none = try await f.labsync(["packages", "versions", "macos-only", "--python", "3.13", "--index", f.url])
        #expect(none.status == 1)
        #expect(none.stderrText.contains("no version has a file installable on Python 3.13 (manylinux_2_36_x86_64)"))
        let bad = try await f.labsync(["packages", "versions", "numpy", "--python", "2.7", "--index", f.url])
        #expect(bad.status == 1 && bad.stderrText.contains("python must be 3.X"))
    }

    @Test func unknownProjectSuggestsCloseNames() async throws {
        let f = try await Fixture()
        defer { Task { await f.stop() } }
        _ = try await f.labsync(["packages", "refresh", "--index", f.url])
        let result = try await f.labsync(["packages", "versions", "scikit-lern", "--python", "3.12", "--index", f.url])
        #expect(result.status == 1)
        #expect(result.stderrText.contains("did you mean scikit-learn"), "\(result.stderrText)")
    }

    @Test func shellCompletionQueriesTheLocalIndex() async throws {
        let f = try await Fixture()
        defer { Task { await f.stop() } }
        _ = try await f.labsync(["packages", "refresh", "--index", f.url])
        // What the generated bash script runs for `labsync packages versions sci<TAB>`.
        let result = try await LabsyncBinary.runAsync([
            "---completion", "packages", "versions", "--", "positional@0", "3", "3",
            "labsync", "packages", "versions", "sci", "--state-dir", f.state])
        #expect(result.stdoutText.split(separator: "\n") == ["scikit-image", "scikit-learn", "scipy"])
        let script = try await LabsyncBinary.runAsync(["--generate-completion-script", "bash"])
        #expect(script.stdoutText.contains("---completion packages versions -- positional@0"))
    }

    // MARK: validate --check-index

    private func writeSpecs(_ f: Fixture, python: String, packages: [String]) throws -> String {
        let dir = try Spawn.makeTempDirectory(prefix: "packages-specs")
        try """
            apiVersion: labsync/v1
            kind: Host
            metadata: {name: box}
            spec: {address: 127.0.0.1, user: root, identityFile: /dev/null, knownHostsFile: /dev/null}
            """.write(toFile: dir + "/host.yaml", atomically: true, encoding: .utf8)
        try """
            apiVersion: labsync/v1
            kind: PythonEnvironment
            metadata: {name: ml}
            spec:
              host: box
              python: "\(python)"
              index: {url: "\(f.url)"}
              packages:
            \(packages.map { "    - \"\($0)\"" }.joined(separator: "\n"))

            """.write(toFile: dir + "/env.yaml", atomically: true, encoding: .utf8)
        return dir
    }

    @Test func checkIndexRejectsWithLocationsAndSuggestions() async throws {
        let f = try await Fixture()
        defer { Task { await f.stop() } }
        _ = try await f.labsync(["packages", "refresh", "--index", f.url])
        let specs = try writeSpecs(f, python: "3.13", packages: [
            "numpy==1.21.0", "scikit-lern", "abi3-pkg>=42", "pure-lib", "cp312-only", "scipy<1", "Django; python_version < '3'",
        ])
        // Without the flag the index is not consulted.
        let plain = try await f.labsync(["validate", specs])
        #expect(plain.status == 0, "\(plain.stderrText)")
        #expect(f.requests.filter { $0.hasPrefix("/simple/numpy") }.isEmpty)

        let result = try await f.labsync(["validate", "--check-index", specs])
        #expect(result.status == 1)
        let lines = result.stderrText.split(separator: "\n").map(String.init)
        #expect(lines == [
            "env.yaml:9:7: error: numpy==1.21.0: no release matching ==1.21.0 has a file installable on Python 3.13 (manylinux_2_36_x86_64); newest that does: 2.3.0rc1",
            "env.yaml:10:7: error: scikit-lern: no project \"scikit-lern\" on \(f.url); did you mean scikit-learn?",
            "env.yaml:13:7: error: cp312-only: no release of cp312-only has a file installable on Python 3.13 (manylinux_2_36_x86_64); no release does",
            "env.yaml:14:7: error: scipy<1: no release of scipy matches <1; newest that does: 1.14.0",
            "4 errors",
        ], "\(lines)")
    }

    @Test func checkIndexPassesAndSkipsThePythonCheckForAnyPython3() async throws {
        let f = try await Fixture()
        defer { Task { await f.stop() } }
        let ok = try writeSpecs(f, python: "3.12", packages: ["numpy>=2", "pure-lib>=2", "cp312-only"])
        let passed = try await f.labsync(["validate", "--check-index", ok])
        #expect(passed.status == 0, "\(passed.stderrText)")
        #expect(passed.stdoutText.contains(": valid"))

        // python "3": no version to check against, only names and specifiers.
        let any = try writeSpecs(f, python: "3", packages: ["cp312-only", "macos-only", "numpy==2.2.0"])
        let result = try await f.labsync(["validate", "--check-index", any])
        #expect(result.status == 1)
        let errors = result.stderrText.split(separator: "\n").filter { $0.contains(": error: ") }
        // 2.2.0 exists but every file of it is yanked.
        #expect(errors == ["env.yaml:11:7: error: numpy==2.2.0: no release of numpy matches ==2.2.0 (newest: 2.3.0rc1)"], "\(errors)")
    }
}

extension PipScenarios {
    /// `plan --check-index` over the real loopback sshd: the Python checked is
    /// the one observed on the host, not the spec's `"3"`.
    @Suite(.integration) struct PackagesPlanCheck {
        @Test func planChecksTheObservedPython() async throws {
            let f = try await PackagesCommandTests.Fixture()
            defer { Task { await f.stop() } }
            let w = try Workspace("packages-plan")
            defer { w.cleanUp() }
            try w.write("env.yaml", """
                apiVersion: labsync/v1
                kind: PythonEnvironment
                metadata: {name: checked}
                spec:
                  host: loopback
                  root: \(w.root)
                  python: "3"
                  index: {url: "\(f.url)"}
                  packages: ["cp312-only", "pure-lib>=1"]

                """)
            // Without a Python to go by, validate checks names and specifiers only.
            let validate = try await LabsyncBinary.runAsync(["validate", "--check-index", w.repo, "--state-dir", w.state])
            #expect(validate.status == 0, "\(validate.stderrText)")

            let result = try await w.labsync("plan", ["--check-index"])
            // The host is this machine: its default python3 is /usr/bin/python3.
            let host = try Spawn.check(["/usr/bin/python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
                .trimmingCharacters(in: .whitespacesAndNewlines)
            if host == "3.12" {
                #expect(result.status == 0 || result.status == 2)
            } else {
                #expect(result.status == 1, "\(result.stdoutText)\n\(result.stderrText)")
                let minor = host
                #expect(result.stderrText.contains(
                    "env.yaml:9:14: error: cp312-only: no release of cp312-only has a file installable on Python \(minor)"),
                    "\(result.stderrText)")
                #expect(!result.stderrText.contains("pure-lib"))
                #expect(result.stdoutText == "")
            }
        }
    }
}
