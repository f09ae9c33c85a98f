// What the R driver's observe fragment (Scripts/r_observe.py) reports.

/// Asked of the fragment on a host with REnvironments (and always, for the
/// default root, so libraries made by hand there are listed).
public struct RObservationRequest: Sendable, Hashable, Codable {
    /// Directories whose immediate subdirectories are R libraries.
    public var roots: [String]
    /// Where R may live (`R.home()`): base's DESCRIPTION there gives the version.
    public var rHomes: [String]
    /// The `R` front end, first executable wins.
    public var rBinaries: [String]
    /// Libraries searched for `systemPackages` (Debian's r-cran-* land in site-library).
    public var systemLibraries: [String]
    /// Packages the plan may need system-wide: remotes (pins), IRkernel (kernels).
    public var systemPackages: [String]
    /// What building source packages needs (r-base-dev): reported when present.
    public var buildTools: [String]

    public init(roots: [String], rHomes: [String] = RDriver.rHomes, rBinaries: [String] = RDriver.rBinaries,
                systemLibraries: [String] = RDriver.systemLibraries,
                systemPackages: [String] = RDriver.systemPackages, buildTools: [String] = RDriver.buildTools) {
        self.roots = roots
        self.rHomes = rHomes
        self.rBinaries = rBinaries
        self.systemLibraries = systemLibraries
        self.systemPackages = systemPackages
        self.buildTools = buildTools
    }
}

public struct RObservation: Sendable, Hashable, Codable {
    /// The system R's version (base's DESCRIPTION); nil: no R on the host.
    public var r: String?
    public var rHome: String?
    /// The `R` front end; nil when none is executable.
    public var rBinary: String?
    /// Of `RDriver.systemPackages`, those installed system-wide: name → version.
    public var systemPackages: [String: String]
    /// Of `RDriver.buildTools`, those present.
    public var buildTools: [String]
    /// Every directory directly under the observed roots, marked or not.
    public var libraries: [RLibraryObservation]

    public init(r: String? = nil, rHome: String? = nil, rBinary: String? = nil, systemPackages: [String: String] = [:],
                buildTools: [String] = [], libraries: [RLibraryObservation] = []) {
        self.r = r
        self.rHome = rHome
        self.rBinary = rBinary
        self.systemPackages = systemPackages
        self.buildTools = buildTools
        self.libraries = libraries
    }

    public func library(at path: String) -> RLibraryObservation? { libraries.first { $0.path == path } }
}

public struct RLibraryObservation: Sendable, Hashable, Codable {
    public var path: String
    public var packages: [RPackage]
    /// `<path>/.labsync.json` (its `python` field holds the R version); nil: not labsync's.
    public var marker: LabsyncMarker?
    /// The marker exists but cannot be read: the library is left alone.
    public var markerError: String?

    public init(path: String, packages: [RPackage] = [], marker: LabsyncMarker? = nil, markerError: String? = nil) {
        self.path = path
        self.packages = packages
        self.marker = marker
        self.markerError = markerError
    }
}

/// An installed R package, from `<lib>/<pkg>/DESCRIPTION`.
public struct RPackage: Sendable, Hashable, Codable {
    /// `Package:` (case-sensitive, as R has it).
    public var name: String
    public var version: String
    /// Names from Depends, Imports and LinkingTo (without R itself).
    public var requires: [String]
    /// `Built:` ("R 4.2.2; ; 2024-…; unix"); nil for a package never installed by R.
    public var built: String?

    public init(name: String, version: String, requires: [String] = [], built: String? = nil) {
        self.name = name
        self.version = version
        self.requires = requires
        self.built = built
    }
}
