import Foundation
import LabsyncTestSupport
@testable import PackageIndex
import Specs
import Testing

@Suite(.unit) struct NameIndexTests {
    static let names = [
        "scikit-learn", "Scikit_Image", "scipy", "scikits.odes", "sklearn", "learn2learn", "pylearn-tools",
        "numpy", "numpy-quaternion", "NumPy", "django", "django-rest-framework", "a", "ab", "requests", "cryptography",
    ]

    private func build(_ names: [String] = NameIndexTests.names) async throws -> NameIndex {
        let index = NameIndex(stateDirectory: URL(fileURLWithPath: try Spawn.makeTempDirectory(prefix: "pkgindex-names")))
        try await index.rebuild(names: names, indexURL: "http://test/simple/", validator: "\"v1\"")
        return index
    }

    @Test func namesAreNormalizedAndDeduplicated() async throws {
        let index = try await build()
        let reader = try index.open()
        let info = try reader.info()
        #expect(info.count == NameIndexTests.names.count - 1)  // NumPy = numpy
        #expect(info.indexURL == "http://test/simple/" && info.validator == "\"v1\"")
        #expect(try reader.contains("Scikit.Image") && !reader.contains("scikit"))
    }

    @Test func prefixMatchesComeFirstThenSubstrings() async throws {
        let reader = try await build().open()
        #expect(try reader.search("scik") == ["scikit-image", "scikit-learn", "scikits-odes"])
        // Substring matches follow the prefix ones, alphabetically.
        #expect(try reader.search("learn") == ["learn2learn", "pylearn-tools", "scikit-learn", "sklearn"])
        #expect(try reader.search("Scikit_L") == ["scikit-learn"])
        #expect(try reader.search("numpy") == ["numpy", "numpy-quaternion"])
        #expect(try reader.search("learn", limit: 2) == ["learn2learn", "pylearn-tools"])
    }

    @Test func shortQueriesArePrefixOnly() async throws {
        let reader = try await build().open()
        #expect(try reader.search("a") == ["a", "ab"])
        #expect(try reader.search("ar") == [])
        #expect(try reader.search("%") == [])
        #expect(try reader.search("") == [])
    }

    @Test func closestNamesForAMisspelling() async throws {
        let reader = try await build().open()
        #expect(try reader.closest(to: "scikit-lern").first == "scikit-learn")
        #expect(try reader.closest(to: "sckit_learn").first == "scikit-learn")
        #expect(try reader.closest(to: "djagno") == ["django"])
        #expect(try reader.closest(to: "reqeusts") == ["requests"])
        #expect(try reader.closest(to: "zzzzzzzz") == [])
    }

    @Test func rebuildReplacesTheNames() async throws {
        let index = try await build()
        try await index.rebuild(names: ["only-this"], indexURL: "http://other/", validator: nil)
        let reader = try index.open()
        #expect(try reader.search("only") == ["only-this"])
        #expect(try reader.search("numpy") == [])
        #expect(try reader.info().validator == nil)
    }

    @Test func missingIndexSaysToRefresh() throws {
        let index = NameIndex(stateDirectory: URL(fileURLWithPath: "/nonexistent/state"))
        #expect { try index.open() } throws: { ($0 as? IndexError)?.kind == .noLocalIndex }
    }

    @Test func editDistanceCountsTranspositionsOnce() {
        #expect(editDistance("djagno", "django") == 1)
        #expect(editDistance("kitten", "sitting") == 3)
        #expect(editDistance("", "abc") == 3)
        #expect(editDistance("abcdef", "uvwxyz", limit: 2) == 3)
    }
}

@Test(.unit, arguments: ["Foo__Bar.baz", "A-B", "x", "--a..", "Ünïcode_Name", "ZOPE.Interface", ""])
func fastNormalizationAgreesWithSpecs(_ name: String) {
    #expect(NameIndex.normalize(name) == normalizePackageName(name))
}
