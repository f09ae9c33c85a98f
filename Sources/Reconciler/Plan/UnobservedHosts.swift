// A host that could not be observed has nothing planned for it, so "no changes"
// would be a lie about it (issue 11 #8). `Reconciliation.plan` records such hosts
// in `summary.unobservedHosts`; the headline of every format says so.

extension Plan {
    /// Hosts that could not be observed (nothing is planned for them), sorted.
    public var unobservedHostList: [String] { summary.unobservedHosts ?? [] }

    /// The headline when some host could not be observed: never "No changes.
    /// Hosts match the specs."
    func unobservedSummaryLine(_ hosts: [String]) -> String {
        let them = hosts.count == 1 ? "it" : "them"
        let counts = isEmpty ? "No changes for the hosts observed"
                             : "Plan: \(summary.add) to add, \(summary.change) to change, \(summary.remove) to remove"
        return "\(counts); but \(Plan.unobservedNote(hosts)): nothing is planned for \(them)."
    }

    /// "host far could not be observed" / "2 hosts could not be observed (a, b)".
    static func unobservedNote(_ hosts: [String]) -> String {
        hosts.count == 1 ? "host \(hosts[0]) could not be observed"
                         : "\(hosts.count) hosts could not be observed (\(hosts.joined(separator: ", ")))"
    }
}
