import Drivers
import Foundation
import LabsyncTestSupport
import Remote
import Testing

/// The observe script, run for real against venvs made by /usr/bin/python3.
@Suite struct ObserveScriptTests {
    /// A temp root with: a marked venv holding one fake distribution, a venv with a
    /// broken marker, a plain directory, and a file.
    func makeRoot() throws -> String {
        let root = try LocalRunner.temporaryDirectory("observe")
        for name in ["marked", "broken"] {
            let made = try LocalRunner.run(["/usr/bin/python3", "-m", "venv", "--without-pip", "\(root)/\(name)"])
            #expect(made.status == 0, "\(made.stderr)")
        }
        let minor = try #require(pythonMinor())
        let site = "\(root)/marked/lib/python\(minor)/site-packages"
        try FileManager.default.createDirectory(atPath: "\(site)/Foo_Bar-1.0.dist-info", withIntermediateDirectories: true)
        try """
            Metadata-Version: 2.1
            Name: Foo_Bar
            Version: 1.0
            Requires-Dist: Requests[socks] (>=2) ; extra == "x"
            Requires-Dist: idna

            Name: not-a-header (the description body)
            """.write(toFile: "\(site)/Foo_Bar-1.0.dist-info/METADATA", atomically: true, encoding: .utf8)
        // A dist-info without METADATA is skipped, not fatal.
        try FileManager.default.createDirectory(atPath: "\(site)/empty-0.1.dist-info", withIntermediateDirectories: true)
        try #"{"spec": "marked", "packages": ["foo-bar==1.0"], "python": "3.11.2", "writtenAt": "2025-01-01T00:00:00Z"}"#
            .write(toFile: "\(root)/marked/.labsync.json", atomically: true, encoding: .utf8)
        try #"{"spec": 42}"#.write(toFile: "\(root)/broken/.labsync.json", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: "\(root)/not-a-venv", withIntermediateDirectories: true)
        try "x".write(toFile: "\(root)/a-file", atomically: true, encoding: .utf8)
        return root
    }

