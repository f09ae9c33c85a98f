// Golden tests of the Kubernetes hub renderer: Tests/Fixtures/kubernetes/
// cases/<case>/specs/ → rendered/<namespace>/<release>/*.yaml, and every
// example with a Kubernetes hub → kubernetes/examples/<example>/rendered/.
// scripts/check-k8s.py validates every rendered file against the chart's
// schema, Flux's CRDs and a real JupyterHub. Re-record after an intended change:
//   LABSYNC_RECORD=1 swift test --filter KubernetesHub
// and read the diff before committing it.

import Drivers
import Foundation
import Specs
import LabsyncTestSupport
import Testing

enum KubernetesFixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = root.appendingPathComponent("Tests/Fixtures/kubernetes")
    static let record = ProcessInfo.processInfo.environment["LABSYNC_RECORD"] == "1"

    /// (label, specs directory, golden directory)
    static func all() throws -> [String] {
        let cases = try FileManager.default.contentsOfDirectory(atPath: fixtures.appendingPathComponent("cases").path)
            .sorted().map { "cases/\($0)" }
        let examples = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("examples").path)
            .sorted().filter { name in
                let result = SpecLoader().load(directory: root.appendingPathComponent("examples/\(name)"))
                return !result.specs.kubernetesHubs.isEmpty
            }.map { "examples/\($0)" }
        return cases + examples
    }

    static func specs(_ label: String) -> URL {
        label.hasPrefix("examples/") ? root.appendingPathComponent(label)
            : fixtures.appendingPathComponent(label).appendingPathComponent("specs")
    }

    static func golden(_ label: String) -> URL { fixtures.appendingPathComponent(label).appendingPathComponent("rendered") }

    static func load(_ label: String) throws -> [KubernetesHubSpec] {
        let result = SpecLoader().load(directory: specs(label))
        #expect(result.isValid, "\(result.diagnostics.map(\.description))")
        return result.specs.kubernetesHubs
    }

    /// Every regular file under `directory`, relative path → content.
    static func files(under directory: URL) -> [String: String] {
        var out: [String: String] = [:]
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else { return out }
        let prefix = directory.standardizedFileURL.path + "/"
        for case let url as URL in walker where !url.hasDirectoryPath {
            out[String(url.standardizedFileURL.path.dropFirst(prefix.count))] = try? String(contentsOf: url, encoding: .utf8)
        }
        return out
    }
}

