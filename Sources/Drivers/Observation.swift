import Foundation

// What labsync saw on a host, as the observe script reports it (ObserveScript.swift).
// Plain Codable values: the planner is a pure function of these and the specs, so a
// recorded observation (a golden test's observed.json, a CI run without SSH) plans
// exactly like a live one.

/// One host, as observed in one SSH round trip.
public struct HostObservation: Sendable, Hashable, Codable {
    public struct OperatingSystem: Sendable, Hashable, Codable {
        /// `ID` from /etc/os-release ("debian"); empty when the file is missing.
        public var id: String
        /// `VERSION_ID` ("12"); empty when missing (Debian testing has none).
        public var versionId: String
        public var prettyName: String
        /// `uname -m` ("x86_64"), for the `platform_machine` marker.
        public var machine: String?
        public init(id: String, versionId: String, prettyName: String, machine: String? = nil) {
            self.id = id
            self.versionId = versionId
            self.prettyName = prettyName
            self.machine = machine
        }
    }

    public var os: OperatingSystem
    /// systemd is PID 1 (`/run/systemd/system` exists); containers usually say no.
    public var systemd: Bool
    /// Full version of the host's default python3 (`/usr/bin/python3`, else the
    /// first `python3` on PATH); nil when the host has none.
    public var python3: String?
    /// Where that python3 is.
    public var python3Path: String?
    /// Installed `python3.X` interpreters in /usr/local/bin and /usr/bin.
    public var pythons: [PythonInterpreter]
    /// Minor versions ("3.11") whose `python3.X` package the host's APT offers.
    /// Only queried when the observe request asked (apt-cache costs seconds);
    /// empty without APT.
    public var aptPythons: [String]
    /// labsync's uv (in its tool venv, `PipDriver.uvToolPath`), when installed.
    public var uv: String?
    /// Every venv directly under the observed roots, marked or not.
    public var environments: [EnvironmentObservation]
    /// labsync's JupyterHub on the host (JupyterHub/HubObservation.swift); nil when
    /// the request did not ask (no hub spec for this host) or an older script answered.
    public var hub: HubObservation?

    public init(os: OperatingSystem, systemd: Bool = false, python3: String? = nil, python3Path: String? = nil,
                pythons: [PythonInterpreter] = [], aptPythons: [String] = [], uv: String? = nil,
                environments: [EnvironmentObservation] = [], hub: HubObservation? = nil) {
        self.hub = hub
        self.os = os
        self.systemd = systemd
        self.python3 = python3
        self.python3Path = python3Path
        self.pythons = pythons
        self.aptPythons = aptPythons
        self.uv = uv
        self.environments = environments
    }

    /// Venvs that carry no labsync marker: listed, never deleted.
    public var unmanagedEnvironments: [EnvironmentObservation] { environments.filter { $0.marker == nil } }

    public func environment(at path: String) -> EnvironmentObservation? {
        environments.first { $0.path == path }
    }
}

public struct PythonInterpreter: Sendable, Hashable, Codable {
    /// Full version, "3.11.2".
    public var version: String
    /// "/usr/bin/python3.11".
    public var path: String
    /// `ensurepip` is importable, so `-m venv` can create venvs with pip
    /// (Debian splits it into python3.X-venv).
    public var venv: Bool
    public init(version: String, path: String, venv: Bool = true) {
        self.version = version
        self.path = path
        self.venv = venv
    }
    /// "3.11".
    public var minor: String { minorVersion(of: version) }
}

public struct EnvironmentObservation: Sendable, Hashable, Codable {
    public var path: String
    /// Full version from pyvenv.cfg (`version` or `version_info`); "" when unreadable.
    public var python: String
    public var distributions: [Distribution]
    /// `<path>/.labsync.json`; nil for a venv labsync did not create.
    public var marker: LabsyncMarker?
    /// Set when the marker file exists but could not be read or parsed: such a
    /// venv is treated as unmanaged (never deleted) and the reason is shown.
    public var markerError: String?

    public init(path: String, python: String, distributions: [Distribution] = [], marker: LabsyncMarker? = nil,
                markerError: String? = nil) {
        self.path = path
        self.python = python
        self.distributions = distributions
        self.marker = marker
        self.markerError = markerError
    }

    public func distribution(named normalizedName: String) -> Distribution? {
        distributions.first { $0.name == normalizedName }
    }
}

/// An installed distribution, read from its `*.dist-info/METADATA`.
public struct Distribution: Sendable, Hashable, Codable {
    /// Normalized (PEP 503: lowercase, runs of `-_.` as `-`).
    public var name: String
    public var version: String
    /// Normalized names from every `Requires-Dist` line, whatever its marker or
    /// extra: an over-approximation of the dependencies, which is the safe side
    /// when deciding what nobody needs.
    public var requires: [String]
    public init(name: String, version: String, requires: [String] = []) {
        self.name = name
        self.version = version
        self.requires = requires
    }
}

/// The file labsync writes into every venv it manages (`<env>/.labsync.json`),
/// after a step succeeded. Named apart from PEP 508 environment markers.
public struct LabsyncMarker: Sendable, Hashable, Codable {
    public static let fileName = ".labsync.json"

    /// The PythonEnvironment that owns the venv.
    public var spec: String
    /// Requirement strings labsync installed (as written in the spec): what it
    /// may uninstall when they leave the spec.
    public var packages: [String]
    /// Full python version of the venv.
    public var python: String
    /// ISO 8601; set by the executor when it writes the file (plans stay pure).
    public var writtenAt: String?

    public init(spec: String, packages: [String], python: String, writtenAt: String? = nil) {
        self.spec = spec
        self.packages = packages
        self.python = python
        self.writtenAt = writtenAt
    }

    /// The file's contents with `writtenAt` set: pretty JSON, sorted keys, final newline.
    public func fileContents(writtenAt: Date) -> [UInt8] {
        var stamped = self
        stamped.writtenAt = writtenAt.formatted(.iso8601)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Strings and string arrays always encode.
        return Array(try! encoder.encode(stamped)) + [0x0A]
    }
}

/// "3.11.2" → "3.11"; "3" → "3".
public func minorVersion(of version: String) -> String {
    version.split(separator: ".").prefix(2).joined(separator: ".")
}

/// Orders "3.9" < "3.11" numerically.
public func pythonVersionLess(_ a: String, _ b: String) -> Bool {
    let x = a.split(separator: ".").map { Int($0) ?? 0 }
    let y = b.split(separator: ".").map { Int($0) ?? 0 }
    return x.lexicographicallyPrecedes(y)
}
