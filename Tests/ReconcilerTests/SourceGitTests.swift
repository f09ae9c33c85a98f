import Foundation
import LabsyncTestSupport
import SpecSource
import Testing
@testable import Reconciler

/// Clones real repositories (made with the git CLI) over a path and `file://`.
@Suite(.integration) struct SourceGitTests {
    /// One temp directory per test: the fixture repo and the labsync cache.
    final class Scratch {
        let directory: URL
        let cache: URL
        init() throws {
            directory = try GitFixture.makeTemporaryDirectory(prefix: "source")
            cache = directory.appendingPathComponent("cache")
        }
        deinit { GitFixture.removeTree(directory) }
    }

    enum Transport: CaseIterable { case path, fileURL }

    private func url(_ fixture: GitFixture, _ transport: Transport) -> String {
        transport == .path ? fixture.path : fixture.fileURL
    }

    private func read(_ tree: SourceTree, _ path: String) throws -> String {
        try String(contentsOf: tree.root.appendingPathComponent(path), encoding: .utf8)
    }

    @Test(arguments: Transport.allCases)
    func checksOutBranchTagAndCommit(transport: Transport) async throws {
        let scratch = try Scratch()
        let fixture = try GitFixture.create(in: scratch.directory, files: ["hosts.yaml": "v1\n"])
        let first = try fixture.headSHA()
        try fixture.createTag("v1")
        try fixture.createTag("v1-annotated", annotated: true)
        try fixture.createBranch("feature")
        try fixture.checkout("feature")
        let featureCommit = try fixture.commit(files: ["hosts.yaml": "feature\n"], message: "feature work")
        try fixture.checkout("main")
        let second = try fixture.commit(files: ["hosts.yaml": "v2\n"], message: "second")

        func fetch(_ ref: String?) async throws -> SourceTree {
            try await GitSource(url: url(fixture, transport), ref: ref, cacheDirectory: scratch.cache).fetch()
        }

        let head = try await fetch(nil)
        #expect(head.revision == second)
        #expect(head.ref == "main")
        #expect(try read(head, "hosts.yaml") == "v2\n")

        let branch = try await fetch("feature")
        #expect(branch.revision == featureCommit)
        #expect(branch.ref == "feature")
        #expect(try read(branch, "hosts.yaml") == "feature\n")

        for tag in ["v1", "v1-annotated", "refs/tags/v1"] {
            let tagged = try await fetch(tag)
            #expect(tagged.revision == first, "tag \(tag)")
            #expect(try read(tagged, "hosts.yaml") == "v1\n")
        }

        let full = try await fetch(first)
        #expect(full.revision == first)
        let short = try await fetch(String(first.prefix(8)))
        #expect(short.revision == first)
        #expect(short.root == full.root, "the same commit reuses its checkout")
        #expect(try read(short, "hosts.yaml") == "v1\n")
    }

    @Test(arguments: Transport.allCases)
    func secondFetchSeesNewCommit(transport: Transport) async throws {
        let scratch = try Scratch()
        let fixture = try GitFixture.create(in: scratch.directory, files: ["a.yaml": "one\n"])
        let source = GitSource(url: url(fixture, transport), ref: "main", cacheDirectory: scratch.cache)

        let before = try await source.fetch()
        let newCommit = try fixture.commit(files: ["a.yaml": "two\n"], message: "change")
        let after = try await source.fetch()

        #expect(before.revision != after.revision)
        #expect(after.revision == newCommit)
        #expect(try read(after, "a.yaml") == "two\n")
        #expect(try read(before, "a.yaml") == "one\n", "an older checkout stays as it was")
    }

    @Test func deletedBranchIsPruned() async throws {
        let scratch = try Scratch()
        let fixture = try GitFixture.create(in: scratch.directory, files: ["a.yaml": "one\n"])
        try fixture.createBranch("gone")
        _ = try await GitSource(url: fixture.path, ref: "gone", cacheDirectory: scratch.cache).fetch()
        try fixture.git("push", "--quiet", "origin", ":refs/heads/gone")

        let error = await #expect(throws: SourceError.self) {
            try await GitSource(url: fixture.path, ref: "gone", cacheDirectory: scratch.cache).fetch()
        }
        #expect(error?.kind == .refNotFound)
    }

    @Test func unknownRefIsRefNotFound() async throws {
        let scratch = try Scratch()
        let fixture = try GitFixture.create(in: scratch.directory, files: ["a.yaml": "x\n"])
        for ref in ["no-such-branch", "deadbeef", "0123456789012345678901234567890123456789", "bad..name"] {
            let error = await #expect(throws: SourceError.self) {
                try await GitSource(url: fixture.fileURL, ref: ref, cacheDirectory: scratch.cache).fetch()
            }
            #expect(error?.kind == .refNotFound, "ref \(ref): \(String(describing: error))")
            #expect(error?.message.contains(ref) == true)
        }
    }

    @Test func missingRepositoryIsNotFound() async throws {
        let scratch = try Scratch()
        let missing = scratch.directory.appendingPathComponent("nothing-here.git").path
        let error = await #expect(throws: SourceError.self) {
            try await GitSource(url: missing, ref: nil, cacheDirectory: scratch.cache).fetch()
        }
        #expect(error?.kind == .notFound, "\(String(describing: error))")
    }

    @Test func checkoutIsReadOnlyAndHasNoGitDirectory() async throws {
        let scratch = try Scratch()
        let fixture = try GitFixture.create(in: scratch.directory, files: ["dir/a.yaml": "x\n"])
        let tree = try await GitSource(url: fixture.path, ref: nil, cacheDirectory: scratch.cache).fetch()

        #expect(!FileManager.default.fileExists(atPath: tree.root.appendingPathComponent(".git").path))
        let file = tree.root.appendingPathComponent("dir/a.yaml").path
        #expect(access(file, W_OK) != 0 || geteuid() == 0)  // root ignores permission bits
        let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        #expect(mode.map { $0 & 0o222 } == 0)
        let directoryMode = try FileManager.default.attributesOfItem(atPath: tree.root.path)[.posixPermissions] as? Int
        #expect(directoryMode == 0o555)
    }
}