@Suite(.unit) struct KubernetesHubRenderTests {
    @Test(arguments: try KubernetesFixtures.all())
    func golden(_ label: String) throws {
        let hubs = try KubernetesFixtures.load(label)
        #expect(!hubs.isEmpty)
        var actual: [String: String] = [:]
        for hub in hubs { for file in KubernetesHubRenderer.render(hub).files { actual[file.path] = file.content } }
        let directory = KubernetesFixtures.golden(label)
        if KubernetesFixtures.record {
            try? FileManager.default.removeItem(at: directory)
            for (path, content) in actual {
                let url = directory.appendingPathComponent(path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try content.write(to: url, atomically: true, encoding: .utf8)
            }
            return
        }
        let expected = KubernetesFixtures.files(under: directory)
        #expect(Set(actual.keys) == Set(expected.keys), "\(label): files differ; LABSYNC_RECORD=1 re-records them")
        for (path, content) in actual.sorted(by: { $0.key < $1.key }) {
            #expect(content == expected[path], "\(label)/\(path) differs; LABSYNC_RECORD=1 re-records it:\n\(content)")
        }
    }

    @Test(arguments: try KubernetesFixtures.all())
    func sameSpecSameBytes(_ label: String) throws {
        // Loaded twice from disk: dictionary order differs between processes and runs, output must not.
        let first = try KubernetesFixtures.load(label).map(KubernetesHubRenderer.render)
        let second = try KubernetesFixtures.load(label).map(KubernetesHubRenderer.render)
        #expect(first == second)
    }

    /// The mapping of the issue, field by field, on the fullest case.
    @Test func everyMappedFieldLandsWhereTheChartReadsIt() throws {
        let hub = try #require(try KubernetesFixtures.load("cases/azuread-full").first)
        let v = KubernetesHubRenderer.values(hub)
        let auth = try #require(v["hub", "config", "AzureAdOAuthenticator"])
        #expect(v["hub", "config", "JupyterHub", "authenticator_class"] == .string("azuread"))
        #expect(auth["allow_existing_users"] == .bool(false))
        #expect(auth["allow_all"] == .bool(true))
        #expect(auth["allowed_users"] == .strings(["0b1f2a3c-0000-4000-8000-000000000001"]))  // the admin may log in
        #expect(auth["allowed_groups"] == .strings(["jupyter-staff", "jupyter-users"]))
        #expect(auth["tenant_id"] == .string("example.onmicrosoft.com"))
        #expect(auth["username_claim"] == .string("preferred_username"))
        #expect(auth["oauth_callback_url"] == .string("https://faculty.example.org/hub/oauth_callback"))
        #expect(auth["client_secret"] == nil)
        #expect(v["hub", "loadRoles", "admin", "users"] == .strings(["0b1f2a3c-0000-4000-8000-000000000001"]))
        #expect(v["cull"] == .object(["enabled": .bool(true), "timeout": .int(45 * 60)]))
        #expect(v["singleuser", "memory"] == .object(["limit": .string("512M"), "guarantee": .string("512M")]))
        #expect(v["singleuser", "cpu", "limit"] == .number("0.5"))
        #expect(v["singleuser", "storage", "capacity"] == .string("1.5Gi"))
        #expect(v["proxy", "https"] == .object([
            "enabled": .bool(true), "hosts": .strings(["faculty.example.org"]), "type": .string("secret"),
            "secret": .object(["name": .string("faculty-example-org-tls")]),
        ]))
        guard case .list(let profiles)? = v["singleuser", "profileList"] else { Issue.record("no profileList"); return }
        #expect(profiles.count == 3)
        #expect(profiles[0]["default"] == .bool(true))
        #expect(profiles[1]["kubespawner_override", "image"] == .string("quay.io/jupyter/pytorch-notebook:2025-10-20"))
        #expect(profiles[2]["description"] == nil)
        #expect(v["hub", "extraConfig"] == nil)

        let minimal = try #require(try KubernetesFixtures.load("cases/gitlab-minimal").first)
        let m = KubernetesHubRenderer.values(minimal)
        #expect(m["cull"] == .object(["enabled": .bool(false)]))  // no idleCulling: no culling, as on a host
        #expect(m["proxy"] == nil && m["singleuser", "memory"] == nil && m["singleuser", "profileList"] == nil)
        #expect(m["hub", "loadRoles", "admin", "users"] == .strings([]))  // exact: nobody is admin
        #expect(m["hub", "config", "GitLabOAuthenticator", "allowed_gitlab_groups"] == .strings([]))

        let course = try #require(try KubernetesFixtures.load("examples/k8s-course").first)
        let c = KubernetesHubRenderer.values(course)
        #expect(c["hub", "extraConfig", "labsync"] == course.extraConfig.map(ManifestValue.string))
        #expect(c["singleuser", "memory"] == .object(["limit": .string("2G")]))  // above 1G: the chart's guarantee stays
        #expect(c["proxy", "https", "letsencrypt", "contactEmail"] == .string("jupyter-admins@example.org"))
    }

    @Test func theHelmReleaseReadsTheClientSecretFromASecretAndNamesItDeterministically() throws {
        let hub = try #require(try KubernetesFixtures.load("examples/k8s-course").first)
        let rendered = KubernetesHubRenderer.render(hub)
        let secret = try #require(rendered.oauthSecret)
        #expect(secret.name == "ml101-hub-oauth-client" && secret.key == "client-secret" && secret.namespace == "ml101")
        let release = try #require(rendered.files.first { $0.path == "ml101/ml101-hub/helmrelease.yaml" }).content
        #expect(release.contains("targetPath: \"hub.config.GitLabOAuthenticator.client_secret\""))
        #expect(release.contains("name: \"ml101-hub-oauth-client\""))
        #expect(release.contains("mode: \"enabled\""))
        #expect(secret.kubectlCommand == #"kubectl create secret generic 'ml101-hub-oauth-client' --namespace 'ml101' '--from-literal=client-secret='"\"${GITLAB_CLIENT_SECRET:?set GITLAB_CLIENT_SECRET to the OAuth client secret}\"" --dry-run=client -o yaml"#)
        let fromFile = OAuthSecretRequirement(namespace: "n", name: "s", key: "k", source: .fromFile("/run/it's"))
        #expect(fromFile.kubectlCommand.contains(#""\"$(cat '/run/it'\''s')\"""#))
    }

    /// Canary: the secret's value, present in the environment and in the file
    /// the specs point at, never reaches a rendered byte, the values, or the
    /// secret template.
    @Test func theSecretValueNeverAppearsInRenderedOutput() throws {
        let canary = "CANARY-\(UUID().uuidString)"
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("k8s-canary-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let secretFile = dir.appendingPathComponent("secret")
        try canary.write(to: secretFile, atomically: true, encoding: .utf8)
        setenv("GITLAB_CLIENT_SECRET", canary, 1)
        defer { unsetenv("GITLAB_CLIENT_SECRET") }
        var specText = try String(contentsOf: KubernetesFixtures.root.appendingPathComponent("examples/k8s-course/hub.yaml"), encoding: .utf8)
        try specText.write(to: dir.appendingPathComponent("env.yaml"), atomically: true, encoding: .utf8)
        specText = specText.replacingOccurrences(of: "{fromEnv: GITLAB_CLIENT_SECRET}", with: "{fromFile: \(secretFile.path)}")
            .replacingOccurrences(of: "name: ml101\n", with: "name: ml101-file\n")
            .replacingOccurrences(of: "namespace: ml101", with: "namespace: ml101-file")
        try specText.write(to: dir.appendingPathComponent("file.yaml"), atomically: true, encoding: .utf8)
        let result = SpecLoader().load(directory: dir)
        #expect(result.isValid, "\(result.diagnostics.map(\.description))")
        #expect(result.specs.kubernetesHubs.count == 2)
        for hub in result.specs.kubernetesHubs {
            let rendered = KubernetesHubRenderer.render(hub)
            let everything = rendered.files.map(\.content).joined() + "\(rendered)" + (rendered.oauthSecret?.kubectlCommand ?? "")
            #expect(!everything.contains(canary))
            #expect(rendered.oauthSecret != nil)
        }
    }
}

