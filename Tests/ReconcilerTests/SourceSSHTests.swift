import Foundation
import LabsyncTestSupport
import Remote
import SpecSource
import Testing
@testable import Reconciler

/// Clones over ssh from the test sshd: the git server is `git-upload-pack` run by sshd
/// for root, reading a bare repository in a temp directory.
@Suite(.serialized, .integration) struct SourceSSHTests {
    final class Setup {
        let server: SSHServer
        let scratch: URL
        let fixture: GitFixture
        let cache: URL
        init() throws {
            server = try SSHServer()
            scratch = try GitFixture.makeTemporaryDirectory(prefix: "ssh-git")
            fixture = try GitFixture.create(in: scratch, files: ["hosts.yaml": "v1\n"])
            cache = scratch.appendingPathComponent("cache")
        }
        deinit {
            server.stop()
            GitFixture.removeTree(scratch)
        }

        var url: String { "ssh://root@\(server.host):\(server.port)\(fixture.path)" }
        var serverKeys: [HostKey] { server.hostKeyLines.compactMap { HostKey(openSSH: $0) } }
        var identity: GitCredentials { GitCredentials(identityFile: server.clientKeys.ed25519, useAgent: false) }

        func source(ref: String?, policy: HostKeyPolicy? = nil, credentials: GitCredentials? = nil) -> GitSource {
            GitSource(url: url, ref: ref, cacheDirectory: cache,
                      hostKeyPolicy: policy ?? HostKeyPolicy(pinned: serverKeys),
                      credentials: credentials ?? identity)
        }
    }

    private func read(_ tree: SourceTree, _ path: String) throws -> String {
        try String(contentsOf: tree.root.appendingPathComponent(path), encoding: .utf8)
    }

    @Test func clonesBranchTagAndCommitAndFetchesNewCommits() async throws {
        let setup = try Setup()
        let fixture = setup.fixture
        let first = try fixture.headSHA()
        try fixture.createTag("v1", annotated: true)
        try fixture.createBranch("stable")
        let second = try fixture.commit(files: ["hosts.yaml": "v2\n"], message: "second")

        let head = try await setup.source(ref: nil).fetch()
        #expect(head.revision == second, "\(setup.server.log())")
        #expect(head.ref == "main")
        #expect(try read(head, "hosts.yaml") == "v2\n")

        let branch = try await setup.source(ref: "stable").fetch()
        #expect(branch.revision == first)
        let tag = try await setup.source(ref: "v1").fetch()
        #expect(tag.revision == first)
        #expect(try read(tag, "hosts.yaml") == "v1\n")
        let commit = try await setup.source(ref: String(first.prefix(10))).fetch()
        #expect(commit.revision == first)

        let third = try fixture.commit(files: ["hosts.yaml": "v3\n"], message: "third")
        let again = try await setup.source(ref: "main").fetch()
        #expect(again.revision == third)
        #expect(try read(again, "hosts.yaml") == "v3\n")

        let error = await #expect(throws: SourceError.self) { try await setup.source(ref: "nope").fetch() }
        #expect(error?.kind == .refNotFound)
    }

    @Test func ecdsaIdentityWorks() async throws {
        let setup = try Setup()
        let credentials = GitCredentials(identityFile: setup.server.clientKeys.ecdsa, useAgent: false)
        let tree = try await setup.source(ref: nil, credentials: credentials).fetch()
        #expect(tree.revision == (try setup.fixture.headSHA()))
    }

    @Test func changedHostKeyIsRefusedNamingBothFingerprints() async throws {
        let setup = try Setup()
        // The key we "remember" for this server is not the one it presents.
        let impostor = HostKey(type: "ssh-ed25519", blob: sshString("ssh-ed25519") + sshString(Array(repeating: 7, count: 32)))
        let error = await #expect(throws: SourceError.self) {
            try await setup.source(ref: nil, policy: HostKeyPolicy(pinned: [impostor])).fetch()
        }
        #expect(error?.kind == .hostKey)
        let message = error?.message ?? ""
        #expect(message.contains(impostor.fingerprint), "\(message)")
        #expect(setup.serverKeys.contains { message.contains($0.fingerprint) }, "\(message)")
        #expect(message.contains("CHANGED"))
        let trees = (try? FileManager.default.contentsOfDirectory(atPath: setup.cache.appendingPathComponent("trees").path)) ?? []
        #expect(trees.isEmpty, "nothing was checked out from the impostor")

