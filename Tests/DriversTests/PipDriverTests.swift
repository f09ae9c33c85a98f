import Drivers
import Foundation
import LabsyncTestSupport
import Remote
import Specs
import Testing

@Suite(.unit) struct MarkerEvaluationTests {
    let py311 = markerEnvironment(pythonVersion: "3.11.2", machine: "x86_64")

    @Test(arguments: [
        (#"python_version >= "3.8""#, true),
        (#"python_version < "3.11""#, false),
        (#""3.8" < python_version"#, true),
        (#"python_full_version == "3.11.2" and os_name == "posix""#, true),
        (#"sys_platform == "win32" or (platform_system == "Linux" and implementation_name == "cpython")"#, true),
        (#"sys_platform == "win32" or platform_machine == "aarch64""#, false),
        (#"python_version in "3.10 3.11""#, true),
        (#"python_version not in "3.10 3.11""#, false),
        (#"python_version == "3.*""#, true),
        // Unknown variables count as true: pip has the last word.
        (#"platform_release == "6.1" and python_version < "3""#, false),
        (#"platform_release == "6.1""#, true),
    ])
    func evaluates(_ marker: String, _ expected: Bool) {
        #expect(evaluateMarker(marker, environment: py311) == expected, "\(marker)")
    }

    @Test func partialVersionsLeaveUnknownPartsTrue() {
        let fromAPT = markerEnvironment(pythonVersion: "3.13", machine: nil)
        #expect(evaluateMarker(#"python_version < "3.13""#, environment: fromAPT) == false)
        #expect(evaluateMarker(#"python_full_version < "3.13.1""#, environment: fromAPT) == true)
        let unknown = markerEnvironment(pythonVersion: "3", machine: nil)
        #expect(evaluateMarker(#"python_version < "3.8""#, environment: unknown) == true)
    }

    /// Every marker the PEP 508 parser accepts prints in a form the evaluator reads.
    @Test func canonicalMarkersFromTheParser() throws {
        let r = try Requirement(parsing: #"x; (python_version<'3.8' or os_name=="nt") and sys_platform != 'darwin'"#)
        let marker = try #require(r.marker)
        #expect(evaluateMarker(marker, environment: py311) == false)
        #expect(evaluateMarker(marker, environment: markerEnvironment(pythonVersion: "3.7.1", machine: nil)) == true)
    }
}

@Suite(.unit) struct PipCommandTests {
    @Test func indexArgumentsInPipOrder() {
        let index = IndexSettings(url: "https://m/simple", extraUrls: ["https://a", "https://b"],
                                  findLinks: ["/srv/w"], noIndex: true)
        #expect(indexArguments(index) == ["--index-url", "https://m/simple", "--extra-index-url", "https://a",
                                          "--extra-index-url", "https://b", "--find-links", "/srv/w", "--no-index"])
        #expect(indexArguments(nil) == [])
    }

    @Test func observationRequestAsksForWantedPythons() throws {
        let loaded = SpecLoader().load(directory: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../ReconcilerTests/Fixtures/planner/uv-and-markers/specs").standardized)
        try #require(loaded.isValid, "\(loaded.diagnostics)")
        let request = PipDriver.observationRequest(for: loaded.specs.environments)
        #expect(request.roots == [PythonEnvironmentSpec.defaultRoot])
        #expect(request.pythons == ["3.99"])
        #expect(request.uv == PipDriver.uvToolPath)
    }
}

/// The remove command checks for the marker on the host at run time, so even a
/// stale plan cannot delete a venv labsync did not make.
@Suite(.integration) struct RemoveGuardTests {
    @Test func removeRefusesAnUnmarkedDirectory() throws {
        let root = try LocalRunner.temporaryDirectory("remove-guard")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: "\(root)/hand", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(root)/marked", withIntermediateDirectories: true)
        try "{}".write(toFile: "\(root)/marked/.labsync.json", atomically: true, encoding: .utf8)

        func remove(_ path: String) throws -> LocalResult {
            try LocalRunner.run(PipDriver.removeEnvironmentCommand(path: path, become: .none))
        }
        let refused = try remove("\(root)/hand")
        #expect(refused.status == 3)
        #expect(FileManager.default.fileExists(atPath: "\(root)/hand"))
        #expect(try remove("\(root)/marked").status == 0)
        #expect(!FileManager.default.fileExists(atPath: "\(root)/marked"))
        #expect(try remove("\(root)/never-existed").status == 0, "removing what is gone is done")
    }
}
