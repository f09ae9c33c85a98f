// Issue 11 #8: a host that could not be observed is named in the headline of every
// plan format and in apply's closing line; never "No changes. Hosts match the
// specs.", never "0 step(s) remain". Goldens under Fixtures/unobserved/<case>/
// (re-record with LABSYNC_RECORD=1), made from the fan-out planner case with
// some of its hosts unreachable.

import Drivers
import Foundation
import Reconciler
import LabsyncTestSupport
import Testing

@Suite(.unit) struct UnobservedHostTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/unobserved")

    /// fan-out (lab1 in sync, lab2 to create, other without environments) with
    /// `failing` unreachable, planned as `plan` and `apply` do (Reconciliation.plan).
    static func plan(failing: [String]) throws -> Plan {
        let testCase = try PlannerCase.load("fan-out")
        var report = ObservationReport(observations: testCase.observations)
        for host in failing {
            report.observations[host] = nil
            report.failures[host] = "connecting to \(host):22: Connection refused"
        }
        let reconciliation = Reconciliation(specs: testCase.specs, revision: testCase.revision,
                                            connections: HostConnections(transports: [:]), options: RunOptions())
        return reconciliation.plan(report)
    }

    @Test(arguments: [("changes-and-unobserved", ["lab1"]), ("only-unobserved", ["lab2", "other"])])
    func everyFormatSaysSo(_ name: String, _ failing: [String]) throws {
        let plan = try Self.plan(failing: failing)
        #expect(plan.unobservedHostList == failing)
        let directory = Self.fixtures.appendingPathComponent(name)
        for (format, file) in [(PlanFormat.text, "plan.txt"), (.markdown, "plan.md"), (.json, "plan.json")] {
            let actual = plan.rendered(as: format)
            #expect(!actual.contains("No changes. Hosts match the specs."), "\(file): \(actual)")
            for host in failing { #expect(actual.contains(host)) }
            let url = directory.appendingPathComponent(file)
            if PlannerGoldenTests.record {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                try actual.write(to: url, atomically: true, encoding: .utf8)
                continue
            }
            let expected = try String(contentsOf: url, encoding: .utf8)
            #expect(actual == expected, "\(name)/\(file) differs; LABSYNC_RECORD=1 re-records it:\n\(actual)")
        }
    }

    @Test func theHeadlinesNameTheHosts() throws {
        let partly = try Self.plan(failing: ["lab1"])
        #expect(partly.summaryLine == "Plan: 1 to add, 1 to change, 0 to remove; but host lab1 could not be observed: nothing is planned for it.")
        #expect(partly.renderMarkdown().hasPrefix("**Plan: 1 to add, 1 to change, 0 to remove; but host lab1 could not be observed"))
        let none = try Self.plan(failing: ["lab2", "other"])
        #expect(none.isEmpty)
        #expect(none.summaryLine == "No changes for the hosts observed; but 2 hosts could not be observed (lab2, other): nothing is planned for them.")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(none.renderJSON().utf8)) as? [String: Any])
        let summary = try #require(json["summary"] as? [String: Any])
        #expect(summary["unobservedHosts"] as? [String] == ["lab2", "other"])
        // A saved plan keeps it.
        #expect(try JSONDecoder().decode(Plan.self, from: Data(none.renderJSON().utf8)).unobservedHostList == ["lab2", "other"])

        // Every host observed: the JSON summary has no such key (the format is unchanged).
        let all = try Self.plan(failing: [])
        #expect(all.summaryLine == "Plan: 1 to add, 1 to change, 0 to remove.")
        let allJSON = try #require(try JSONSerialization.jsonObject(with: Data(all.renderJSON().utf8)) as? [String: Any])
        #expect(Set((allJSON["summary"] as? [String: Any] ?? [:]).keys) == ["add", "change", "remove"])
    }

    @Test func applysClosingLineNeverSaysZeroStepsRemain() throws {
        func outcome(_ remaining: Plan, failures: [String: String] = [:]) -> ApplyOutcome {
            ApplyOutcome(plan: remaining, results: [], after: ObservationReport(failures: failures), remaining: remaining)
        }
        let unreachable = try Self.plan(failing: ["lab2", "other"])
        let none = outcome(unreachable, failures: ["lab2": "refused", "other": "refused"])
        #expect(!none.converged && none.failed)
        #expect(none.closingLine == "Not converged: 2 hosts could not be observed (lab2, other); run apply again or see the errors above.")
        #expect(none.summary.hasPrefix("not converged: 2 hosts could not be observed (lab2, other); no changes; "))

        let partly = outcome(try Self.plan(failing: ["lab1"]), failures: ["lab1": "refused"])
        #expect(partly.closingLine == "Not converged: 2 step(s) remain, host lab1 could not be observed; run apply again or see the errors above.")

        let stepsOnly = outcome(try Self.plan(failing: []))
        #expect(stepsOnly.closingLine == "Not converged: 2 step(s) remain; run apply again or see the errors above.")
        #expect(stepsOnly.failed && stepsOnly.journalResult == .failed)

        let cannotPlan = outcome(Plan(revision: nil, work: [], errors: [
            PlanError(host: "lab1", resource: "PythonEnvironment/ml", message: "python 3.99 is not available")]))
        #expect(cannotPlan.closingLine == "Not converged: 1 resource cannot be planned; run apply again or see the errors above.")

        let converged = outcome(Plan(revision: nil, work: []))
        #expect(converged.converged && !converged.failed && converged.journalResult == .succeeded)
        #expect(converged.closingLine == "Converged: the hosts match the specs.")
        #expect(converged.summary == "converged: no changes")
    }
}
