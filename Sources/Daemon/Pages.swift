import Foundation
import Journal
import Reconciler
import Specs

/// The status page and the run page: server-rendered HTML with everything
/// inline (CSS, SVG, a little JavaScript), because the page must work offline
/// on a university network. It reads fine without JavaScript: the status page
/// refreshes itself, and so does a running run's page when scripts are off.
/// With scripts on, a run's log grows live through the Server-Sent Events of
/// `/api/runs/{id}/log`, and its steps through `/api/runs/{id}`.
///
/// Every string that comes from a spec, a host or git goes through `h` (the
/// shared `TextEscaping.html`: control characters shown as escapes, markup
/// escaped); numbers and the fixed vocabulary are the only things written raw.
enum Pages {
    /// Links revisions when `commitURL` (`…/commit/{sha}`) is given; relative
    /// times are relative to `now`.
    struct Context {
        var commitURL: String?
        var now: Date

        init(commitURL: String? = nil, now: Date = Date()) {
            self.commitURL = commitURL
            self.now = now
        }
    }

    static func h(_ text: some StringProtocol) -> String { TextEscaping.html(text) }

    // MARK: Status page

    static func status(_ status: DaemonStatus, runs: [JournalRun], context: Context = Context()) -> String {
        var body = "<header class=\"top\"><h1>labsync</h1>"
        body += "<p class=\"repo\">Repository <code>\(h(status.repo))</code>\(status.ref.map { " at <code>\(h($0))</code>" } ?? "")"
        body += " · reconciled every \(h(seconds(status.intervalSeconds)))"
        if let at = status.lastReconcileAt { body += " · last reconcile \(time(at, context))" }
        if let at = status.lastSuccessfulReconcileAt { body += " · last in sync \(time(at, context))" }
        body += "</p></header>\n"

        body += banners(status)
        body += "<div class=\"overview\">\n"
        body += revisions(status, context)
        body += stateCounts(status)
        body += "</div>\n"

        let charted = min(runs.count, 50)
        body += "<section class=\"card chart\"><h2>\(charted == 1 ? "Last run" : "Last \(charted) runs")</h2>\n" + historyChart(runs, context) + "</section>\n"

        body += "<h2>Hosts</h2>\n"
        if status.hosts.isEmpty { body += "<p class=\"muted\">No hosts observed yet.</p>\n" }
        body += "<div class=\"hosts\">\n"
        for host in status.hosts { body += hostCard(host, context) }
        body += "</div>\n"

        body += "<h2>Runs</h2>\n"
        body += runsTable(Array(runs.prefix(20)), context)
        return page(title: "labsync status", refresh: 10, body: body)
    }

    static func banners(_ status: DaemonStatus) -> String {
        var html = ""
        if status.suspended {
            html += "<p class=\"banner suspended\" id=\"suspended\">Suspended: hosts are observed, nothing is changed"
                + (status.suspendReason.map { " (\(h($0)))" } ?? "") + ". <code>labsync resume</code> lifts it.</p>\n"
        }
        if let error = status.lastAttemptError {
            html += "<div class=\"banner failed\" id=\"attempt-error\"><p>The attempted revision is invalid and was not applied; the applied revision stays in force.</p><pre>\(h(error))</pre></div>\n"
        }
        if let error = status.fetchError {
            html += "<div class=\"banner failed\" id=\"fetch-error\"><p>Fetching the repository failed:</p><pre>\(h(error))</pre></div>\n"
        }
        if let run = status.runningRun {
            html += "<p class=\"banner running\">Applying now: <a href=\"/runs/\(run)\">run \(run)</a>.</p>\n"
        }
        return html
    }

    static func revisions(_ status: DaemonStatus, _ context: Context) -> String {
        let differs = status.lastAttemptedRevision != nil && status.lastAttemptedRevision != status.lastAppliedRevision
        var html = "<section class=\"card revisions\"><h2>Revisions</h2><dl>\n"
        html += "<dt>Applied</dt><dd id=\"applied-revision\">\(revision(status.lastAppliedRevision, subject: status.lastAppliedSubject, context))</dd>\n"
        html += "<dt>Attempted</dt><dd id=\"attempted-revision\" class=\"\(differs ? "differs" : "")\">"
        html += revision(status.lastAttemptedRevision, subject: status.lastAttemptedSubject, context)
        if differs { html += " <span class=\"badge failed\">\(status.lastAttemptError == nil ? "not applied yet" : "invalid")</span>" }
        html += "</dd>\n</dl></section>\n"
        return html
    }

