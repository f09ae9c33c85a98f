import Foundation
import LabsyncTestSupport
import Testing

private let root = LabsyncBinary.packageRoot

private struct Case: Decodable, Sendable, CustomStringConvertible {
    var `case`: String, file: String, line: Int, column: Int, message: String
    var description: String { self.case }
    static let all: [Case] = {
        let data = try! Data(contentsOf: root.appendingPathComponent("Tests/Fixtures/invalid/cases.json"))
        return try! JSONDecoder().decode([Case].self, from: data)
    }()
}

/// `labsync validate` as a user runs it: the built binary, its output and exit code.
@Suite(.integration) struct ValidateCommandTests {
    @Test(arguments: ["quickstart", "course-hub", "gitlab-oauth", "fleet", "datascience", "k8s-course"])
    func examplesAreValid(_ example: String) async throws {
        let result = try await LabsyncBinary.runAsync(["validate", root.appendingPathComponent("examples/\(example)").path])
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stdoutText.contains(": valid"))
        #expect(result.stderrText == "")
        if example == "datascience" {
            #expect(result.stdoutText.hasPrefix("1 host, 1 environment, 1 R environment, 1 hub: valid"), "\(result.stdoutText)")
        }
    }

    @Test(arguments: Case.all)
    fileprivate func brokenSpecsExitOneWithOneLinePerProblem(_ c: Case) async throws {
        let result = try await LabsyncBinary.runAsync(["validate", root.appendingPathComponent("Tests/Fixtures/invalid/\(c.case)").path])
        #expect(result.status == 1)
        let lines = result.stderrText.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(lines)")  // the error and the count
        #expect(lines.first?.hasPrefix("\(c.file):\(c.line):\(c.column): error: ") == true, "\(lines)")
        #expect(lines.last?.hasPrefix("1 error") == true)
        #expect(result.stdoutText == "")
    }

    @Test func allErrorsOfARepositoryAreListedSorted() async throws {
        let dir = try GitFixture.makeTemporaryDirectory(prefix: "validate")
        defer { GitFixture.removeTree(dir) }
        // Several corpus cases side by side: their problems, plus the duplicate
        // names they now share, all in one run.
        for name in ["unknown-field", "wrong-type", "bad-user-name"] {
            try FileManager.default.copyItem(
                at: root.appendingPathComponent("Tests/Fixtures/invalid/\(name)"),
                to: dir.appendingPathComponent(name))
        }
        let result = try await LabsyncBinary.runAsync(["validate", dir.path])
        #expect(result.status == 1)
        let errors = result.stderrText.split(separator: "\n").filter { $0.contains(": error: ") }
        #expect(errors.count >= 3)
        #expect(errors.contains { $0.hasPrefix("unknown-field/specs.yaml:9:3: error: unknown field") })
        #expect(errors.contains { $0.hasPrefix("wrong-type/specs.yaml:8:9: error:") })
        #expect(errors.contains { $0.hasPrefix("bad-user-name/specs.yaml:8:9: error:") })
        #expect(errors.map { String($0.prefix { $0 != ":" }) } == errors.map { String($0.prefix { $0 != ":" }) }.sorted())
    }

    @Test func gitRepositoryAtBranchTagAndCommit() async throws {
        let dir = try GitFixture.makeTemporaryDirectory(prefix: "validate-git")
        defer { GitFixture.removeTree(dir) }
        let examples = root.appendingPathComponent("examples/quickstart")
        var files: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: examples.path) {
            files[name] = try String(contentsOf: examples.appendingPathComponent(name), encoding: .utf8)
        }
        let repo = try GitFixture.create(in: dir, files: files)
        let good = try repo.headSHA()
        try repo.createTag("v1")
        try repo.createBranch("broken")
        try repo.checkout("broken")
        let bad = try repo.commit(files: ["oops.yaml": "apiVersion: labsync/v1\nkind: Host\nmetadata: {name: x}\nspec: {address: a, user: Bob}\n"], message: "bad")
        let state = dir.appendingPathComponent("state").path

        for ref in ["main", "v1", good, String(good.prefix(10))] {
            let result = try await LabsyncBinary.runAsync(["validate", "--repo", repo.fileURL, "--ref", ref, "--state-dir", state])
            #expect(result.status == 0, "\(ref): \(result.stderrText)")
            #expect(result.stdoutText.contains("valid at \(good.prefix(12))"), "\(result.stdoutText)")
        }
        let broken = try await LabsyncBinary.runAsync(["validate", "--repo", repo.path, "--ref", "broken", "--state-dir", state])
        #expect(broken.status == 1)
        #expect(broken.stderrText.contains("oops.yaml:4:26: error: spec.user: 'Bob'"), "\(broken.stderrText)")
        #expect(broken.stderrText.contains("at \(bad.prefix(12))"))
        let missing = try await LabsyncBinary.runAsync(["validate", "--repo", repo.fileURL, "--ref", "nope", "--state-dir", state])
        #expect(missing.status == 1)
        #expect(missing.stderrText.contains("nope"))
    }
}
