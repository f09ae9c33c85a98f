import Drivers
import Foundation
import LabsyncTestSupport
import Remote
import Testing
@testable import Reconciler

/// Issue 11 #14: one vocabulary, derived from the plan value, for `status`,
/// `plan`, `/api/status` and the status page.
@Suite(.unit) struct ResourceStateTests {
    /// lab: `ok` in sync, `bump` with a pending install, `hand` drifted (and
    /// repaired by a pending install), `broken` unplannable, `/opt/envs/old`
    /// orphaned, `/opt/envs/byhand` unmarked; far: not observed.
    static let plan: Plan = {
        var plan = Plan(
            revision: nil,
            work: [
                PlannedStep(host: "lab", resource: "PythonEnvironment/bump", action: .install, packages: ["alpha==2.0"],
                            reason: "spec changed", commands: []),
                PlannedStep(host: "lab", resource: "PythonEnvironment/hand", action: .install, packages: ["gamma==1.0"],
                            reason: "missing", commands: []),
                PlannedStep(host: "lab", resource: "PythonEnvironment/hand", action: .uninstall, packages: ["Zeta_Pkg"],
                            reason: "removed from the spec", commands: []),
            ],
            drift: [DriftItem(host: "lab", resource: "PythonEnvironment/hand", kind: .changedPackage, package: "gamma",
                              detail: "gamma is 0.9 but labsync installed gamma==1.0; changed by hand",
                              wanted: "gamma==1.0", installed: "0.9")],
            unmanaged: [
                UnmanagedItem(host: "lab", path: "/opt/envs/old", kind: .orphaned, spec: "old", summary: "python 3.11",
                              detail: "spec 'old' is gone; --prune removes it"),
                UnmanagedItem(host: "lab", path: "/opt/envs/byhand", kind: .unmarked, spec: nil, summary: "python 3.11",
                              detail: "no labsync marker"),
            ],
            errors: [PlanError(host: "lab", resource: "PythonEnvironment/broken", message: "python 3.99 is not available")])
        plan.summary.unobservedHosts = ["far"]
        return plan
    }()

    static let declared = [
        "lab": ["PythonEnvironment/ok", "PythonEnvironment/bump", "PythonEnvironment/hand", "PythonEnvironment/broken"],
        "far": ["PythonEnvironment/remote"],
    ]

    @Test func everyResourceGetsOneWordFromThePlan() {
        let states = Self.plan.resourceStates(declared: Self.declared).map { "\($0.host) \($0.resource) \($0.state.words)" }
        #expect(states == [
            "far PythonEnvironment/remote unreachable",
            "lab PythonEnvironment/broken failed",
            "lab PythonEnvironment/bump changes pending",
            "lab PythonEnvironment/hand drifted",
            "lab PythonEnvironment/ok in sync",
            "lab /opt/envs/byhand unmanaged",
            "lab /opt/envs/old orphaned",
        ])
    }

    /// Asked for one host, only that host's resources: lab's orphan must not
    /// show on far's card.
    @Test func oneHostAtATime() {
        let far = Self.plan.resourceStates(declared: ["far": ["PythonEnvironment/remote"]])
        #expect(far.map(\.resource) == ["PythonEnvironment/remote"])
        #expect(Self.plan.resourceStates(declared: ["lab": []]).map(\.resource) == ["/opt/envs/byhand", "/opt/envs/old"])
    }

    /// What `status` lists by path: an env whose spec is gone reads "orphaned"
    /// although its marker names a resource (it read "in sync" before).
    @Test func anOrphanListedByPathReadsOrphaned() {
        let orphan = Self.plan.state(atPath: "/opt/envs/old", on: "lab", resource: "PythonEnvironment/old")
        #expect(orphan.state == .orphaned)
        #expect(orphan.detail?.contains("--prune") == true)
        #expect(Self.plan.state(atPath: "/opt/envs/ok", on: "lab", resource: "PythonEnvironment/ok").state == .inSync)
        #expect(Self.plan.state(atPath: "/opt/envs/byhand", on: "lab", resource: nil).state == .unmanaged)
        #expect(Self.plan.state(atPath: "/opt/envs/remote", on: "far", resource: "PythonEnvironment/remote").state == .unreachable)
    }

    /// Drift carries its own versions; pending steps take the installed ones from
    /// the host, matched however the name is spelt.
    @Test func packageDifferencesShowWantedBesideInstalled() {
        let hand = Self.plan.packageDifferences(host: "lab", resource: "PythonEnvironment/hand",
                                                installed: ["gamma": "0.9", "zeta-pkg": "3.1"])
        #expect(hand == [
            PackageDifference(package: "gamma", wanted: "gamma==1.0", installed: "0.9", note: "changed-package"),
            PackageDifference(package: "Zeta_Pkg", wanted: nil, installed: "3.1", note: "uninstall"),
        ])
        let bump = Self.plan.packageDifferences(host: "lab", resource: "PythonEnvironment/bump", installed: ["Alpha": "1.0"])
        #expect(bump == [PackageDifference(package: "alpha", wanted: "alpha==2.0", installed: "1.0", note: "install")])
        #expect(Self.plan.packageDifferences(host: "lab", resource: "PythonEnvironment/ok", installed: [:]).isEmpty)
    }

    @Test func theJSONFormIsTheRawValue() throws {
        let data = try JSONEncoder().encode(ResourceStateEntry(host: "h", resource: "r", state: .changesPending))
        #expect(String(decoding: data, as: UTF8.self).contains("\"state\":\"changes-pending\""))
        #expect(Set(ResourceState.allCases.map(\.words)).count == ResourceState.allCases.count)
    }
}
