import Foundation
import LabsyncTestSupport
import Testing

/// `labsync plan/apply --manifests DIR` as a user runs them: the built binary, a
/// spec directory, the GitOps directory it writes, the journal in its state directory.
@Suite(.integration) struct ManifestPlanCommandTests {
    let root = LabsyncBinary.packageRoot

    struct World {
        let base: URL
        var specs: URL { base.appendingPathComponent("specs") }
        var manifests: URL { base.appendingPathComponent("gitops/clusters") }
        var state: URL { base.appendingPathComponent("state") }
        var hub: URL { specs.appendingPathComponent("hub.yaml") }
        func args(_ command: String, _ extra: String...) -> [String] {
            [command, "--repo", specs.path, "--state-dir", state.path, "--manifests", manifests.path] + extra
        }
    }

    func world() throws -> World {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("manifests-\(UUID().uuidString)")
        let world = World(base: base)
        try FileManager.default.createDirectory(at: world.specs, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: root.appendingPathComponent("examples/k8s-course/hub.yaml"), to: world.hub)
        return world
    }

    /// Every byte under `directory`, file by file.
    func allBytes(_ directory: URL) -> [(String, Data)] {
        let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
        return (walker?.allObjects as? [URL] ?? []).compactMap { url in
            (try? Data(contentsOf: url)).map { (url.path, $0) }
        }
    }

    @Test func aChangedAdminAndTimeoutPlanTwoThenApplyThenPlanZeroAndTheSecretIsNowhere() async throws {
        let w = try world()
        defer { try? FileManager.default.removeItem(at: w.base) }
        let canary = "CANARY-\(UUID().uuidString)"
        let env = ["GITLAB_CLIENT_SECRET": canary]
        var outputs: [String] = []

        let first = try await LabsyncBinary.runAsync(w.args("apply", "--yes"), env: env)
        #expect(first.status == 0, "\(first.stderrText)")
        #expect(first.stdoutText.contains("Manifests: 3 written, 0 removed"))
        // Someone else's file in the same directory: never listed, never touched.
        let other = w.manifests.appendingPathComponent("apps/other.yaml")
        try FileManager.default.createDirectory(at: other.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("kind: ConfigMap\n".utf8).write(to: other)

        let spec = try String(contentsOf: w.hub, encoding: .utf8)
        try spec.replacingOccurrences(of: "admins: [prof.meyer, ta.schulz]", with: "admins: [prof.meyer]")
            .replacingOccurrences(of: "idleCulling: {timeout: 1h,", with: "idleCulling: {timeout: 30m,")
            .write(to: w.hub, atomically: true, encoding: .utf8)

        let markdown = try await LabsyncBinary.runAsync(w.args("plan", "--format", "markdown", "--detailed-exitcode"), env: env)
        #expect(markdown.status == 2, "\(markdown.stderrText)")
        #expect(markdown.stdoutText.contains("**Plan: 0 to add, 1 to change, 0 to remove.**"))
        #expect(markdown.stdoutText.contains("- hub.loadRoles.admin.users: [\"prof.meyer\", \"ta.schulz\"]\n+ hub.loadRoles.admin.users: [\"prof.meyer\"]"))
        #expect(markdown.stdoutText.contains("- cull.timeout: 3600\n+ cull.timeout: 1800"))
        #expect(markdown.stdoutText.contains("Secret `ml101/ml101-hub-oauth-client`, key `client-secret`"))
        #expect(!markdown.stdoutText.contains("other.yaml"))
        for format in ["text", "json"] {
            let plan = try await LabsyncBinary.runAsync(w.args("plan", "--format", format, "--detailed-exitcode"), env: env)
            #expect(plan.status == 2)
            outputs += [plan.stdoutText, plan.stderrText]
        }
        outputs += [markdown.stdoutText, markdown.stderrText]

        let apply = try await LabsyncBinary.runAsync(w.args("apply", "--yes"), env: env)
        #expect(apply.status == 0, "\(apply.stderrText)")
        #expect(apply.stdoutText.contains("Manifests: 1 written, 0 removed"))
        let release = try String(contentsOf: w.manifests.appendingPathComponent("ml101/ml101-hub/helmrelease.yaml"), encoding: .utf8)
        #expect(release.contains("timeout: 1800"))
        outputs += [apply.stdoutText, apply.stderrText]

        let again = try await LabsyncBinary.runAsync(w.args("plan", "--detailed-exitcode"), env: env)
        #expect(again.status == 0, "\(again.stdoutText)\(again.stderrText)")
        #expect(again.stdoutText.contains("No changes. Hosts and manifests match the specs."))

        // The hub leaves the specs: its files go, the folders they leave empty too, other.yaml stays.
        try FileManager.default.removeItem(at: w.hub)
        let removal = try await LabsyncBinary.runAsync(w.args("apply", "--yes", "--allow-empty"), env: env)
        #expect(removal.status == 0, "\(removal.stderrText)")
        #expect(removal.stdoutText.contains("Manifests: 0 written, 3 removed"))
        #expect(!FileManager.default.fileExists(atPath: w.manifests.appendingPathComponent("ml101").path))
        #expect(FileManager.default.fileExists(atPath: other.path))
        outputs += [removal.stdoutText, removal.stderrText]

        // The canary: in no plan, no output, no written file, nothing in the state directory (the journal).
        for text in outputs { #expect(!text.contains(canary)) }
        let written = allBytes(w.manifests) + allBytes(w.state)
        #expect(!written.isEmpty)
        for (path, data) in written { #expect(data.range(of: Data(canary.utf8)) == nil, "\(path) holds the secret") }
        let history = try await LabsyncBinary.runAsync(["history", "--state-dir", w.state.path], env: env)
        #expect(history.status == 0 && !history.stdoutText.contains(canary))
    }

    @Test func withoutManifestsTheHubIsNotPlannedAndNothingIsWritten() async throws {
        let w = try world()
        defer { try? FileManager.default.removeItem(at: w.base) }
        let plan = try await LabsyncBinary.runAsync(["plan", "--repo", w.specs.path, "--state-dir", w.state.path, "--detailed-exitcode"])
        #expect(plan.status == 0, "\(plan.stderrText)")
        #expect(plan.stdoutText.contains("Not planned (pass --manifests DIR): JupyterHub/ml101"))
        #expect(!FileManager.default.fileExists(atPath: w.manifests.path))
    }

    @Test func applyRefusesToWriteThroughASymbolicLink() async throws {
        let w = try world()
        let elsewhere = w.base.appendingPathComponent("elsewhere")
        defer { try? FileManager.default.removeItem(at: w.base) }
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: w.manifests, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: w.manifests.appendingPathComponent("ml101"), withDestinationURL: elsewhere)
        let apply = try await LabsyncBinary.runAsync(w.args("apply", "--yes"))
        #expect(apply.status == 1)
        #expect(apply.stderrText.contains("is a symbolic link; refusing to write through it"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path).isEmpty)
    }
}
