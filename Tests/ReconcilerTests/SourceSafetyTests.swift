import Foundation
import LabsyncTestSupport
import Testing
@testable import SpecSource

/// A hostile repository: symlinks out of the tree, a submodule, hooks that would
/// leave a marker file if anything ran them.
@Suite struct SourceSafetyTests {
    @Test(.integration) func hostileRepositoryIsCheckedOutWithoutFollowingOrRunningAnything() async throws {
        let scratch = try GitFixture.makeTemporaryDirectory(prefix: "hostile")
        defer { GitFixture.removeTree(scratch) }
        let marker = scratch.appendingPathComponent("hook-ran")
        let outside = scratch.appendingPathComponent("outside-secret")
        try Data("secret\n".utf8).write(to: outside)

        // A second repository for the submodule entry to point at: if anything cloned it,
        // its file would show up in the submodule directory.
        let other = try GitFixture.create(in: scratch, name: "other", files: ["planted.txt": "planted\n"])
        let fixture = try GitFixture.create(in: scratch, files: [
            "specs/hosts.yaml": "kind: Host\n",
            // A checked-in "hook": with core.hooksPath it would run under git; never here.
            ".githooks/post-checkout": "#!/bin/sh\ntouch \(marker.path)\n",
        ])
        try fixture.commitSymlink("specs/absolute", target: outside.path)
        try fixture.commitSymlink("specs/relative", target: "../../../../outside-secret")
        try fixture.commitSymlink("specs/up-one", target: "..")                  // the tree root: fine
        try fixture.commitSymlink("specs/to-up-one", target: "up-one/..")        // root's parent: out
        try fixture.commitSymlink("specs/inside", target: "hosts.yaml")          // fine
        try fixture.commitSymlink("specs/chain", target: "inside")               // fine
        try fixture.commitSymlink("loop-a", target: "loop-b")
        try fixture.commitSymlink("loop-b", target: "loop-a")
        try fixture.commitSymlink("dangling-out", target: "missing/../../x")
        let revision = try fixture.commitSubmoduleEntry(path: "vendor/sub", url: other.path, commit: try other.headSHA())

        // Hooks last: the fixture's own pushes would run the receive-side ones.
        let hook = "#!/bin/sh\ntouch \(marker.path)\n"
        for name in ["post-checkout", "post-merge", "post-rewrite", "post-update", "reference-transaction", "pre-receive"] {
            try fixture.installHook(name, script: hook)
        }

        let cache = scratch.appendingPathComponent("cache")
        let tree = try await GitSource(url: fixture.fileURL, ref: nil, cacheDirectory: cache).fetch()
        let root = tree.root

        #expect(tree.revision == revision)
        let removed = ["dangling-out", "loop-a", "loop-b", "specs/absolute", "specs/relative", "specs/to-up-one"]
        #expect(tree.removedSymlinks == removed)
        for path in removed {
            var info = stat()
            #expect(lstat(root.appendingPathComponent(path).path, &info) != 0, "\(path) still present")
        }
        // Links that stay inside the tree keep working.
        #expect(try String(contentsOf: root.appendingPathComponent("specs/chain"), encoding: .utf8) == "kind: Host\n")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root.appendingPathComponent("specs/up-one").path) == "..")

        // The submodule is an empty directory; nothing was cloned into it.
        let submodule = root.appendingPathComponent("vendor/sub").path
        #expect(try FileManager.default.contentsOfDirectory(atPath: submodule).isEmpty)

        // No hook ran, here or on the "server" side.
        #expect(!FileManager.default.fileExists(atPath: marker.path))

        // A second fetch of the same commit reuses the checked tree and still reports the links.
        let again = try await GitSource(url: fixture.path, ref: "main", cacheDirectory: cache).fetch()
        #expect(again.root == root)
        #expect(again.removedSymlinks == removed)
        #expect(!FileManager.default.fileExists(atPath: marker.path))

        // The hooks do work: a push (the git CLI runs receive hooks) leaves the marker,
        // so its absence above means nothing ran them.
        try fixture.commit(files: ["later.yaml": "x\n"], message: "later")
        #expect(FileManager.default.fileExists(atPath: marker.path))
    }

    @Test(.unit) func linkResolutionStaysInside() throws {
        let root = try GitFixture.makeTemporaryDirectory(prefix: "links")
        defer { GitFixture.removeTree(root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("a/b"), withIntermediateDirectories: true)
        symlink("../..", root.appendingPathComponent("a/b/top").path)       // root itself
        symlink("top/..", root.appendingPathComponent("a/b/above").path)    // out
        symlink("./../b/./top", root.appendingPathComponent("a/b/dots").path)
        #expect(TreeSafety.staysInside(root: root.path, link: ["a", "b", "top"]))
        #expect(!TreeSafety.staysInside(root: root.path, link: ["a", "b", "above"]))
        #expect(TreeSafety.staysInside(root: root.path, link: ["a", "b", "dots"]))
    }
}
