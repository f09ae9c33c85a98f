import ArgumentParser
import Foundation
import Reconciler

/// `--no-progress`, shared by plan and apply.
struct ProgressOptions: ParsableArguments {
    @Flag(name: .customLong("no-progress"), help: "Plain progress lines instead of one live line, even on a terminal.")
    var noProgress = false

    /// A live line only where a person watches: standard error is a terminal
    /// that can redraw, and they did not ask for plain lines.
    func progress(hosts: Int) -> ProgressLine {
        let term = ProcessInfo.processInfo.environment["TERM"] ?? ""
        let live = !noProgress && isatty(STDERR_FILENO) == 1 && term != "dumb"
        return ProgressLine(hosts: hosts, live: live)
    }
}

/// Where a run across hosts stands, on standard error (standard output keeps
/// the plan and the step lines): one live line redrawn in place, or plain lines
/// that read well in a CI log.
final class ProgressLine: @unchecked Sendable {
    let live: Bool
    private let lock = NSLock()
    private let start = Date()
    private var state: RunProgress
    /// Steps not finished yet, by host (apply).
    private var remaining: [String: Int] = [:]
    private var failedHosts: Set<String> = []
    private var shown = false
    private var finished = false
    private var paused = false
    private var ticker: Task<Void, Never>?

    init(hosts: Int, live: Bool) {
        self.live = live
        state = RunProgress(hosts: hosts)
        if live {
            // The elapsed time moves even while every host is busy.
            ticker = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(500))
                    self?.redraw()
                }
            }
        }
    }

    deinit { ticker?.cancel() }

    private var elapsed: Double { Date().timeIntervalSince(start) }

    func observed(_ host: String, failure: String?) {
        update {
            if failure == nil { $0.observed += 1 } else { $0.unreachable += 1 }
        } plain: { p in
            failure == nil ? "observed \(host) (\(p.observed + p.unreachable)/\(p.hosts))"
                           : "\(host): could not be observed (\(p.observed + p.unreachable)/\(p.hosts))"
        }
    }

    /// Clears the live line until `applying`: the plan and the question are
    /// printed on a clean screen.
    func pause() {
        lock.lock()
        defer { lock.unlock() }
        if live && shown { FileHandle.standardError.write(Data("\r\u{1b}[2K".utf8)) }
        shown = false
        paused = true
    }

    /// Apply begins: the hosts with steps.
    func applying(_ plan: Reconciler.Plan) {
        lock.lock()
        paused = false
        remaining = Dictionary(grouping: plan.steps, by: \.host).mapValues(\.count)
        state.toApply = remaining.count
        lock.unlock()
    }

    func handle(_ event: ApplyEvent) {
        switch event {
        case .stepFinished(let outcome):
            let host = outcome.step.host
            lock.lock()
            if outcome.status != .succeeded { failedHosts.insert(host) }
            remaining[host, default: 1] -= 1
            let done = remaining[host] == 0
            let failed = failedHosts.contains(host)
            lock.unlock()
            guard done else { redraw(); return }
            update { if failed { $0.failed += 1 } else { $0.applied += 1 } } plain: { p in
                "\(failed ? "failed on" : "applied") \(host) (\(p.applied + p.failed)/\(p.toApply))"
            }
        case .hostFailed(let host, _):
            lock.lock()
            let first = failedHosts.insert(host).inserted && remaining[host] != 0
            remaining[host] = 0
            lock.unlock()
            guard first else { return }
            update { $0.failed += 1 } plain: { p in "failed on \(host) (\(p.applied + p.failed)/\(p.toApply))" }
        default:
            redraw()
        }
    }

    /// Writes `line` to standard output without tearing the live line.
    func say(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        if live && shown { FileHandle.standardError.write(Data("\r\u{1b}[2K".utf8)) }
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
        if live { draw() }
    }

    /// Clears the live line, or prints the closing plain line.
    func finish() {
        ticker?.cancel()
        lock.lock()
        defer { lock.unlock() }
        finished = true
        if live {
            if shown { FileHandle.standardError.write(Data("\r\u{1b}[2K".utf8)) }
            shown = false
        } else {
            FileHandle.standardError.write(Data("progress: \(state.line(elapsed: elapsed))\n".utf8))
        }
    }

    private func update(_ change: (inout RunProgress) -> Void, plain: (RunProgress) -> String) {
        lock.lock()
        defer { lock.unlock() }
        change(&state)
        if live { draw() } else {
            FileHandle.standardError.write(Data("progress: \(plain(state)) · \(RunProgress.elapsed(elapsed))\n".utf8))
        }
    }

    private func redraw() {
        guard live else { return }
        lock.lock()
        defer { lock.unlock() }
        draw()
    }

    /// Caller holds the lock.
    private func draw() {
        guard !finished && !paused else { return }
        FileHandle.standardError.write(Data("\r\u{1b}[2K\(state.line(elapsed: elapsed))".utf8))
        shown = true
    }
}
