// The APT names drivers install come from one place, chosen by the host's
// os-release ID: Debian's names are what `make test-distros` installs on
// Debian 11-13; Ubuntu (untested here: its archives are unreachable) takes the
// same names through its own, explicit branch.

import Drivers
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
/// copies of the `make test-distros` roots' files; the others are written
/// from the distributions' published files, not read from a live host here).
enum OSReleaseSamples {
    static let files: [String: String] = [
        "debian-11": """
            PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"
            NAME="Debian GNU/Linux"
            VERSION_ID="11"
            VERSION="11 (bullseye)"
            VERSION_CODENAME=bullseye
            ID=debian
            HOME_URL="https://www.debian.org/"
            """,
        "debian-13": """
            PRETTY_NAME="Debian GNU/Linux 13 (trixie)"
            NAME="Debian GNU/Linux"
            VERSION_ID="13"
            VERSION="13 (trixie)"
            VERSION_CODENAME=trixie
            DEBIAN_VERSION_FULL=13.8
            ID=debian
            """,
        "ubuntu-22.04": """
            PRETTY_NAME="Ubuntu 22.04.4 LTS"
            NAME="Ubuntu"
            VERSION_ID="22.04"
            VERSION="22.04.4 LTS (Jammy Jellyfish)"
            VERSION_CODENAME=jammy
            ID=ubuntu
            ID_LIKE=debian
            UBUNTU_CODENAME=jammy
            """,
        "raspbian-11": """
            PRETTY_NAME="Raspbian GNU/Linux 11 (bullseye)"
            NAME="Raspbian GNU/Linux"
            VERSION_ID="11"
            VERSION="11 (bullseye)"
            VERSION_CODENAME=bullseye
            ID=raspbian
            ID_LIKE=debian
            """,
        "raspbian-12": """
            PRETTY_NAME="Raspbian GNU/Linux 12 (bookworm)"
            NAME="Raspbian GNU/Linux"
            VERSION_ID="12"
            VERSION="12 (bookworm)"
            VERSION_CODENAME=bookworm
            ID=raspbian
            ID_LIKE=debian
            """,
        "devuan-4": """
            PRETTY_NAME="Devuan GNU/Linux 4 (chimaera)"
            NAME="Devuan GNU/Linux"
            VERSION_ID="4"
            VERSION="4 (chimaera)"
            VERSION_CODENAME="chimaera"
            ID=devuan
            ID_LIKE=debian
            """,
        "lmde-6": """
            PRETTY_NAME="LMDE 6 (faye)"
            NAME="LMDE"
            VERSION_ID="6"
            VERSION="6 (faye)"
            VERSION_CODENAME=faye
            ID=linuxmint
            ID_LIKE=debian
            DEBIAN_CODENAME=bookworm
            """,
        "mint-21.3": """
            NAME="Linux Mint"
            VERSION="21.3 (Virginia)"
            ID=linuxmint
            ID_LIKE="ubuntu debian"
            PRETTY_NAME="Linux Mint 21.3"
            VERSION_ID="21.3"
            VERSION_CODENAME=virginia
            UBUNTU_CODENAME=jammy
            """,
        "mint-22": """
            NAME="Linux Mint"
            VERSION="22 (Wilma)"
            ID=linuxmint
            ID_LIKE="ubuntu debian"
            PRETTY_NAME="Linux Mint 22"
            VERSION_ID="22"
            VERSION_CODENAME=wilma
            UBUNTU_CODENAME=noble
            """,
        "pop-22.04": """
            NAME="Pop!_OS"
            VERSION="22.04 LTS"
            ID=pop
            ID_LIKE="ubuntu debian"
            PRETTY_NAME="Pop!_OS 22.04 LTS"
            VERSION_ID="22.04"
            VERSION_CODENAME=jammy
            UBUNTU_CODENAME=jammy
            """,
        "kali-rolling": """
            PRETTY_NAME="Kali GNU/Linux Rolling"
            NAME="Kali GNU/Linux"
            VERSION_ID="2024.1"
            VERSION="2024.1"
            VERSION_CODENAME=kali-rolling
            ID=kali
            ID_LIKE=debian
            """,
    ]

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
        let text = "labsync-observe-fallback 1\nsystemd=0\nmachine=x86_64\n" + (files[name] ?? "") + "\n"
        return try decodeObservation(Array(text.utf8)).os
    }
}
