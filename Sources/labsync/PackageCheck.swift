import ArgumentParser
import Drivers
import Foundation
import PackageIndex
import Reconciler
import Specs

/// `validate --check-index` and `plan --check-index`: the errors, sorted, or nothing.
enum PackageCheck {
    static func run(_ specs: SpecSet, stateDirectory: URL) async -> [Diagnostic] {
        await IndexCheck(stateDirectory: stateDirectory).check(specs).sortedForDisplay()
    }

    /// For `plan`: each env is checked against the Python it has (or will
    /// get) on each of its hosts, as observed, on the host's architecture.
    /// Prints the errors; false when there were any.
    static func plan(_ specs: SpecSet, _ report: ObservationReport, stateDirectory: URL) async -> Bool {
        var observed: [String: Set<IndexCheck.ObservedTarget>] = [:]
        for env in specs.environments {
            for host in specs.hosts(for: env) {
                guard let facts = report.observations[host.name] else { continue }
                // Debian 12's glibc; the observation has no glibc version (yet).
                let platform = "manylinux_2_36_\(facts.os.machine ?? "x86_64")"
                if let python = env.observedPython(in: facts) {
                    observed[env.name, default: []].insert(.init(python: python, platform: platform))
                }
            }
        }
        let problems = await IndexCheck(stateDirectory: stateDirectory).check(specs, observed: observed).sortedForDisplay()
        for problem in problems { printError(problem.description) }
        return problems.isEmpty
    }
}
