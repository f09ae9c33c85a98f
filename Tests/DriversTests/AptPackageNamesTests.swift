// The APT names drivers install come from one place, chosen by the host's
// os-release ID: Debian's names are what `make test-distros` installs on
// Debian 11-13; Ubuntu (untested here: its archives are unreachable) takes the
// same names through its own, explicit branch.

import Drivers
import Foundation
import LabsyncTestSupport
import Testing

@Suite(.unit) struct AptPackageNamesTests {
    @Test func familyFromOSRelease() {
        #expect(AptPackageNames(os: .init(id: "ubuntu", versionId: "24.04")).family == .ubuntu)
        #expect(AptPackageNames(os: .init(id: "debian", versionId: "13")).family == .debian)
        // Unknown or missing os-release: Debian's packaging.
        #expect(AptPackageNames(os: .init()).family == .debian)
        #expect(AptPackageNames(os: .init(id: "raspbian")).family == .debian)
    }

    @Test(arguments: [AptPackageNames.Family.debian, .ubuntu])
    func names(_ family: AptPackageNames.Family) {
        let apt = AptPackageNames(family: family)
        #expect(apt.python(minor: nil) == "python3")
        #expect(apt.python(minor: "3.11") == "python3.11")
        #expect(apt.venv(forPython: apt.python(minor: "3.13")) == "python3.13-venv")
        #expect(apt.venv(forPython: "python3") == "python3-venv")
        #expect(apt.configurableHTTPProxy == "node-configurable-http-proxy")  // no release: a current one
        #expect([apt.rBase, apt.rBuildTools, apt.rKernel, apt.rRemotes]
                == ["r-base-core", "r-base-dev", "r-cran-irkernel", "r-cran-remotes"])
    }

    /// Debian 11 packages no configurable-http-proxy (its APT was asked by
    /// `make test-distros`); Ubuntu before 24.04 is taken to have none.
    @Test func configurableHTTPProxyByRelease() {
        func proxy(_ id: String, _ version: String) -> String? {
            AptPackageNames(os: .init(id: id, versionId: version)).configurableHTTPProxy
        }
        #expect(proxy("debian", "11") == nil)
        #expect(proxy("debian", "10") == nil)
        #expect(proxy("debian", "12") == "node-configurable-http-proxy")
        #expect(proxy("debian", "13") == "node-configurable-http-proxy")
        #expect(proxy("debian", "") == "node-configurable-http-proxy")   // testing/sid has no VERSION_ID
        #expect(proxy("ubuntu", "22.04") == nil)
        #expect(proxy("ubuntu", "24.04") == "node-configurable-http-proxy")
        // A derivative's own VERSION_ID says nothing about its base: without a
        // codename labsync knows, it reads as a current release.
        #expect(proxy("raspbian", "11") == "node-configurable-http-proxy")
        #expect(proxy("linuxmint", "21.3") == "node-configurable-http-proxy")
    }

    /// Derivatives take their base's names and release, read from the
    /// codenames in their os-release (the files below, decoded by the same
    /// parser as an observation without python3; ObserveScriptTests checks
    /// that the observe script's parser reads them alike).
    @Test(arguments: OSReleaseSamples.expected)
    func derivativesByTheirBase(_ sample: OSReleaseSamples.Expectation) throws {
        let os = try OSReleaseSamples.decodeWithFallbackParser(sample.name)
        let apt = AptPackageNames(os: os)
        #expect(apt.family == sample.family, "\(sample.name)")
        #expect(apt.release == sample.release, "\(sample.name)")
        #expect(HubProxy(apt: apt) == sample.proxy, "\(sample.name)")
    }
}

/// os-release files of Debian, Ubuntu and derivatives a lab machine may run,
/// with the keys and values those distributions ship (Debian 11 and 13 are
/// the `make test-distros` roots' files; the others are written from the
/// distributions' published files, not read from a live host here).
/// `make test-distros` turns its Debian 11 root into Raspbian 11 with
/// `raspbian-11`, so the file this suite checks is the one that tier runs.
enum OSReleaseSamples {
    /// Fixtures/os-release/NAME, one file per distribution.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/os-release")
    static let files: [String: String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return Dictionary(uniqueKeysWithValues: names.compactMap { name in
            (try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)).map { (name, $0) }
        })
    }()

    struct Expectation: Sendable, CustomTestStringConvertible {
        let name: String
        let family: AptPackageNames.Family
        let release: String
        let proxy: HubProxy
        var testDescription: String { name }
    }

    /// The proxy is the visible consequence: Debian 11 and Ubuntu before 24.04
    /// bases have no node-configurable-http-proxy package.
    static let expected: [Expectation] = [
        .init(name: "debian-11", family: .debian, release: "11", proxy: .python),
        .init(name: "debian-13", family: .debian, release: "13", proxy: .node),
        .init(name: "ubuntu-22.04", family: .ubuntu, release: "22.04", proxy: .python),
        .init(name: "raspbian-11", family: .debian, release: "11", proxy: .python),
        .init(name: "raspbian-12", family: .debian, release: "12", proxy: .node),
        .init(name: "devuan-4", family: .debian, release: "11", proxy: .python),
        .init(name: "lmde-6", family: .debian, release: "12", proxy: .node),
        .init(name: "mint-21.3", family: .ubuntu, release: "22.04", proxy: .python),
        .init(name: "mint-22", family: .ubuntu, release: "24.04", proxy: .node),
        .init(name: "pop-22.04", family: .ubuntu, release: "22.04", proxy: .python),
        .init(name: "kali-rolling", family: .debian, release: "", proxy: .node),  // rolling: current
    ]

    /// The file as the observe wrapper prints it on a host without python3.
    static func decodeWithFallbackParser(_ name: String) throws -> HostObservation.OperatingSystem {
        #expect(files[name] != nil, "no Fixtures/os-release/\(name)")
        let text = "labsync-observe-fallback 1\nsystemd=0\nmachine=x86_64\n" + (files[name] ?? "") + "\n"
        return try decodeObservation(Array(text.utf8)).os
    }
}
