import Foundation
import Journal
import Reconciler

/// The status page and the run page: plain server-rendered HTML that reads fine
/// without JavaScript (the status page refreshes itself; a running run's page
/// does too when scripts are off). With scripts on, a run's log grows live
/// through the Server-Sent Events of `/api/runs/{id}/log`.
enum Pages {
    static func status(_ status: DaemonStatus, runs: [JournalRun]) -> String {
        var body = "<h1>labsync</h1>\n"
        body += "<p class=\"repo\">Repository <code>\(escape(status.repo))</code>\(status.ref.map { " at <code>\(escape($0))</code>" } ?? ""), "
        body += "reconciled every \(escape(seconds(status.intervalSeconds)))."
        if let at = status.lastReconcileAt { body += " Last reconcile \(time(at))." }
        if let at = status.lastSuccessfulReconcileAt { body += " Last in sync \(time(at))." }
        body += "</p>\n"
        if status.suspended {
            body += "<p class=\"banner suspended\" id=\"suspended\">Suspended: hosts are observed, nothing is changed"
                + (status.suspendReason.map { " (\(escape($0)))" } ?? "") + ". <code>labsync resume</code> lifts it.</p>\n"
        }
        body += "<table class=\"revisions\">\n"
        body += "<tr><th>Applied revision</th><td id=\"applied-revision\"><code>\(escape(status.lastAppliedRevision ?? "none yet"))</code></td></tr>\n"
        let differs = status.lastAttemptedRevision != nil && status.lastAttemptedRevision != status.lastAppliedRevision
        body += "<tr><th>Attempted revision</th><td id=\"attempted-revision\" class=\"\(differs ? "failed" : "")\"><code>\(escape(status.lastAttemptedRevision ?? "none yet"))</code></td></tr>\n"
        body += "</table>\n"
        if let error = status.lastAttemptError {
            body += "<div class=\"banner failed\" id=\"attempt-error\"><p>The attempted revision is invalid and was not applied; the applied revision stays in force.</p><pre>\(escape(error))</pre></div>\n"
        }
        if let error = status.fetchError {
            body += "<div class=\"banner failed\" id=\"fetch-error\"><p>Fetching the repository failed:</p><pre>\(escape(error))</pre></div>\n"
        }
        if let run = status.runningRun {
            body += "<p class=\"banner running\">Applying now: <a href=\"/runs/\(run)\">run \(run)</a>.</p>\n"
        }

        body += "<h2>Hosts</h2>\n"
        if status.hosts.isEmpty { body += "<p>No hosts observed yet.</p>\n" }
        for host in status.hosts {
            body += "<section class=\"host\" id=\"host-\(escape(host.name))\" data-host=\"\(escape(host.name))\" data-state=\"\(host.state.rawValue)\">\n"
            body += "<h3>\(escape(host.name)) <span class=\"state \(host.state.rawValue)\">\(host.state == .ok ? "reachable" : host.state.rawValue)</span></h3>\n"
            if let error = host.error {
                body += "<p class=\"failed\">\(escape(error))"
                if let delay = host.retryDelaySeconds, let at = host.nextRetryAt {
                    body += " — \(host.consecutiveFailures) failure\(host.consecutiveFailures == 1 ? "" : "s") in a row; retried \(time(at)) (backoff \(escape(seconds(delay))))"
                }
                body += "</p>\n"
            }
            body += "<table class=\"resources\"><tr><th>Resource</th><th>State</th><th>Detail</th></tr>\n"
            for resource in host.resources {
                body += "<tr class=\"resource\" data-resource=\"\(escape(resource.resource))\" data-state=\"\(resource.state.rawValue)\">"
                body += "<td><code>\(escape(resource.resource))</code></td>"
                body += "<td class=\"state \(resource.state.rawValue)\">\(label(resource.state))</td>"
                body += "<td>\(escape(resource.detail ?? ""))</td></tr>\n"
            }
            body += "</table>\n</section>\n"
        }

        body += "<h2>Last runs</h2>\n"
        body += runsTable(runs)
        return page(title: "labsync status", refresh: 10, body: body)
    }

    static func runsTable(_ runs: [JournalRun]) -> String {
        guard !runs.isEmpty else { return "<p>No runs recorded yet.</p>\n" }
        var html = "<table class=\"runs\"><tr><th>Run</th><th>Kind</th><th>Trigger</th><th>Started</th><th>Result</th><th>Revision</th><th>Hosts</th><th>Summary</th></tr>\n"
        for run in runs {
            html += "<tr class=\"run\" data-run=\"\(run.id)\" data-result=\"\(run.result.rawValue)\">"
            html += "<td><a href=\"/runs/\(run.id)\">\(run.id)</a></td><td>\(run.kind.rawValue)</td><td>\(escape(run.trigger))</td>"
            html += "<td>\(time(run.startedAt))</td><td class=\"state \(run.result.rawValue)\">\(run.result.rawValue)</td>"
            html += "<td><code>\(escape(String((run.revision ?? "-").prefix(12))))</code></td>"
            html += "<td>\(escape(run.hosts.joined(separator: ", ")))</td><td>\(escape(run.summary ?? ""))</td></tr>\n"
        }
        return html + "</table>\n"
    }

