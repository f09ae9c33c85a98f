import Drivers

extension Plan {
    /// "2 to add, 1 to change, 0 to remove; 1 error": a run's summary in the journal.
    public var oneLineSummary: String {
        var text = isEmpty ? "no changes" : "\(summary.add) to add, \(summary.change) to change, \(summary.remove) to remove"
        if !errors.isEmpty { text += "; \(errors.count) error\(errors.count == 1 ? "" : "s"): " + errors.map { "\($0.host): \($0.message)" }.joined(separator: "; ") }
        return text
    }
}
