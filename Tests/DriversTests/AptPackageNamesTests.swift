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
        #expect(apt.configurableHTTPProxy == "node-configurable-http-proxy")
        #expect([apt.rBase, apt.rBuildTools, apt.rKernel, apt.rRemotes]
                == ["r-base-core", "r-base-dev", "r-cran-irkernel", "r-cran-remotes"])
    }
}
