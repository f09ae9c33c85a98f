import Foundation
import LabsyncTestSupport
import Testing

/// `labsync render` as a user runs it: the built binary, the files it writes, its output.
@Suite(.integration) struct RenderCommandTests {
    let root = LabsyncBinary.packageRoot

    func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("render-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func writesTheExamplesManifestsInTheDocumentedLayoutAndTheSameBytesTwice() async throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let example = root.appendingPathComponent("examples/k8s-course").path
        let first = try await LabsyncBinary.runAsync(["render", example, "--manifests", out.path])
        #expect(first.status == 0, "\(first.stderrText)")
        #expect(first.stdoutText.contains("JupyterHub/ml101: wrote ml101/ml101-hub/"))
        #expect(first.stdoutText.contains("Secret ml101/ml101-hub-oauth-client key client-secret"))
        let names = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("ml101/ml101-hub").path).sorted()
        #expect(names == ["helmrelease.yaml", "helmrepository.yaml", "namespace.yaml"])
        // The same bytes as the golden files the schema checks ran on.
        let golden = root.appendingPathComponent("Tests/Fixtures/kubernetes/examples/k8s-course/rendered/ml101/ml101-hub")
        var before: [String: Data] = [:]
        for name in names {
            before[name] = try Data(contentsOf: out.appendingPathComponent("ml101/ml101-hub/\(name)"))
            #expect(before[name] == (try? Data(contentsOf: golden.appendingPathComponent(name))), "\(name) differs from the golden file")
        }
        let second = try await LabsyncBinary.runAsync(["render", example, "--manifests", out.path])
        #expect(second.status == 0)
        for name in names {
            #expect(try Data(contentsOf: out.appendingPathComponent("ml101/ml101-hub/\(name)")) == before[name])
        }
    }

    @Test func secretTemplateNamesTheVariableNeverTheValue() async throws {
        let canary = "CANARY-\(UUID().uuidString)"
        let example = root.appendingPathComponent("examples/k8s-course").path
        let result = try await LabsyncBinary.runAsync(["render", example, "--secret-template"], env: ["GITLAB_CLIENT_SECRET": canary])
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(!result.stdoutText.contains(canary) && !result.stderrText.contains(canary))
        #expect(result.stdoutText.contains("kubectl create secret generic 'ml101-hub-oauth-client' --namespace 'ml101'"))
        #expect(result.stdoutText.contains("${GITLAB_CLIENT_SECRET:?"))
        #expect(result.stdoutText.contains("--dry-run=client -o yaml"))
        // The printed command, run by a shell, expands the variable: the Secret holds
        // the value in double quotes, which Flux's targetPath strips and keeps a string.
        let line = try #require(result.stdoutText.split(separator: "\n").first { $0.hasPrefix("kubectl ") })
        let echoed = try Spawn.run(["/bin/sh", "-c", "kubectl() { printf '%s\\n' \"$@\"; }; " + line],
                                   env: ["GITLAB_CLIENT_SECRET": canary, "PATH": "/usr/bin:/bin"])
        #expect(echoed.stdoutText.split(separator: "\n").contains("--from-literal=client-secret=\"\(canary)\""[...]))
    }

    @Test func invalidSpecsWriteNothing() async throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let broken = root.appendingPathComponent("Tests/Fixtures/invalid/k8s-kernels").path
        let result = try await LabsyncBinary.runAsync(["render", broken, "--manifests", out.path])
        #expect(result.status == 1)
        #expect(result.stderrText.contains("specs.yaml:20:3: error: spec.kernels cannot be used with spec.kubernetes"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty)
    }

    @Test func aSymbolicLinkInTheManifestsDirectoryIsNotWrittenThrough() async throws {
        let out = try temporaryDirectory()
        let elsewhere = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: elsewhere) }
        try FileManager.default.createSymbolicLink(at: out.appendingPathComponent("ml101"), withDestinationURL: elsewhere)
        let example = root.appendingPathComponent("examples/k8s-course").path
        let result = try await LabsyncBinary.runAsync(["render", example, "--manifests", out.path])
        #expect(result.status == 1)
        #expect(result.stderrText.contains("is a symbolic link; refusing to write through it"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path).isEmpty)
    }

    @Test func exactlyOneModeIsRequired() async throws {
        let example = root.appendingPathComponent("examples/k8s-course").path
        let neither = try await LabsyncBinary.runAsync(["render", example])
        #expect(neither.status != 0 && neither.stderrText.contains("exactly one of --manifests DIR and --secret-template"))
    }
}
