import Foundation
import LabsyncTestSupport
import Testing
@testable import SpecSource

@Suite struct SourceSelectionTests {
    let state = URL(fileURLWithPath: "/tmp/labsync-state-unused")

    @Test(.unit) func urlsAndRefsAreGit() throws {
        for repo in ["file:///srv/specs.git", "ssh://git@example.org:2222/specs.git",
                     "https://example.org/specs.git", "git@example.org:lab/specs.git"] {
            let source = makeSource(repo: repo, ref: nil, stateDirectory: state)
            #expect((source as? GitSource)?.url == repo, "\(repo)")
            #expect((source as? GitSource)?.cacheDirectory == state.appendingPathComponent("git", isDirectory: true))
        }
        let withRef = makeSource(repo: "/srv/specs", ref: "v1", stateDirectory: state)
        #expect((withRef as? GitSource)?.ref == "v1")
        #expect((makeSource(repo: "ssh://h:2200/r.git", ref: nil, stateDirectory: state) as? GitSource)?.sshPort == 2200)
        #expect((makeSource(repo: "git@h:r.git", ref: nil, stateDirectory: state) as? GitSource)?.sshPort == 22)
    }

    @Test(.unit) func plainPathsAreDirectories() throws {
        for repo in [".", "specs", "./a:b", "/srv/specs"] {
            #expect(makeSource(repo: repo, ref: nil, stateDirectory: state) is DirectorySource, "\(repo)")
        }
    }

    @Test(.integration) func bareRepositoryWithoutRefIsGit() async throws {
        let scratch = try GitFixture.makeTemporaryDirectory()
        defer { GitFixture.removeTree(scratch) }
        let fixture = try GitFixture.create(in: scratch, files: ["a.yaml": "x\n"])
        let source = makeSource(repo: fixture.path, ref: nil, stateDirectory: scratch.appendingPathComponent("state"))
        #expect(source is GitSource)
        let tree = try await source.fetch()
        #expect(tree.revision == (try fixture.headSHA()))
    }

    @Test(.integration) func directorySourceReadsInPlace() async throws {
        let scratch = try GitFixture.makeTemporaryDirectory()
        defer { GitFixture.removeTree(scratch) }
        let plain = scratch.appendingPathComponent("plain")
        try FileManager.default.createDirectory(at: plain, withIntermediateDirectories: true)
        let tree = try await DirectorySource(path: plain.path).fetch()
        #expect(tree.root.path == plain.standardizedFileURL.path)
        #expect(tree.revision == nil)

        // A git work tree reports its HEAD.
        let fixture = try GitFixture.create(in: scratch, files: ["a.yaml": "x\n"])
        let work = try await DirectorySource(path: fixture.workDirectory.path).fetch()
        #expect(work.revision == (try fixture.headSHA()))

        let error = await #expect(throws: SourceError.self) {
            try await DirectorySource(path: scratch.appendingPathComponent("missing").path).fetch()
        }
        #expect(error?.kind == .notFound)
    }
}
