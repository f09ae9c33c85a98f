// The status page's rendering, without a daemon: every string from a spec, a
// host or git is escaped; revisions link only through the operator's pattern.

import Foundation
import Journal
import LabsyncTestSupport
import Reconciler
import Testing
@testable import Daemon

@Suite(.unit) struct PagesTests {
    static let forged = "x\"><script>alert(1)</script>\n  + remove-env"

    static var status: DaemonStatus {
        var status = DaemonStatus(repo: "repo<b>", ref: "main\u{1b}[31m", intervalSeconds: 300)
        status.lastAppliedRevision = "0123456789abcdef0123456789abcdef01234567"
        status.lastAppliedSubject = forged
        status.lastAttemptError = forged
        status.hosts = [HostStatus(
            name: "lab\"<i>", state: .failed, error: forged, consecutiveFailures: 1, retryDelaySeconds: 2,
            nextRetryAt: Date(), resources: [
                ResourceStatus(resource: "PythonEnvironment/<ml>", state: .drifted, detail: forged,
                               packages: [PackageDifference(package: "num<py>", wanted: "num<py>==1", installed: "2<", note: "changed-package")]),
            ])]
        return status
    }

    @Test func noValueBecomesMarkup() {
        let html = Pages.status(Self.status, runs: [], context: .init(commitURL: "https://git.example/c/{sha}?a=1&b=2"))
        #expect(!html.contains("<script>alert"), "\(html)")
        #expect(!html.contains("<i>") && !html.contains("<b>") && !html.contains("<ml>") && !html.contains("<py>"))
        #expect(!html.contains("\u{1b}") && html.contains(#"main\u{1b}[31m"#), "control characters shown as escapes")
        #expect(!html.contains("\n  + remove-env"), "a newline in a value is shown, not written")
        #expect(html.contains("data-host=\"lab&quot;&lt;i&gt;\""))
        #expect(html.contains("<td class=\"wanted\"><code>num&lt;py&gt;==1</code></td><td class=\"installed\"><code>2&lt;</code></td>"))
        #expect(html.contains("href=\"https://git.example/c/0123456789abcdef0123456789abcdef01234567?a=1&amp;b=2\""), "\(html)")
        // Every script on the page is the page's own: none on the status page.
        #expect(!html.contains("<script"))
    }

    @Test func noLinkWithoutAPattern() {
        let html = Pages.status(Self.status, runs: [], context: .init())
        #expect(!html.contains("class=\"commit\""))
        #expect(html.contains("data-revision=\"0123456789abcdef0123456789abcdef01234567\""))
    }

    @Test func relativeTimes() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(Pages.relative(now.addingTimeInterval(-3), now) == "just now")
        #expect(Pages.relative(now.addingTimeInterval(-42), now) == "42 s ago")
        #expect(Pages.relative(now.addingTimeInterval(-190), now) == "3 min ago")
        #expect(Pages.relative(now.addingTimeInterval(-7300), now) == "2 h ago")
        #expect(Pages.relative(now.addingTimeInterval(-3 * 86400), now) == "3 days ago")
        #expect(Pages.relative(now.addingTimeInterval(120), now) == "in 2 min")
    }
}