    func pythonMinor() -> String? {
        guard let r = try? LocalRunner.run(["/usr/bin/python3", "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"]) else { return nil }
        return minorVersion(of: String(decoding: r.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test(.integration) func observesVenvsDistributionsAndMarkers() throws {
        let root = try makeRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let command = observeCommand(.pip(roots: [root, "/nonexistent/labsync-root", "\(root)/a-file"]),
                                     become: .none)
        let result = try LocalRunner.run(command)
        #expect(result.status == 0, "\(result.stderr)")
        let observation = try decodeObservation(result.stdout)

        let version = try LocalRunner.run(["/usr/bin/python3", "-c", "import platform; print(platform.python_version())"])
        let full = String(decoding: version.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(observation.pip.python3 == full)
        #expect(observation.pip.python3Path == "/usr/bin/python3")
        #expect(observation.pip.pythons.contains { $0.version == full && $0.path == "/usr/bin/python\(minorVersion(of: full))" })
        #expect(!observation.os.id.isEmpty)
        #expect(observation.pip.aptPythons.isEmpty, "APT is not queried when nothing is missing")
        #expect(observation.pip.uv == nil)

        #expect(observation.pip.environments.map(\.path) == ["\(root)/broken", "\(root)/marked"])
        let marked = try #require(observation.pip.environment(at: "\(root)/marked"))
        #expect(marked.python == full)
        #expect(marked.distributions == [Distribution(name: "foo-bar", version: "1.0", requires: ["idna", "requests"])])
        #expect(marked.marker == LabsyncMarker(spec: "marked", packages: ["foo-bar==1.0"], python: "3.11.2",
                                               writtenAt: "2025-01-01T00:00:00Z"))
        let broken = try #require(observation.pip.environment(at: "\(root)/broken"))
        #expect(broken.marker == nil)
        #expect(broken.markerError?.contains("does not look like a labsync marker") == true)
        #expect(observation.pip.unmanagedEnvironments.map(\.path) == ["\(root)/broken"])
    }

    @Test(.integration) func markerWrittenByLabsyncReadsBack() throws {
        let root = try LocalRunner.temporaryDirectory("observe-marker")
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try LocalRunner.run(["/usr/bin/python3", "-m", "venv", "--without-pip", "\(root)/env"])
        let marker = LabsyncMarker(spec: "env", packages: ["a==1", "b[x]>=2; python_version >= \"3.8\""], python: "3.11.2",
                                   repository: "lab-a")  // what --prune goes by (issue 11 #11)
        try Data(marker.fileContents(writtenAt: Date(timeIntervalSince1970: 0)))
            .write(to: URL(fileURLWithPath: "\(root)/env/\(LabsyncMarker.fileName)"))
        let observation = try decodeObservation(try LocalRunner.run(observeCommand(.pip(roots: [root]), become: .none)).stdout)
        var expected = marker
        expected.writtenAt = "1970-01-01T00:00:00Z"
        #expect(observation.pip.environments.first?.marker == expected)
    }

    @Test(.integration) func queriesAPTOnlyWhenAWantedPythonIsMissing() throws {
        // python3.99 is installed nowhere: the script asks APT (empty on non-Debian hosts).
        let command = observeCommand(.pip(roots: [], pythons: ["3.99"]), become: .none)
        let result = try LocalRunner.run(command)
        let observation = try decodeObservation(result.stdout)
        let hasAPT = FileManager.default.isExecutableFile(atPath: "/usr/bin/apt-cache")
        #expect(observation.pip.aptPythons.isEmpty == !hasAPT)
        #expect(observation.pip.aptPythons.allSatisfy { $0.hasPrefix("3.") })
    }

    @Test(.integration) func fallbackWithoutPython3ReportsOSFacts() throws {
        // The wrapper's no-python branch, run on its own.
        let lines = ObserveScript.wrapper.split(separator: "\n").drop { !$0.contains("labsync-observe-fallback") }
        let result = try LocalRunner.run(["/bin/sh", "-c", lines.joined(separator: "\n")])
        let observation = try decodeObservation(result.stdout)
        #expect(observation.pip.python3 == nil)
        #expect(observation.pip.environments.isEmpty)
        #expect(!observation.os.id.isEmpty)
        #expect(observation.os.machine?.isEmpty == false)
    }

    /// The observe script's os-release parser (observe_lib.py) and the one for
    /// hosts without python3 (ObserveScript.decodeFallback) read every sample
    /// alike, quotes and escapes included: a derivative's base must not
    /// depend on whether the host has python3.
    @Test(.integration) func bothOSReleaseParsersAgree() throws {
        let dir = try LocalRunner.temporaryDirectory("os-release")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var samples = OSReleaseSamples.files
        #expect(samples.count > 10, "the samples in Fixtures/os-release")
        samples["escapes"] = #"""
            ID='lab'
            PRETTY_NAME="Lab \"VM\" \$HOME \\ done"
            ID_LIKE="ubuntu debian"
              VERSION_ID = "1"
            """#
        let program = ObserveScript.lib + """

            import json, sys
            print(json.dumps(os_release(paths=[sys.argv[1]])))
            """
        for (name, text) in samples.sorted(by: { $0.key < $1.key }) {
            try text.write(toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8)
            let run = try LocalRunner.run(["/usr/bin/python3", "-c", program, "\(dir)/\(name)"])
            #expect(run.status == 0, "\(run.stderr)")
            var python = try JSONDecoder().decode(HostObservation.OperatingSystem.self, from: Data(run.stdout))
            let fallbackText = "labsync-observe-fallback 1\nsystemd=0\n" + text + "\n"
            var fallback = try decodeObservation(Array(fallbackText.utf8)).os
            python.machine = nil
            fallback.machine = nil
            #expect(python == fallback, "\(name)")
            #expect(!python.id.isEmpty, "\(name)")
        }
        let escapes = try decodeObservation(Array(("labsync-observe-fallback 1\n" + (samples["escapes"] ?? "")).utf8)).os
        #expect(escapes.id == "lab")
        #expect(escapes.versionId == "1")
        #expect(escapes.prettyName == #"Lab "VM" $HOME \ done"#)
        #expect(escapes.idLike == "ubuntu debian")
    }

    /// One driver's fragment raising costs only its own part: the others'
    /// parts and the core facts still arrive, in the same round trip.
    @Test(.integration) func aRaisingFragmentCostsOnlyItsOwnPart() throws {
        var request = ObservationRequest.pip(roots: [])
        request.drivers["boom"] = .object([:])
        request.fragments["boom"] = "def observe(request):\n    return request['missing']\n"
        let result = try LocalRunner.run(observeCommand(request, become: .none))
        #expect(result.status == 0, "\(result.stderr)")
        let observation = try decodeObservation(result.stdout)
        #expect(observation.pip.python3 != nil)
        #expect(observation.drivers["boom"] == nil)
        #expect(observation.driverErrors["boom"]?.contains("KeyError") == true)
        #expect(!observation.os.id.isEmpty)
    }

    @Test(.unit) func garbageIsAnErrorNotACrash() {
        #expect(throws: ObservationError.self) { try decodeObservation(Array("sudo: a password is required\n".utf8)) }
        #expect(throws: ObservationError.self) { try decodeObservation(Array(#"{"os": 1}"#.utf8)) }
    }
}
