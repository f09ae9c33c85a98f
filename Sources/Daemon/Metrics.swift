import Foundation
import Prometheus
import Reconciler

/// The daemon's Prometheus metrics, all prefixed `labsync_`. The registry is the
/// daemon's own (not the process-wide MetricsSystem), so several daemons can live
/// in one process (tests) and `/metrics` shows exactly these.
public final class DaemonMetrics: @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let lock = NSLock()
    private var revisionInfo: Gauge?
    private var attemptedInfo: Gauge?

    let driftedResources: Gauge
    let failedResources: Gauge
    let lastSuccessfulReconcile: Gauge
    let lastReconcile: Gauge
    let suspended: Gauge
    let reconcileDuration: DurationHistogram

    static let durationBuckets: [Duration] = [.milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(15),
                                               .seconds(60), .seconds(300), .seconds(900), .seconds(3600)]

    public init() {
        driftedResources = registry.makeGauge(name: "labsync_drifted_resources",
                                              help: "Resources whose host differs from the spec at the last observation.")
        failedResources = registry.makeGauge(name: "labsync_failed_resources",
                                             help: "Resources whose last step failed or whose host is unreachable.")
        lastSuccessfulReconcile = registry.makeGauge(
            name: "labsync_last_successful_reconcile_timestamp_seconds",
            help: "When a reconcile last ended with every host matching the specs (Unix time).")
        lastReconcile = registry.makeGauge(name: "labsync_last_reconcile_timestamp_seconds",
                                           help: "When the last reconcile ended (Unix time).")
        suspended = registry.makeGauge(name: "labsync_suspended", help: "1 while changes are suspended.")
        reconcileDuration = registry.makeDurationHistogram(
            name: "labsync_reconcile_duration_seconds", buckets: Self.durationBuckets,
            help: "Time of one reconcile: fetch, validate, observe, plan, apply.")
        // Present from the start, so a dashboard sees 0 rather than nothing.
        for result in ["succeeded", "failed", "no-changes", "invalid", "interrupted"] { _ = runs(result) }
    }

    func runs(_ result: String) -> Counter {
        registry.makeCounter(name: "labsync_runs_total", labels: [("result", result)],
                             help: "Daemon runs by result.")
    }

    func steps(action: String, result: String) -> Counter {
        registry.makeCounter(name: "labsync_steps_total", labels: [("action", action), ("result", result)],
                             help: "Applied steps by action and result.")
    }

    func stepDuration(action: String) -> DurationHistogram {
        registry.makeDurationHistogram(name: "labsync_step_duration_seconds", labels: [("action", action)],
                                       buckets: Self.durationBuckets, help: "Time of one applied step.")
    }

    func hostFailures(_ host: String) -> Gauge {
        registry.makeGauge(name: "labsync_host_consecutive_failures", labels: [("host", host)],
                           help: "Failed attempts at a host since its last success (it is retried with backoff).")
    }

    /// `labsync_last_applied_revision_info{revision="…"} 1`: the one series names
    /// the revision in force (the old one is dropped).
    func setAppliedRevision(_ revision: String?) {
        lock.lock()
        defer { lock.unlock() }
        if let old = revisionInfo { registry.unregisterGauge(old) }
        revisionInfo = revision.map {
            let gauge = registry.makeGauge(name: "labsync_last_applied_revision_info", labels: [("revision", $0)],
                                           help: "The revision whose specs are in force.")
            gauge.set(1.0)
            return gauge
        }
    }

    func setAttemptedRevision(_ revision: String?, valid: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if let old = attemptedInfo { registry.unregisterGauge(old) }
        attemptedInfo = revision.map {
            let gauge = registry.makeGauge(name: "labsync_last_attempted_revision_info",
                                           labels: [("revision", $0), ("valid", valid ? "true" : "false")],
                                           help: "The newest revision fetched and tried.")
            gauge.set(1.0)
            return gauge
        }
    }

    public func exposition() -> String { registry.emitToString() }
}
