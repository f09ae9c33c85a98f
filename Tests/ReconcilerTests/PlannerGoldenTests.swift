// Golden tests of the pure planner: Fixtures/planner/<case>/{specs/, observed.json,
// options.json?} → plan.txt, plan.md, plan.json. Re-record after an intended change:
//   LABSYNC_RECORD=1 swift test --filter Planner
// and read the diff before committing it.

import Drivers
import Foundation
import LabsyncTestSupport
import Reconciler
import Testing

@Suite(.unit) struct PlannerGoldenTests {
    static let record = ProcessInfo.processInfo.environment["LABSYNC_RECORD"] == "1"

    @Test(arguments: try PlannerCase.all())
    func golden(_ name: String) throws {
        let testCase = try PlannerCase.load(name)
        let plan = testCase.plan()
        for (format, file) in [(PlanFormat.text, "plan.txt"), (.markdown, "plan.md"), (.json, "plan.json")] {
            let url = testCase.directory.appendingPathComponent(file)
            let actual = plan.rendered(as: format)
            if Self.record {
                try actual.write(to: url, atomically: true, encoding: .utf8)
                continue
            }
            let expected = try String(contentsOf: url, encoding: .utf8)
            #expect(actual == expected, "\(name)/\(file) differs; LABSYNC_RECORD=1 re-records it:\n\(actual)")
        }
    }

    @Test func jsonRoundTripsAndKeepsTheDocumentedShape() throws {
        let plan = try PlannerCase.load("fresh-host").plan()
        let json = plan.renderJSON()
        let decoded = try JSONDecoder().decode(Plan.self, from: Data(json.utf8))
        #expect(decoded.hasSameChanges(as: plan))
        #expect(decoded.summary == plan.summary)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["formatVersion", "revision", "steps", "drift", "unmanaged", "errors", "summary"])
        #expect(object["formatVersion"] as? Int == Plan.currentFormatVersion && Plan.currentFormatVersion == 2)
        #expect(object["revision"] is NSNull)
        let step = try #require((object["steps"] as? [[String: Any]])?.first)
        #expect(Set(step.keys) == ["host", "resource", "action", "packages", "reason"])
    }
}
