import Foundation
import LabsyncTestSupport
import Testing
@testable import Specs

/// The repository's fixture and example directories, found from this file.
enum RepoPaths {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let invalid = root.appendingPathComponent("Tests/Fixtures/invalid")
    static let valid = root.appendingPathComponent("Tests/Fixtures/valid")
    static let examples = root.appendingPathComponent("examples")
}

struct CorpusCase: Decodable, Sendable, CustomStringConvertible {
    var `case`: String
    var schema: Bool
    var file: String
    var line: Int
    var column: Int
    var message: String
    var description: String { self.case }

    static func all() throws -> [CorpusCase] {
        let data = try Data(contentsOf: RepoPaths.invalid.appendingPathComponent("cases.json"))
        return try JSONDecoder().decode([CorpusCase].self, from: data)
    }
}

/// Each case of `Tests/Fixtures/invalid` has exactly one thing wrong; labsync
/// must report exactly that one error, at the recorded position. The same
/// corpus is checked against the JSON Schemas by scripts/check-schemas.py.
@Suite(.unit) struct CorpusTests {
    @Test(arguments: try CorpusCase.all())
    func invalidCaseIsRejectedAtItsPosition(_ c: CorpusCase) {
        let result = SpecLoader().load(directory: RepoPaths.invalid.appendingPathComponent(c.case))
        let errors = result.diagnostics.filter { $0.severity == .error }
        #expect(errors.count == 1, "\(errors.map(\.description))")
        let expected = "\(c.file):\(c.line):\(c.column)"
        #expect(errors.contains { $0.location.description == expected && $0.message.contains(c.message) },
                "expected an error at \(expected) containing '\(c.message)', got \(errors.map(\.description))")
    }

    @Test(arguments: ["quickstart", "course-hub", "gitlab-oauth", "fleet", "datascience"])
    func exampleIsValid(_ name: String) {
        let result = SpecLoader().load(directory: RepoPaths.examples.appendingPathComponent(name))
        #expect(result.diagnostics.map(\.description) == [])
        #expect(!result.specs.hosts.isEmpty)
    }

    @Test func yaml11WordsStayStrings() throws {
        let result = SpecLoader().load(directory: RepoPaths.valid.appendingPathComponent("yaml11-strings"))
        #expect(result.diagnostics.map(\.description) == [])
        #expect(result.specs.hosts.map(\.user).contains("no"))
        #expect(result.specs.environments.map(\.python).contains(.minor(10)))
        #expect(result.specs.hubs.flatMap(\.users).map(\.name.value).contains("on"))
    }
}

@Suite(.unit) struct REnvironmentCorpusTests {
    @Test func everyFieldAndOperatorLoads() throws {
        let result = SpecLoader().load(directory: RepoPaths.valid.appendingPathComponent("r-environment"))
        #expect(result.diagnostics.map(\.description) == [])
        let stats = try #require(result.specs.rEnvironments.first { $0.name == "stats" })
        #expect(stats.path == "/srv/r-libs/stats" && stats.unmanaged == .keep)
        #expect(Set(stats.packages.compactMap(\.value.constraint?.op)) == Set(RRequirement.Operator.allCases))
        #expect(result.specs.rEnvironments.first { $0.name == "old-course" }?.state == .absent)
    }
}
