// The APT package names drivers install on a host, in one place, chosen by the
// host's distribution family (`ID`, `ID_LIKE` and the codenames in
// /etc/os-release, observed every run).
//
// Debian 11, 12 and 13 are tested with these names (`make test-distros`:
// python3-venv and node-configurable-http-proxy are installed by labsync
// itself there). Ubuntu is NOT tested: its archives are not reachable from the
// machines labsync is developed on. Ubuntu takes the same names, as Debian
// packaging is where they come from; what differs there is where the packages
// live, noted on each name:
//   - python3.X for a minor other than the release's default is not in
//     Ubuntu's archive at all (Debian has one python3.X per release too); the
//     deadsnakes PPA provides it under the same names, python3.X and
//     python3.X-venv. labsync asks APT which python3.X it offers (apt-cache)
//     before planning, so a missing minor is a plan error, not a failed apt.
//   - node-configurable-http-proxy and the r-cran-* packages are in Ubuntu's
//     universe component, which cloud images enable but minimal installs may not.
//   - node-configurable-http-proxy first shipped in Debian 12 (bookworm). Debian
//     11 has none (`make test-distros` checks its APT), and Ubuntu before 24.04
//     is taken to have none either (untested, so the safe side): there the hub
//     runs the pure-Python proxy from PyPI instead (see HubProxy).
// Derivatives (Raspbian, Linux Mint, LMDE, Devuan, Pop!_OS, Kali) use their
// base's packaging but number their own releases ("Raspbian 11" happens to be
// Debian 11, "Linux Mint 21" is Ubuntu 22.04, "Devuan 4" is Debian 11). Their
// base release comes from the codename os-release names (below), never from
// their VERSION_ID; an unknown codename (Kali's "kali-rolling") reads as a
// current release, as Debian testing does.
// A family that needs another name gets its own case in the switches below,
// not a condition inside a driver.

/// Debian's or Ubuntu's name for each package a driver installs.
public struct AptPackageNames: Sendable, Hashable {
    public enum Family: String, Sendable, Hashable {
        case debian, ubuntu
    }

    public let family: Family
    /// os-release `VERSION_ID` ("11", "24.04"); empty when unknown (Debian
    /// testing, an old recording), which reads as a current release.
    public let release: String

    public init(family: Family, release: String = "") {
        self.family = family
        self.release = release
    }

    /// From the observed os-release: Ubuntu's names for Ubuntu and what is
    /// like it (`ID_LIKE`), Debian's for anything else (Debian derivatives and
    /// unknown hosts use Debian's packaging). The release is Debian's or
    /// Ubuntu's own VERSION_ID, or a derivative's base by codename.
    public init(os: HostObservation.OperatingSystem) {
        let like = (os.idLike ?? "").split(separator: " ").map(String.init)
        switch os.id {
        case "debian":
            (family, release) = (.debian, os.versionId)
        case "ubuntu":
            (family, release) = (.ubuntu, os.versionId)
        case _ where like.contains("ubuntu"):
            // Mint and Pop!_OS say UBUNTU_CODENAME; their VERSION_CODENAME is their own.
            family = .ubuntu
            release = [os.ubuntuCodename, os.versionCodename].lazy.compactMap { $0.flatMap { Self.ubuntuReleases[$0] } }
                .first ?? ""
        default:
            // LMDE says DEBIAN_CODENAME; Raspbian's VERSION_CODENAME is Debian's.
            family = .debian
            release = [os.debianCodename, os.versionCodename].lazy.compactMap { $0.flatMap { Self.debianReleases[$0] } }
                .first ?? ""
        }
    }

    /// Debian's codenames, and Devuan's (each a Debian release without systemd).
    static let debianReleases = [
        "buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13", "forky": "14", "duke": "15",
        "beowulf": "10", "chimaera": "11", "daedalus": "12", "excalibur": "13",
    ]
    /// Ubuntu's codenames since 18.04, interim releases included.
    static let ubuntuReleases = [
        "bionic": "18.04", "focal": "20.04", "groovy": "20.10", "hirsute": "21.04", "impish": "21.10", "jammy": "22.04",
        "kinetic": "22.10", "lunar": "23.04", "mantic": "23.10", "noble": "24.04", "oracular": "24.10",
        "plucky": "25.04", "questing": "25.10",
    ]

    /// The interpreter: `python3` (the release's default) or `python3.X`.
    /// Ubuntu: the same names; other minors than the default from deadsnakes.
    public func python(minor: String?) -> String {
        switch family {
        case .debian, .ubuntu: minor.map { "python\($0)" } ?? "python3"
        }
    }

    /// venv support (ensurepip) for an interpreter package: `python3-venv`, `python3.X-venv`.
    public func venv(forPython package: String) -> String {
        switch family {
        case .debian, .ubuntu: package + "-venv"
        }
    }

    /// The `openssl` command (a self-signed hub certificate). Ubuntu: main.
    public var openssl: String {
        switch family {
        case .debian, .ubuntu: "openssl"
        }
    }

    /// JupyterHub's proxy (/usr/bin/configurable-http-proxy), or nil where the
    /// release has no package for it: Debian before 12, Ubuntu before 24.04.
    /// Ubuntu: universe.
    public var configurableHTTPProxy: String? {
        switch family {
        case .debian: releaseBefore(12) ? nil : "node-configurable-http-proxy"
        case .ubuntu: releaseBefore(24.04) ? nil : "node-configurable-http-proxy"
        }
    }

    /// The release is known and older than `version` (VERSION_ID as a number:
    /// "11", "22.04"). Unknown releases are taken as current.
    private func releaseBefore(_ version: Double) -> Bool {
        Double(release).map { $0 < version } ?? false
    }

    /// R itself, its build tools, the kernel and `remotes` (for pinned
    /// versions). Ubuntu: r-base-* in universe, as are r-cran-*.
    public var rBase: String {
        switch family { case .debian, .ubuntu: "r-base-core" }
    }
    public var rBuildTools: String {
        switch family { case .debian, .ubuntu: "r-base-dev" }
    }
    public var rKernel: String {
        switch family { case .debian, .ubuntu: "r-cran-irkernel" }
    }
    public var rRemotes: String {
        switch family { case .debian, .ubuntu: "r-cran-remotes" }
    }
}