        // The same through a known_hosts file.
        let knownHosts = setup.scratch.appendingPathComponent("known_hosts")
        try Data((setup.server.knownHostsLine(impostor.openSSH) + "\n").utf8).write(to: knownHosts)
        let viaFile = await #expect(throws: SourceError.self) {
            try await setup.source(ref: nil, policy: HostKeyPolicy(knownHostsFile: knownHosts.path)).fetch()
        }
        #expect(viaFile?.kind == .hostKey)
        #expect(viaFile?.message.contains(impostor.fingerprint) == true)
    }

    /// libgit2 1.5 cannot choose the host key type; with only the server's ed25519 key
    /// pinned, libssh2 negotiates ECDSA (measured), which is refused with a hint.
    @Test func keyOfAnotherTypeIsRefusedWithHint() async throws {
        let setup = try Setup()
        let ed25519 = try #require(setup.serverKeys.first { $0.type == "ssh-ed25519" })
        let ecdsa = try #require(setup.serverKeys.first { $0.type.hasPrefix("ecdsa") })
        let error = await #expect(throws: SourceError.self) {
            try await setup.source(ref: nil, policy: HostKeyPolicy(pinned: [ed25519])).fetch()
        }
        #expect(error?.kind == .hostKey)
        #expect(error?.message.contains("ssh-keyscan -p \(setup.server.port) 127.0.0.1") == true, "\(String(describing: error))")
        #expect(error?.message.contains(ecdsa.fingerprint) == true)

        let tree = try await setup.source(ref: nil, policy: HostKeyPolicy(pinned: [ecdsa])).fetch()
        #expect(tree.revision == (try setup.fixture.headSHA()))
    }

    @Test func unknownHostKeyIsRefusedUnlessAcceptedAndRecorded() async throws {
        let setup = try Setup()
        let record = setup.scratch.appendingPathComponent("recorded_hosts").path
        let error = await #expect(throws: SourceError.self) {
            try await setup.source(ref: nil, policy: HostKeyPolicy(recordFile: record)).fetch()
        }
        #expect(error?.kind == .hostKey)
        #expect(!FileManager.default.fileExists(atPath: record))

        let accepted = try await setup.source(ref: nil, policy: HostKeyPolicy(acceptNew: true, recordFile: record)).fetch()
        #expect(accepted.revision == (try setup.fixture.headSHA()))
        let recorded = try String(contentsOfFile: record, encoding: .utf8)
        #expect(recorded.contains("[127.0.0.1]:\(setup.server.port)"))
        // Now known: works without acceptNew.
        _ = try await setup.source(ref: nil, policy: HostKeyPolicy(recordFile: record)).fetch()
    }

    @Test func missingCredentialsGiveAuthenticationError() async throws {
        let setup = try Setup()
        let none = GitCredentials(useAgent: false)
        let error = await #expect(throws: SourceError.self) {
            try await setup.source(ref: nil, credentials: none).fetch()
        }
        #expect(error?.kind == .authentication, "\(String(describing: error))")

        let rsa = GitCredentials(identityFile: setup.server.clientKeys.rsa, useAgent: false)
        let rsaError = await #expect(throws: SourceError.self) {
            try await setup.source(ref: nil, credentials: rsa).fetch()
        }
        #expect(rsaError?.kind == .authentication, "\(String(describing: rsaError))")
        #expect(rsaError?.message.contains("RSA") == true)
    }
}

private func sshString(_ text: String) -> [UInt8] { sshString(Array(text.utf8)) }
private func sshString(_ bytes: [UInt8]) -> [UInt8] {
    let n = UInt32(bytes.count)
    return [UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)] + bytes
}