    static func run(_ run: JournalRun, steps: [JournalStep], lines: [JournalLine]) -> String {
        let running = run.result == .running
        var body = "<p><a href=\"/\">← status</a></p>\n"
        body += "<h1>Run \(run.id) <span class=\"state \(run.result.rawValue)\" id=\"run-result\">\(run.result.rawValue)</span></h1>\n"
        body += "<p>\(run.kind.rawValue), \(escape(run.trigger)), started \(time(run.startedAt))"
        if let finished = run.finishedAt { body += ", took \(escape(seconds(finished.timeIntervalSince(run.startedAt))))" }
        if let revision = run.revision { body += ", revision <code>\(escape(revision))</code>" }
        body += ".</p>\n"
        if let summary = run.summary { body += "<p id=\"run-summary\">\(escape(summary))</p>\n" }
        if !steps.isEmpty {
            body += "<table class=\"steps\"><tr><th>Host</th><th>Resource</th><th>Action</th><th>Packages</th><th>Status</th><th>Exit</th><th>Took</th></tr>\n"
            for step in steps {
                let took = zip(step.startedAt, step.finishedAt).map { seconds($1.timeIntervalSince($0)) } ?? ""
                body += "<tr class=\"step\" data-status=\"\(step.status.rawValue)\"><td>\(escape(step.host))</td><td><code>\(escape(step.resource))</code></td>"
                body += "<td>\(escape(step.action))</td><td>\(escape(step.packages.joined(separator: ", ")))</td>"
                body += "<td class=\"state \(step.status.rawValue)\">\(step.status.rawValue)</td><td>\(step.exitCode.map(String.init) ?? "")</td><td>\(took)</td></tr>\n"
            }
            body += "</table>\n"
        }
        body += "<h2>Log</h2>\n<pre id=\"log\">"
        for line in lines { body += logLine(line) }
        body += "</pre>\n"
        if running {
            body += "<p id=\"live\">Running: the log grows as lines are written.</p>\n"
            body += """
                <script>
                (function () {
                  var log = document.getElementById('log');
                  var last = \(lines.last?.id ?? 0);
                  var source = new EventSource('/api/runs/\(run.id)/log?after=' + last);
                  source.onmessage = function (event) {
                    var line = JSON.parse(event.data);
                    var span = document.createElement('span');
                    span.className = 'line ' + line.stream;
                    span.dataset.id = line.id;
                    span.textContent = (line.host || 'labsync') + (line.stream === 'output' ? ' │ ' : ': ') + line.text + '\\n';
                    log.appendChild(span);
                  };
                  source.addEventListener('end', function (event) {
                    source.close();
                    document.getElementById('run-result').textContent = event.data;
                    document.getElementById('live').textContent = 'Finished: ' + event.data + '. Reload for the steps.';
                  });
                })();
                </script>

                """
        }
        return page(title: "labsync run \(run.id)", refresh: nil, noscriptRefresh: running ? 3 : nil, body: body)
    }

    static func logLine(_ line: JournalLine) -> String {
        let prefix = (line.host ?? "labsync") + (line.stream == .output ? " │ " : ": ")
        return "<span class=\"line \(line.stream.rawValue)\" data-id=\"\(line.id)\">\(escape(prefix + line.text))\n</span>"
    }

    static func notFound(_ message: String) -> String {
        page(title: "labsync: not found", refresh: nil, body: "<p><a href=\"/\">← status</a></p><p>\(escape(message))</p>")
    }

    static func page(title: String, refresh: Int?, noscriptRefresh: Int? = nil, body: String) -> String {
        var head = "<meta charset=\"utf-8\"><title>\(escape(title))</title>"
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

    static let style = """
        body{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:70rem;padding:0 1rem;color:#222}
        code,pre{font-family:ui-monospace,monospace;font-size:.9em}
        table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{text-align:left;padding:.25rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}
        .state{font-weight:600}.in-sync,.succeeded,.ok,.no-changes{color:#17702b}.drifted,.running,.skipped{color:#9a6700}
        .failed,.invalid,.interrupted{color:#b3261e}.unmanaged,.unknown,.cancelled{color:#666}
        .banner{padding:.5rem .8rem;border-radius:.3rem;background:#f6f6f6}.banner.failed{background:#fdecea}.banner.suspended{background:#fff4d6}
        pre#log{background:#111;color:#eee;padding:.8rem;overflow-x:auto;white-space:pre-wrap}pre#log .labsync{color:#8fd3ff}
        section.host{border:1px solid #ddd;border-radius:.3rem;padding:0 .8rem;margin-bottom:1rem}
        """

    static func label(_ state: ResourceStatus.State) -> String {
        switch state {
        case .inSync: "in sync"
        case .drifted: "drifted"
        case .failed: "failed"
        case .unmanaged: "unmanaged"
        case .unknown: "unknown"
        }
    }

    static func time(_ date: Date) -> String {
        "<time datetime=\"\(date.formatted(.iso8601))\">\(date.formatted(.iso8601))</time>"
    }

    static func seconds(_ value: Double) -> String {
        value < 120 ? String(format: "%.1f s", value) : value < 7200 ? String(format: "%.0f min", value / 60)
            : String(format: "%.1f h", value / 3600)
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}

private func zip<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
