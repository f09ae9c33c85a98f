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
        // A derivative's own numbering says nothing about Debian's releases.
        #expect(proxy("raspbian", "11") == "node-configurable-http-proxy")
    }
}
