// The pure comparison of a Kubernetes hub's rendered files with a manifests
// directory's content: what `labsync plan --manifests DIR` shows and apply writes.

import Drivers
import Foundation
import LabsyncTestSupport
import Specs
import Testing

@Suite(.unit) struct KubernetesHubDriverTests {
    let driver = KubernetesHubDriver()

    func exampleSpecs() throws -> SpecSet {
        let result = SpecLoader().load(directory: KubernetesFixtures.root.appendingPathComponent("examples/k8s-course"))
        #expect(result.isValid)
        return result.specs
    }

    /// The example with one admin removed and the culling timeout halved.
    func changedSpecs() throws -> SpecSet {
        var specs = try exampleSpecs()
        specs.kubernetesHubs[0].authentication.admins.removeAll { $0.value == "ta.schulz" }
        specs.kubernetesHubs[0].idleCulling?.timeoutSeconds = 1800
        return specs
    }

    func files(_ specs: SpecSet) -> [String: String] {
        Dictionary(uniqueKeysWithValues: driver.render(specs).flatMap(\.files).map { ($0.path, $0.content) })
    }

    @Test func anEmptyDirectoryGetsEveryFileAndTheSameFilesNothing() throws {
        let specs = try exampleSpecs()
        let creates = driver.plan(rendered: driver.render(specs), existing: [:])
        #expect(creates.map(\.action) == [.create, .create, .create])
        #expect(creates.map(\.path) == ["ml101/ml101-hub/helmrelease.yaml", "ml101/ml101-hub/helmrepository.yaml",
                                        "ml101/ml101-hub/namespace.yaml"])
        #expect(creates.allSatisfy { $0.resource == "JupyterHub/ml101" && $0.content != nil })
        #expect(driver.plan(rendered: driver.render(specs), existing: files(specs)).isEmpty)
    }

    @Test func aRemovedAdminAndAChangedTimeoutAreOneUpdateWithAValuesDiff() throws {
        let changes = driver.plan(rendered: driver.render(try changedSpecs()), existing: files(try exampleSpecs()))
        #expect(changes.count == 1)
        let change = try #require(changes.first)
        #expect(change.action == .update && change.path == "ml101/ml101-hub/helmrelease.yaml")
        #expect(change.diff.map(\.description) == [
            "cull.timeout: 3600 → 1800",
            #"hub.config.GitLabOAuthenticator.allowed_users: ["prof.meyer", "student01", "student02", "student03", "ta.schulz"] → ["prof.meyer", "student01", "student02", "student03"]"#,
            #"hub.loadRoles.admin.users: ["prof.meyer", "ta.schulz"] → ["prof.meyer"]"#,
        ])
    }

    @Test func onlyFilesWithLabsyncsHeaderAreDeletedAndAForeignFileIsNamedBeforeItIsReplaced() throws {
        let specs = try exampleSpecs()
        var existing = files(specs)
        // A hub that left the specs, a file of someone else, and a hand-written file where labsync writes.
        existing["old/old-hub/helmrelease.yaml"] = "# Rendered by labsync from JupyterHub/old; do not edit: labsync rewrites it from the spec.\nkind: \"HelmRelease\"\n"
        existing["apps/other.yaml"] = "# Rendered by hand\nkind: ConfigMap\n"
        existing["ml101/ml101-hub/namespace.yaml"] = "apiVersion: v1\nkind: Namespace\nmetadata: {name: ml101}\n"
        let changes = driver.plan(rendered: driver.render(specs), existing: existing)
        #expect(changes.map(\.path) == ["ml101/ml101-hub/namespace.yaml", "old/old-hub/helmrelease.yaml"])
        #expect(changes.map(\.action) == [.update, .delete])
        #expect(changes[1].resource == "JupyterHub/old" && changes[1].content == nil)
        #expect(changes[0].diff.first?.description == "file: not rendered by labsync → labsync's rendering")
        #expect(changes[0].diff.contains { $0.path == "metadata.labels.app.kubernetes.io/managed-by" && $0.before == nil })
    }

    @Test func theOwnerIsReadFromTheFirstLineOnly() {
        #expect(driver.owner(ofContent: "# Rendered by labsync from JupyterHub/ml101; do not edit.\nkind: x\n") == "JupyterHub/ml101")
        #expect(driver.owner(ofContent: "kind: x\n# Rendered by labsync from JupyterHub/ml101; do not edit.\n") == nil)
        #expect(driver.owner(ofContent: "# Rendered by labsync from Host/a; do not edit.\n") == nil)
        #expect(driver.owner(ofContent: "") == nil)
    }

    @Test func anEditedCommentOrBrokenYAMLIsStillAnUpdate() throws {
        let specs = try exampleSpecs()
        var existing = files(specs)
        let path = "ml101/ml101-hub/helmrepository.yaml"
        existing[path] = existing[path]! + "# a comment someone added\n"
        existing["ml101/ml101-hub/namespace.yaml"] = "# Rendered by labsync from JupyterHub/ml101; x\nkind: [\n"
        let changes = driver.plan(rendered: driver.render(specs), existing: existing)
        #expect(changes.map { $0.diff.map(\.description) } == [
            ["file: edited text, same values → labsync's rendering"],
            ["file: not valid YAML → labsync's rendering"],
        ])
    }

    @Test func theSecretIsNamedByReferenceNeverByValue() throws {
        let rendered = driver.render(try exampleSpecs())
        let secret = try #require(rendered.first?.secrets.first)
        #expect((secret.namespace, secret.name, secret.key) == ("ml101", "ml101-hub-oauth-client", "client-secret"))
        #expect(secret.createCommand.contains("${GITLAB_CLIENT_SECRET:?"))
    }
}