@Suite(.unit) struct ManifestYAMLTests {
    @Test func stringsAreAlwaysOneDoubleQuotedLine() {
        let nasty = ["", "plain", "a: b", "# c", "\n---\nkind: Secret", "&a *b !!c", "{x: y}", "[1]", " lead", "trail ",
                     "\"q\" \\ 'x'", "\u{0}\u{7}\u{1B}", "\u{85}\u{2028}\u{2029}\u{FEFF}", "日本語 🎓", "yes", "null", "0x1F"]
        for s in nasty {
            let q = ManifestYAML.quote(s)
            #expect(q.hasPrefix("\"") && q.hasSuffix("\"") && q.count >= 2)
            #expect(!q.contains("\n") && !q.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x2028 || $0.value == 0xFEFF })
            // Inside the quotes, a `"` is always escaped: the scalar cannot end early.
            let inner = q.dropFirst().dropLast()
            var escaped = false
            for ch in inner {
                if escaped { escaped = false; continue }
                if ch == "\\" { escaped = true; continue }
                #expect(ch != "\"", "unescaped quote in \(q)")
            }
        }
    }

    @Test func leavesNameEveryScalarByItsPathForAValuesDiff() {
        let v = ManifestValue.object([
            "hub": .object(["loadRoles": .object(["admin": .object(["users": .strings(["a", "b"])])])]),
            "cull": .object(["timeout": .int(3600)]),
            "empty": .list([]),
        ])
        #expect(v.leaves() == [
            "hub.loadRoles.admin.users[0]": "\"a\"", "hub.loadRoles.admin.users[1]": "\"b\"",
            "cull.timeout": "3600", "empty": "[]",
        ])
    }

    @Test func keysAreSortedAndNestedBlocksIndented() {
        let doc = ManifestYAML.document(.object([
            "b": .list([.object(["y": .int(1), "x": .strings(["s"])]), .list([.bool(true)]), .map([:])]),
            "a": .map([:]),
            "yes": .null,
        ]), header: ["h\nidden"])
        #expect(doc == """
            # hidden
            a: {}
            b:
              - x:
                  - "s"
                "y": 1
              - - true
              - {}
            "yes": null

            """)
    }
}