    /// A short sha (linked through `--commit-url` when given) and the commit's subject.
    static func revision(_ sha: String?, subject: String?, _ context: Context) -> String {
        guard let sha else { return "<span class=\"muted\">none yet</span>" }
        let short = "<code title=\"\(h(sha))\" data-revision=\"\(h(sha))\">\(h(String(sha.prefix(12))))</code>"
        var html = commitURL(sha, context).map { "<a class=\"commit\" href=\"\(h($0))\">\(short)</a>" } ?? short
        if let subject { html += " <span class=\"subject\">\(h(subject))</span>" }
        return html
    }

    /// The pattern with `{sha}` replaced; the sha is percent-encoded, so a
    /// revision can only ever fill the place the operator gave it.
    static func commitURL(_ sha: String, _ context: Context) -> String? {
        guard let pattern = context.commitURL else { return nil }
        let encoded = sha.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        return pattern.replacingOccurrences(of: "{sha}", with: encoded)
    }

    /// How many resources are in each state, over all hosts.
    static func stateCounts(_ status: DaemonStatus) -> String {
        let all = status.hosts.flatMap(\.resources)
        var html = "<section class=\"card counts\"><h2>Resources</h2><ul class=\"counts\">\n"
        for state in ResourceState.allCases {
            let n = all.filter { $0.state == state }.count
            guard n > 0 || state == .inSync else { continue }
            html += "<li class=\"count\" data-state=\"\(state.rawValue)\"><span class=\"n\">\(n)</span> <span class=\"badge \(state.rawValue)\">\(state.words)</span></li>\n"
        }
        return html + "</ul></section>\n"
    }

    static func hostCard(_ host: HostStatus, _ context: Context) -> String {
        let unreachable = host.resources.contains { $0.state == .unreachable } || (host.state == .failed && host.resources.isEmpty)
        let hostState = host.state == .ok ? "reachable" : host.state == .unknown ? "not observed yet" : unreachable ? "unreachable" : "failed"
        let hostClass = host.state == .ok ? "in-sync" : host.state == .unknown ? "unmanaged" : unreachable ? "unreachable" : "failed"
        var html = "<section class=\"card host\" id=\"host-\(h(host.name))\" data-host=\"\(h(host.name))\" data-state=\"\(host.state.rawValue)\">\n"
        html += "<header><h3>\(h(host.name))</h3><span class=\"badge \(hostClass)\">\(hostState)</span></header>\n"
        if let error = host.error {
            html += "<p class=\"error\">\(h(error))"
            if let delay = host.retryDelaySeconds, let at = host.nextRetryAt {
                html += " — \(host.consecutiveFailures) failure\(host.consecutiveFailures == 1 ? "" : "s") in a row; retried \(time(at, context)) (backoff \(h(seconds(delay))))"
            }
            html += "</p>\n"
        }
        if host.resources.isEmpty { html += "<p class=\"muted\">No resources.</p>\n" }
        html += "<ul class=\"resources\">\n"
        for resource in host.resources {
            html += "<li class=\"resource\" data-resource=\"\(h(resource.resource))\" data-state=\"\(resource.state.rawValue)\">"
            html += "<div class=\"row\"><code class=\"name\">\(h(resource.resource))</code>"
            html += "<span class=\"badge state \(resource.state.rawValue)\">\(resource.state.words)</span></div>"
            // An unreachable host's error is said once, above, not once per resource.
            if let detail = resource.detail, !(resource.state == .unreachable && host.error != nil) {
                html += "<p class=\"detail\">\(h(detail))</p>"
            }
            if let packages = resource.packages, !packages.isEmpty { html += packageTable(packages) }
            html += "</li>\n"
        }
        return html + "</ul>\n</section>\n"
    }

