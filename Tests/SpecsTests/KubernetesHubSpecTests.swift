import Foundation
import LabsyncTestSupport
import Testing
@testable import Specs

/// A JupyterHub with `spec.kubernetes`: decoded into KubernetesHubSpec, host
/// hubs untouched, and every field without a chart mapping refused where it
/// is written, with the reason.
@Suite(.unit) struct KubernetesHubSpecTests {
    static let base = """
        apiVersion: labsync/v1
        kind: JupyterHub
        metadata:
          name: course
        spec:
          kubernetes:
            namespace: course
            release: course-hub
            chartVersion: "4.4.0"
            singleuser:
              image: {name: quay.io/jupyter/scipy-notebook, tag: "2025-10-20"}
          authentication:
            type: gitlab
            allowedUsers: [anna]
            gitlab:
              url: https://gitlab.example.org
              clientId: course
              clientSecret: {fromEnv: GITLAB_CLIENT_SECRET}
              callbackUrl: https://course.example.org/hub/oauth_callback

        """

    func decode(_ text: String) throws -> (SpecDocument?, [Diagnostic]) {
        let nodes = try YAMLReader.documents(text: text, file: "hub.yaml").get()
        let sink = DiagnosticSink()
        let document = DocumentDecoder(sink: sink).decode(try #require(nodes.first))
        return (document, sink.diagnostics)
    }

    @Test func aKubernetesHubDecodesIntoItsOwnType() throws {
        let (document, diagnostics) = try decode(Self.base)
        #expect(diagnostics.map(\.description) == [])
        guard case .kubernetesHub(let hub)? = document else { Issue.record("not a Kubernetes hub: \(String(describing: document))"); return }
        #expect(hub.kubernetes.namespace.value == "course" && hub.kubernetes.release.value == "course-hub")
        #expect(hub.kubernetes.chartRepository == KubernetesTarget.defaultChartRepository)
        #expect(hub.kubernetes.image == ContainerImage(name: "quay.io/jupyter/scipy-notebook", tag: "2025-10-20"))
        #expect(hub.authentication.allowedUsers.map(\.value) == ["anna"])
        #expect(hub.idleCulling == nil && hub.https == nil && hub.state == .present)
    }

    /// Every host-only field, and what labsync says about it.
    @Test(arguments: [
        ("  host: vm\n", "either host or kubernetes"),
        ("  version: \">=5\"\n", "chartVersion"),
        ("  port: 8080\n", "proxy-public Service"),
        ("  users: [{name: anna, passwordHash: \"$6$s$h\"}]\n", "pods have no system accounts"),
        ("  kernels: [ml]\n", "environments on Kubernetes are images"),
        ("  homeDirectoryMode: \"0750\"\n", "own volume"),
        ("  extraPackages: [numpy]\n", "singleuser.image"),
        ("  removedUsers: delete\n", "KubeSpawner's business"),
        ("  https: {hostname: a.example.org, selfSigned: true}\n", "self-signed"),
        ("  https: {hostname: a.example.org, certificate: {certFile: /a, keyFile: /b}}\n", "TLS Secret"),
        ("  https: {hostname: a.example.org, port: 8443, secretName: tls}\n", "must be 443"),
        ("  https: {hostname: a.example.org}\n", "exactly one of letsencrypt"),
    ])
    func hostOnlyFieldsAreRefusedWithAReason(_ field: String, _ reason: String) throws {
        let (_, diagnostics) = try decode(Self.base + field)
        #expect(diagnostics.count == 1, "\(diagnostics.map(\.description))")
        #expect(diagnostics.first?.message.contains(reason) == true, "\(diagnostics.map(\.description))")
        #expect(diagnostics.first?.location.line == 20)  // the line the field is written on
    }

    @Test func pamIsRefusedAtItsType() throws {
        let text = Self.base.replacingOccurrences(of: "type: gitlab", with: "type: pam")
            .replacingOccurrences(of: "    gitlab:\n      url: https://gitlab.example.org\n      clientId: course\n      clientSecret: {fromEnv: GITLAB_CLIENT_SECRET}\n      callbackUrl: https://course.example.org/hub/oauth_callback\n", with: "")
        let (_, diagnostics) = try decode(text)
        #expect(diagnostics.map(\.description) == ["hub.yaml:13:5: error: spec.authentication.type pam cannot be used with spec.kubernetes: pods have no system accounts; use gitlab or azuread"])
    }

    @Test func kubernetesOnlyHTTPSFieldsAreRefusedOnAHost() throws {
        let text = """
            apiVersion: labsync/v1
            kind: JupyterHub
            metadata: {name: seminar}
            spec:
              host: vm
              authentication: {type: pam, allowedUsers: [anna]}
              https:
                hostname: vm.example.org
                secretName: tls

            """
        let (document, diagnostics) = try decode(text)
        #expect(diagnostics.map(\.description) == ["hub.yaml:9:5: error: spec.https.secretName is for hubs on Kubernetes (spec.kubernetes); on a host use selfSigned or certificate"])
        guard case .hub? = document else { Issue.record("a host hub stays a JupyterHubSpec"); return }
    }

    @Test(arguments: [
        ("namespace: course", "namespace: Course_1", "spec.kubernetes.namespace"),
        ("release: course-hub", "release: \(String(repeating: "a", count: 54))", "at most 53"),
        ("chartVersion: \"4.4.0\"", "chartVersion: latest", "chart version"),
        ("tag: \"2025-10-20\"", "tag: \"a b\"", "image tag"),
        ("name: quay.io/jupyter/scipy-notebook", "name: \"Quay.io/x y\"", "image name"),
    ])
    func kubernetesNamesAreChecked(_ from: String, _ to: String, _ message: String) throws {
        let (_, diagnostics) = try decode(Self.base.replacingOccurrences(of: from, with: to))
        #expect(diagnostics.count == 1 && diagnostics.first?.message.contains(message) == true, "\(diagnostics.map(\.description))")
    }

    @Test func twoHubsCannotShareANamespace() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("k8s-dup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.base.write(to: dir.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        try Self.base.replacingOccurrences(of: "name: course\n", with: "name: other\n")
            .write(to: dir.appendingPathComponent("b.yaml"), atomically: true, encoding: .utf8)
        let result = SpecLoader().load(directory: dir)
        #expect(result.diagnostics.map(\.description) == ["b.yaml:7:16: error: namespace 'course' already has JupyterHub 'course' (at a.yaml:7:16): one hub per namespace"])
        #expect(result.specs.kubernetesHubs.count == 2 && result.specs.hubs.isEmpty)
    }
}
