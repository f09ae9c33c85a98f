import Foundation
import LabsyncTestSupport
@testable import PackageIndex
import Specs
import Testing

/// Which versions of the served test index install where: one row per rule.
@Suite(.serialized, .integration) struct InstallabilityTests {
    struct Row: Sendable, CustomStringConvertible {
        var project: String
        var python: String
        var platform = InstallTarget.defaultPlatform
        var expected: [String]
        var why: String
        var description: String { "\(project) on \(python) \(platform): \(why)" }
    }

    static let rows: [Row] = [
        Row(project: "numpy", python: "3.10", expected: ["1.21.0"],
            why: "cp38/cp39 wheels don't fit 3.10, the sdist does (requires-python <3.11)"),
        Row(project: "numpy", python: "3.9", expected: ["1.21.0"], why: "the legacy manylinux1 cp39 wheel"),
        Row(project: "numpy", python: "3.11", expected: ["2.1.0"], why: "requires-python >=3.10 excludes 1.21.0's files"),
        Row(project: "numpy", python: "3.13", expected: ["2.3.0rc1"],
            why: "2.1.0 only has musllinux and macOS wheels for cp313, 2.2.0 is yanked"),
        Row(project: "numpy", python: "3.13", platform: "musllinux_1_2_x86_64", expected: ["2.1.0"],
            why: "the musllinux wheel; the manylinux rc is not for musl"),
        Row(project: "numpy", python: "3.13", platform: "manylinux_2_17_x86_64", expected: [],
            why: "the rc needs glibc 2.28"),
        Row(project: "cp312-only", python: "3.12", expected: ["1.0"], why: "exact match"),
        Row(project: "cp312-only", python: "3.13", expected: [], why: "a cp312 ABI wheel is not for 3.13"),
        Row(project: "cp312-only", python: "3.11", expected: [], why: "nor for 3.11"),
        Row(project: "abi3-pkg", python: "3.8", expected: [], why: "cp39-abi3 needs 3.9+; the cp37 one is aarch64"),
        Row(project: "abi3-pkg", python: "3.12", expected: ["44.0"], why: "cp39-abi3 works on later CPythons; cp313-abi3 does not on 3.12"),
        Row(project: "abi3-pkg", python: "3.13", expected: ["44.0", "42.0"], why: "both abi3 wheels"),
        Row(project: "abi3-pkg", python: "3.12", platform: "manylinux_2_28_aarch64", expected: ["43.0"], why: "the aarch64 manylinux2014 wheel"),
        Row(project: "pure-lib", python: "3.11", expected: ["1.0"], why: "py3-none-any; py2 only is not; the sdist needs 3.12"),
        Row(project: "pure-lib", python: "3.12", expected: ["2.0", "1.0"], why: "3.12 is 3.12.0: >=3.12.4 excludes 2.1"),
        Row(project: "pure-lib", python: "3.12.4", expected: ["2.1", "2.0", "1.0"], why: "a full version satisfies >=3.12.4"),
        Row(project: "macos-only", python: "3.13", expected: [], why: "macOS wheels only"),
        Row(project: "musl-only", python: "3.12", expected: [], why: "musllinux is not manylinux"),
        Row(project: "musl-only", python: "3.12", platform: "musllinux_1_2_x86_64", expected: ["1.0"], why: "on musl it is"),
        Row(project: "odd-requires", python: "3.12", expected: ["1.0"], why: "an invalid requires-python is ignored, as pip does"),
        Row(project: "django", python: "3.12", expected: ["5.1"], why: "sdist and wheel of one release: listed once"),
    ]

    @Test(arguments: [false, true])
    func everyRuleOverJSONAndHTML(htmlOnly: Bool) async throws {
        let server = try await IndexServer.start(htmlOnly: htmlOnly)
        defer { Task { await server.stop() } }
        let client = IndexClient(settings: IndexSettings(url: server.url), cacheDirectory: nil)
        for row in Self.rows {
            let files = try await client.files(project: row.project)
            let target = try InstallTarget(python: row.python, platform: row.platform)
            let versions = Installability(target: target).installableVersions(files, project: row.project)
            #expect(versions.map(\.version.description) == row.expected, "\(row)")
        }
    }

    @Test func detailsSayWhatWouldBeInstalled() throws {
        let files = [
            IndexFile(filename: "django-5.1.tar.gz", url: ""),
            IndexFile(filename: "Django-5.1-py3-none-any.whl", url: ""),
            IndexFile(filename: "django-5.2a1-py3-none-any.whl", url: ""),
        ]
        let versions = Installability(target: try InstallTarget(python: "3.12")).installableVersions(files, project: "Django")
        #expect(versions.map(\.description) == ["5.2a1  wheel  pre-release", "5.1  wheel+sdist"])
        #expect(versions[1].files == ["Django-5.1-py3-none-any.whl", "django-5.1.tar.gz"])
    }

    @Test func verdictsExplainExclusions() throws {
        let i = Installability(target: try InstallTarget(python: "3.13"))
        #expect(i.verdict(IndexFile(filename: "a-1.0.tar.gz", url: "", yanked: "bad"), project: "a").0 == .yanked)
        #expect(i.verdict(IndexFile(filename: "a-1.0.tar.gz", url: "", requiresPython: "<3.13"), project: "a").0 == .requiresPython("<3.13"))
        #expect(i.verdict(IndexFile(filename: "a-1.0-cp312-cp312-manylinux1_x86_64.whl", url: ""), project: "a").0 == .incompatibleTags)
        #expect(i.verdict(IndexFile(filename: "a-1.0.egg", url: ""), project: "a").0 == .unrecognizedFilename)
    }
}
