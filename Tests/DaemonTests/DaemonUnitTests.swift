// The daemon's pure parts: the webhook signature (checked against openssl),
// durations, backoff, and what the journal keeps out (secrets).

import Foundation
import Journal
import LabsyncTestSupport
import Reconciler
import Testing
@testable import Daemon

@Suite struct WebhookTests {
    @Test(.integration) func hmacMatchesOpenSSL() throws {
        for (key, message) in [("secret", ""), ("k", "hello world"), (String(repeating: "long key ", count: 20), String(repeating: "x", count: 1000))] {
            let out = try Spawn.check(["openssl", "dgst", "-sha256", "-hmac", key, "-r"], stdin: Array(message.utf8))
            let expected = String(out.split(separator: " ").first ?? "")
            let mac = HMACSHA256.mac(key: Array(key.utf8), message: Array(message.utf8))
            #expect(mac.map { String(format: "%02x", $0) }.joined() == expected)
        }
    }

    @Test(.unit) func verifierAcceptsOnlyTheSecret() {
        let verifier = WebhookVerifier(secret: "s3cret")
        let body = Array(#"{"ref":"refs/heads/main"}"#.utf8)
        let good = "sha256=" + HMACSHA256.mac(key: Array("s3cret".utf8), message: body).map { String(format: "%02x", $0) }.joined()
        #expect(verifier.verify(body: body) { $0 == "X-Hub-Signature-256" ? good : nil } == .accepted(provider: "github"))
        #expect(verifier.verify(body: body + [0x20]) { $0 == "X-Hub-Signature-256" ? good : nil } == .badSignature)
        #expect(verifier.verify(body: body) { $0 == "X-Gitlab-Token" ? "s3cret" : nil } == .accepted(provider: "gitlab"))
        #expect(verifier.verify(body: body) { $0 == "X-Gitlab-Token" ? "s3cre" : nil } == .badSignature)
        #expect(verifier.verify(body: body) { _ in nil } == .missingSignature)
        #expect(WebhookVerifier(secret: nil).verify(body: body) { _ in good } == .disabled)
    }
}

@Suite(.unit) struct DaemonPartsTests {
    @Test func durations() {
        #expect(parseDuration("5m") == .seconds(300))
        #expect(parseDuration("1h30m") == .seconds(5400))
        #expect(parseDuration("2s") == .seconds(2))
        #expect(parseDuration("250ms") == .milliseconds(250))
        #expect(parseDuration("1.5") == .milliseconds(1500))
        #expect(parseDuration("5x") == nil)
        #expect(parseDuration("m") == nil)
        #expect(parseDuration("") == nil)
    }

    @Test func backoffDoublesUpToItsCeilingAndResets() {
        var backoff = HostBackoff()
        let now = Date()
        var delays: [Double] = []
        for _ in 0..<6 {
            backoff.failed(at: now, base: 1, max: 10)
            delays.append(backoff.delay)
        }
        #expect(delays == [1, 2, 4, 8, 10, 10])
        #expect(backoff.isWaiting(at: now.addingTimeInterval(9)))
        #expect(!backoff.isWaiting(at: now.addingTimeInterval(10)))
        backoff.succeeded()
        #expect(backoff == HostBackoff())
    }
}

@Suite(.unit) struct JournalTests {
    @Test func storesRunsStepsAndLinesWithoutSecrets() throws {
        let directory = URL(fileURLWithPath: try Spawn.makeTempDirectory(prefix: "journal"))
        defer { try? FileManager.default.removeItem(at: directory) }
        let journal = try Journal(stateDirectory: directory, secrets: ["hunter22"])
        let run = try journal.begin(kind: .apply, trigger: "cli", revision: "abc", hosts: ["h1"])
        let step = try journal.beginStep(run: run, host: "h1", step: PlanStep(
            host: "h1", resource: "PythonEnvironment/app", action: .install, packages: ["alpha==1.0"], reason: "missing"))
        try journal.addLine(run: run, step: step, host: "h1", stream: .output, "Looking in indexes: https://bob:tok3n@mirror.example/simple")
        try journal.addLine(run: run, step: step, host: "h1", stream: .output, "password is hunter22, really")
        try journal.finishStep(step, status: .succeeded, exitCode: 0)
        try journal.finish(run: run, result: .succeeded, summary: "converged")

        let lines = try journal.lines(run: run).map(\.text)
        #expect(lines == ["Looking in indexes: https://bob:***@mirror.example/simple", "password is ***, really"])
        let stored = try String(contentsOf: URL(fileURLWithPath: journal.path), encoding: .isoLatin1)
            + ((try? String(contentsOf: URL(fileURLWithPath: journal.path + "-wal"), encoding: .isoLatin1)) ?? "")
        #expect(!stored.contains("hunter22") && !stored.contains("tok3n"))
        let record = try journal.run(run)
        #expect(record.result == .succeeded && record.hosts == ["h1"] && record.revision == "abc")
        #expect(try journal.steps(run: run).map(\.status) == [.succeeded])
        #expect(try journal.runs(host: "h1").map(\.id) == [run])
        #expect(try journal.runs(host: "elsewhere").isEmpty)
    }
}