    /// Every package that drifted or that a pending step changes: wanted beside installed.
    static func packageTable(_ packages: [PackageDifference]) -> String {
        var html = "<div class=\"scroll\"><table class=\"packages\"><thead><tr><th>Package</th><th>Wanted</th><th>Installed</th><th>Why</th></tr></thead><tbody>\n"
        for p in packages {
            html += "<tr class=\"package\" data-package=\"\(h(p.package))\"><td><code>\(h(p.package))</code></td>"
            html += "<td class=\"wanted\">\(p.wanted.map { "<code>\(h($0))</code>" } ?? "<span class=\"muted\">not declared</span>")</td>"
            html += "<td class=\"installed\">\(p.installed.map { "<code>\(h($0))</code>" } ?? "<span class=\"muted\">missing</span>")</td>"
            html += "<td class=\"note\">\(h(p.note))</td></tr>\n"
        }
        return html + "</tbody></table></div>"
    }

    /// Run durations (bar height) and outcomes (colour), oldest on the left: an
    /// inline SVG, each bar a link to its run with the facts in its tooltip.
    static func historyChart(_ runs: [JournalRun], _ context: Context) -> String {
        let shown = Array(runs.prefix(50).reversed())
        guard !shown.isEmpty else { return "<p class=\"muted\">No runs recorded yet.</p>\n" }
        let durations = shown.map { ($0.finishedAt ?? context.now).timeIntervalSince($0.startedAt) }
        let longest = max(durations.max() ?? 1, 0.001)
        // Always room for 50 bars, the newest on the right: a bar is as wide with
        // 3 runs as with 50, and the chart fills up from the right as runs come.
        let slot = 12.0, height = 60.0
        let width = 50 * slot
        let offset = Double(50 - shown.count) * slot
        var svg = "<svg class=\"history\" id=\"history\" role=\"img\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" preserveAspectRatio=\"none\" aria-label=\"durations and outcomes of the last \(shown.count) runs\">"
        svg += "<line x1=\"0\" y1=\"\(height - 0.5)\" x2=\"\(Int(width))\" y2=\"\(height - 0.5)\" class=\"axis\"/>"
        for (index, run) in shown.enumerated() {
            let barHeight = max(2, (durations[index] / longest) * (height - 4))
            let x = offset + Double(index) * slot + 2
            let tip = "run \(run.id): \(run.result.rawValue), \(seconds(durations[index])), \(relative(run.startedAt, context.now))"
            svg += "<a href=\"/runs/\(run.id)\"><rect class=\"bar \(run.result.rawValue)\" data-run=\"\(run.id)\" x=\"\(x)\" y=\"\(height - barHeight)\" width=\"\(slot - 4)\" height=\"\(barHeight)\"><title>\(h(tip))</title></rect></a>"
        }
        svg += "</svg>"
        var legend = "<p class=\"legend\">Longest \(h(seconds(longest))). "
        for result in Set(shown.map(\.result)).sorted(by: { $0.rawValue < $1.rawValue }) {
            legend += "<span class=\"key \(result.rawValue)\"></span>\(result.rawValue) "
        }
        return svg + legend + "</p>\n"
    }

    static func runsTable(_ runs: [JournalRun], _ context: Context) -> String {
        guard !runs.isEmpty else { return "<p class=\"muted\">No runs recorded yet.</p>\n" }
        var html = "<div class=\"scroll\"><table class=\"runs\"><thead><tr><th>Run</th><th>Result</th><th>Started</th><th>Took</th><th class=\"wide\">Trigger</th><th class=\"wide\">Revision</th><th class=\"wide\">Hosts</th><th>Summary</th></tr></thead><tbody>\n"
        for run in runs {
            let took = run.finishedAt.map { seconds($0.timeIntervalSince(run.startedAt)) } ?? "…"
            html += "<tr class=\"run\" data-run=\"\(run.id)\" data-result=\"\(run.result.rawValue)\">"
            html += "<td><a href=\"/runs/\(run.id)\">\(run.id)</a></td><td><span class=\"badge \(run.result.rawValue)\">\(run.result.rawValue)</span></td>"
            html += "<td>\(time(run.startedAt, context))</td><td>\(h(took))</td><td class=\"wide\">\(h(run.trigger))</td>"
            html += "<td class=\"wide\">\(run.revision.map { revision($0, subject: nil, context) } ?? "-")</td>"
            html += "<td class=\"wide\">\(h(run.hosts.joined(separator: ", ")))</td><td>\(h(run.summary ?? ""))</td></tr>\n"
        }
        return html + "</tbody></table></div>\n"
    }

    // MARK: Run page

    static func run(_ run: JournalRun, steps: [JournalStep], lines: [JournalLine], context: Context = Context()) -> String {
        let running = run.result == .running
        var body = "<p><a href=\"/\">← status</a></p>\n"
        body += "<h1>Run \(run.id) <span class=\"badge \(run.result.rawValue)\" id=\"run-result\">\(run.result.rawValue)</span></h1>\n"
        body += "<p class=\"facts\">\(run.kind.rawValue), \(h(run.trigger)), started \(time(run.startedAt, context))"
        if let finished = run.finishedAt { body += ", took \(h(seconds(finished.timeIntervalSince(run.startedAt))))" }
        if let revision = run.revision { body += ", revision \(self.revision(revision, subject: nil, context))" }
        body += ".</p>\n"
        if let summary = run.summary { body += "<p id=\"run-summary\">\(h(summary))</p>\n" }
        body += "<h2>Steps</h2>\n"
        body += "<div class=\"scroll\"><table class=\"steps\"><thead><tr><th>Host</th><th>Resource</th><th>Action</th><th class=\"wide\">Packages</th><th>Status</th><th>Exit</th><th>Took</th></tr></thead><tbody id=\"steps\">\n"
        let longest = steps.compactMap(duration).max() ?? 0
        for step in steps {
            let took = duration(step)
            let bar = took.map { longest > 0 ? Int(($0 / longest) * 100) : 0 } ?? 0
            body += "<tr class=\"step\" data-status=\"\(step.status.rawValue)\"><td>\(h(step.host))</td><td><code>\(h(step.resource))</code></td>"
            body += "<td>\(h(step.action))</td><td class=\"wide\">\(h(step.packages.joined(separator: ", ")))</td>"
            body += "<td><span class=\"badge \(step.status.rawValue)\">\(step.status.rawValue)</span></td><td>\(step.exitCode.map(String.init) ?? "")</td>"
            body += "<td class=\"took\"><span class=\"dur\" style=\"--w:\(bar)%\"></span>\(took.map { h(seconds($0)) } ?? (step.status == .running ? "…" : ""))</td></tr>\n"
        }
        body += "</tbody></table></div>\n"
        if steps.isEmpty { body += "<p class=\"muted\" id=\"no-steps\">No steps\(running ? " yet" : "").</p>\n" }
        body += "<h2>Log</h2>\n<pre id=\"log\" data-run=\"\(run.id)\" data-after=\"\(lines.last?.id ?? 0)\">"
        for line in lines { body += logLine(line) }
        body += "</pre>\n"
        if running {
            body += "<p id=\"live\">Running: the log and the steps grow as they are written.</p>\n"
            body += liveScript
        }
        return page(title: "labsync run \(run.id)", refresh: nil, noscriptRefresh: running ? 3 : nil, body: body)
    }

    static func duration(_ step: JournalStep) -> Double? {
        guard let start = step.startedAt, let end = step.finishedAt else { return nil }
        return end.timeIntervalSince(start)
    }

    /// The log through SSE; the steps from `/api/runs/{id}` every two seconds.
    /// Values are set with `textContent`, never parsed as HTML.
    /// It reads the run and the last line shown from `#log`'s data attributes.
    static let liveScript = "<script>\n" + String(decoding: PackageResources.run_live_js, as: UTF8.self) + "</script>\n"

    static func logLine(_ line: JournalLine) -> String {
        let prefix = (line.host ?? "labsync") + (line.stream == .output ? " │ " : ": ")
        return "<span class=\"line \(line.stream.rawValue)\" data-id=\"\(line.id)\">\(h(prefix + line.text))\n</span>"
    }

    static func notFound(_ message: String) -> String {
        page(title: "labsync: not found", refresh: nil, body: "<p><a href=\"/\">← status</a></p><p>\(h(message))</p>")
    }

    static func page(title: String, refresh: Int?, noscriptRefresh: Int? = nil, body: String) -> String {
        var head = "<meta charset=\"utf-8\"><title>\(h(title))</title>"
        head += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        if let refresh { head += "<meta http-equiv=\"refresh\" content=\"\(refresh)\">" }
        if let noscriptRefresh { head += "<noscript><meta http-equiv=\"refresh\" content=\"\(noscriptRefresh)\"></noscript>" }
        return """
            <!doctype html>
            <html lang="en"><head>\(head)<style>\(style)</style></head>
            <body>
            \(body)
            </body></html>

            """
    }

    /// Inlined into every page: the page must work offline, with no external asset.
    static let style = String(decoding: PackageResources.pages_css, as: UTF8.self)

    // MARK: Times

    /// "3 min ago", with the absolute time (UTC) on hover and in `datetime`.
    static func time(_ date: Date, _ context: Context) -> String {
        let iso = date.formatted(.iso8601)
        return "<time datetime=\"\(iso)\" title=\"\(iso)\">\(relative(date, context.now))</time>"
    }

    static func relative(_ date: Date, _ now: Date) -> String {
        let delta = now.timeIntervalSince(date)
        let span = abs(delta)
        let amount: String = switch span {
        case ..<10: "now"
        case ..<60: "\(Int(span)) s"
        case ..<3600: "\(Int(span / 60)) min"
        case ..<172_800: "\(Int(span / 3600)) h"
        default: "\(Int(span / 86400)) days"
        }
        if amount == "now" { return delta >= 0 ? "just now" : "in a moment" }
        return delta >= 0 ? "\(amount) ago" : "in \(amount)"
    }

    static func seconds(_ value: Double) -> String {
        value < 120 ? String(format: "%.1f s", value) : value < 7200 ? String(format: "%.0f min", value / 60)
            : String(format: "%.1f h", value / 3600)
    }
}
