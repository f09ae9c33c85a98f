// Golden plans of a Kubernetes hub against a manifests directory: the example
// course hub with one admin removed and the culling timeout changed, as
// `labsync plan --manifests DIR` shows it. Fixtures/manifests/<case>/plan.{txt,md,json};
// re-record with LABSYNC_RECORD=1 swift test --filter ManifestPlan.

import Drivers
import Foundation
import LabsyncTestSupport
import Reconciler
import Specs
import Testing

@Suite(.unit) struct ManifestPlanGoldenTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/manifests")

    func example() throws -> SpecSet {
        let result = SpecLoader().load(directory: Self.root.appendingPathComponent("examples/k8s-course"))
        #expect(result.isValid)
        return result.specs
    }

    /// What the directory holds after `apply` of `specs`.
    func directory(_ specs: SpecSet) -> [String: String] {
        Dictionary(uniqueKeysWithValues: DriverRegistry.renderManifests(specs).flatMap(\.files).map { ($0.path, $0.content) })
    }

    func plan(_ specs: SpecSet, against existing: [String: String]?) -> Plan {
        var plan = Plan(revision: nil, work: [])
        let rendered = DriverRegistry.renderManifests(specs)
        plan.addManifests(ManifestSection.plan(rendered, changes: existing.map { DriverRegistry.planManifests(specs, existing: $0) },
                                               directory: existing == nil ? nil : "clusters/courses"))
        return plan
    }

    @Test func oneAdminRemovedAndOneCullingTimeoutChanged() throws {
        var changed = try example()
        changed.kubernetesHubs[0].authentication.admins.removeAll { $0.value == "ta.schulz" }
        changed.kubernetesHubs[0].idleCulling?.timeoutSeconds = 1800
        let plan = plan(changed, against: directory(try example()))
        #expect(!plan.isEmpty && plan.summary.change == 1 && plan.summary.add == 0)
        let dir = Self.fixtures.appendingPathComponent("admin-and-culling")
        for (format, file) in [(PlanFormat.text, "plan.txt"), (.markdown, "plan.md"), (.json, "plan.json")] {
            let actual = plan.rendered(as: format)
            let url = dir.appendingPathComponent(file)
            if ProcessInfo.processInfo.environment["LABSYNC_RECORD"] == "1" {
                try actual.write(to: url, atomically: true, encoding: .utf8)
                continue
            }
            #expect(actual == (try String(contentsOf: url, encoding: .utf8)), "\(file) differs; LABSYNC_RECORD=1 re-records it:\n\(actual)")
        }
        // A saved JSON plan is the same plan (what `apply PLANFILE` compares).
        let decoded = try JSONDecoder().decode(Plan.self, from: Data(plan.renderJSON().utf8))
        #expect(decoded.hasSameChanges(as: plan))
        #expect(!decoded.hasSameChanges(as: self.plan(try example(), against: directory(try example()))))
    }

    @Test func theSameDirectoryIsNoChangeAndNoDirectoryIsNotPlanned() throws {
        let same = plan(try example(), against: directory(try example()))
        #expect(same.isEmpty)
        #expect(same.summaryLine == "No changes. Hosts and manifests match the specs.")
        let unplanned = plan(try example(), against: nil)
        #expect(unplanned.isEmpty)
        #expect(unplanned.renderText().contains("Not planned (pass --manifests DIR): JupyterHub/ml101"))
        #expect(unplanned.renderMarkdown().contains("**Not planned** (pass `--manifests DIR`): JupyterHub/ml101"))
        #expect(unplanned.renderJSON().contains("\"notPlanned\" : [\n      \"JupyterHub/ml101\""))
    }

    @Test func aPlanWithoutKubernetesHubsHasNoManifestSection() {
        let plan = self.plan(SpecSet(), against: [:])
        #expect(plan.manifests == nil && !plan.renderJSON().contains("manifests"))
    }
}
