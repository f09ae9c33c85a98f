import LabsyncTestSupport
import Testing
@testable import Reconciler

/// The live progress line's words (issue 14).
@Suite(.unit) struct RunProgressTests {
    @Test func observingThenApplying() {
        var progress = RunProgress(hosts: 5)
        #expect(progress.line(elapsed: 0.42) == "0/5 hosts observed · 0.4 s")
        progress.observed = 3
        progress.unreachable = 1
        #expect(progress.line(elapsed: 12.9) == "4/5 hosts observed, 1 unreachable · 12 s")
        progress.toApply = 3
        progress.applied = 1
        progress.failed = 1
        #expect(progress.line(elapsed: 185) == "4/5 hosts observed, 1 unreachable · 1/3 applied, 1 failed · 3 min 05 s")
        #expect(RunProgress(hosts: 1).line(elapsed: 0) == "0/1 host observed · 0.0 s")
    }
}
