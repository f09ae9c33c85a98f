// Where a run across many hosts stands: counted here (pure), drawn by the CLI
// as one live line on a terminal or as plain lines in a log (issue 14).

public struct RunProgress: Sendable, Hashable {
    public var hosts: Int
    public var observed = 0
    /// Hosts that could not be observed.
    public var unreachable = 0
    /// Hosts with steps to apply, and how many of them are done.
    public var toApply = 0
    public var applied = 0
    public var failed = 0

    public init(hosts: Int) { self.hosts = hosts }

    /// "3/5 hosts observed, 1 unreachable · 2/3 applied, 1 failed · 12 s".
    public func line(elapsed: Double) -> String {
        var observing = "\(observed + unreachable)/\(hosts) host\(hosts == 1 ? "" : "s") observed"
        if unreachable > 0 { observing += ", \(unreachable) unreachable" }
        var parts = [observing]
        if toApply > 0 {
            parts.append("\(applied)/\(toApply) applied" + (failed > 0 ? ", \(failed) failed" : ""))
        }
        parts.append(Self.elapsed(elapsed))
        return parts.joined(separator: " · ")
    }

    /// "0.4 s", "12 s", "3 min 05 s".
    public static func elapsed(_ seconds: Double) -> String {
        if seconds < 10 { return String(format: "%.1f s", seconds) }
        if seconds < 60 { return "\(Int(seconds)) s" }
        let whole = Int(seconds)
        return "\(whole / 60) min " + String(format: "%02d s", whole % 60)
    }
}
