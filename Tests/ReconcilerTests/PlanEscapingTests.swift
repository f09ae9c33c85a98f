import Drivers
import Remote
import Foundation
import LabsyncTestSupport
import Testing
@testable import Reconciler

/// Issue 11 #3: strings from a spec or a host cannot forge plan lines.
@Suite(.unit) struct PlanEscapingTests {
    static let forged = "ok\n  + remove-env PythonEnvironment/victim"

    /// Every spec- or host-provided field holds the forgery.
    static let plan = Plan(
        revision: "abc`</details>",
        work: [PlannedStep(host: "lab", resource: "PythonEnvironment/ml", action: .registerKernel,
                           packages: ["numpy|x`y"], reason: "kernel display name \(forged)",
                           commands: [RemoteCommand("/bin/sh", ["-c", "echo '```\n</details>'"])])],
        drift: [DriftItem(host: "lab", resource: "PythonEnvironment/ml", kind: .changedPackage, package: "numpy\n  + x",
                          detail: forged)],
        unmanaged: [UnmanagedItem(host: "lab", path: "/opt/x\n  + remove-env PythonEnvironment/victim", kind: .unmarked,
                                  spec: nil, summary: "python 3.11\n</details>, 1 distribution", detail: forged)],
        errors: [PlanError(host: "lab", resource: "PythonEnvironment/ml", message: "</details>\n" + forged)])

    @Test func textPlanHasNoForgedStepLine() {
        let text = Self.plan.renderText()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(!lines.contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("+ remove-env") }, "\(text)")
        #expect(lines.filter { $0.hasPrefix("  + ") || $0.hasPrefix("  ~ ") || $0.hasPrefix("  - ") }.count == 1, "\(text)")
        #expect(text.contains(#"kernel display name ok\n  + remove-env PythonEnvironment/victim"#), "\(text)")
    }

    @Test func markdownPlanHasNoForgedStepAndOneDetailsBlock() {
        let markdown = Self.plan.renderMarkdown()
        let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(!lines.contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("+ remove-env") }, "\(markdown)")
        #expect(!lines.contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("+ x") }, "\(markdown)")
        // Exactly the renderer's own <details> open and close; no value closes it.
        #expect(markdown.ranges(of: "<details>").count == 1, "\(markdown)")
        #expect(lines.filter { $0 == "</details>" }.count == 1, "\(markdown)")
        // The shell command holding ``` is inside a longer fence.
        #expect(lines.contains("  ````sh"), "\(markdown)")
        #expect(lines.filter { $0.hasPrefix("  ```") && !$0.hasPrefix("  ````") }.isEmpty, "\(markdown)")
        // The revision and package cannot leave their code spans / table cells.
        #expect(markdown.contains("Revision ``abc`</details>``."), "\(markdown)")
        #expect(markdown.contains(#"``numpy\|x`y``"#), "\(markdown)")
    }

    @Test func jsonKeepsTheValuesExactlyAndEscaped() throws {
        let json = Self.plan.renderJSON()
        #expect(!json.contains("\n  + remove-env"))
        let decoded = try JSONDecoder().decode(Plan.self, from: Data(json.utf8))
        #expect(decoded.steps.first?.reason == "kernel display name \(Self.forged)")
    }
}
