// Test tiers: every suite (or test) says which tier it belongs to with one trait,
//
//     @Suite(.unit) struct PlannerGoldenTests { … }
//     @Suite(.serialized, .integration) struct SSHCommandTests { … }
//
// - unit: pure — no sshd, no network, no python3, no process started at all;
// - integration: real sshd, git, venvs, python3, openssl, the labsync binary;
// - endToEnd: the real JupyterHub.
//
// `LABSYNC_TEST_TIERS` (a comma-separated list: unit, integration, e2e) selects
// which tiers run; unset or empty runs all of them, so a plain `swift test` is
// unchanged. Why an environment variable and not Swift Testing's tags: `swift
// test` 6.3 cannot select tags (`--filter tag:…` is read as a regular expression
// over test names), and suite names say nothing about tiers. A test of a tier
// that is not selected is reported as skipped, with the reason.

import Foundation
import Testing

public enum TestTier: String, CaseIterable, Sendable {
    case unit
    case integration
    case endToEnd = "e2e"

    /// The tiers `LABSYNC_TEST_TIERS` selects. A misspelt tier is an error (every
    /// test of every tier fails with it), never a silently empty run.
    public static func selected() throws -> Set<TestTier> {
        let value = ProcessInfo.processInfo.environment["LABSYNC_TEST_TIERS"] ?? ""
        let words = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if words.isEmpty { return Set(allCases) }
        return Set(try words.map { word in
            guard let tier = TestTier(rawValue: word) else {
                throw SpawnError("LABSYNC_TEST_TIERS: unknown tier \"\(word)\" (known: unit, integration, e2e)")
            }
            return tier
        })
    }

    /// True when only the unit tier runs: then nothing may start a process
    /// (`Spawn` refuses), so a unit test that needs one fails and gets retagged.
    public static var onlyUnitSelected: Bool { (try? selected()) == [.unit] }
}

extension Trait where Self == ConditionTrait {
    /// Pure: no sshd, no network, no python3, no processes.
    public static var unit: Self { tier(.unit) }
    /// Real sshd, git, venvs, python3 or any other process.
    public static var integration: Self { tier(.integration) }
    /// The real JupyterHub, end to end.
    public static var endToEnd: Self { tier(.endToEnd) }

    private static func tier(_ tier: TestTier) -> Self {
        .enabled("in the \(tier.rawValue) tier, which LABSYNC_TEST_TIERS does not select") {
            try TestTier.selected().contains(tier)
        }
    }
}
