// What the pip driver's observe fragment (Scripts/pip_observe.py) reports.

/// Asked of the fragment on a host with PythonEnvironments.
public struct PipObservationRequest: Sendable, Hashable, Codable {
    /// Directories whose immediate subdirectories are checked for venvs.
    public var roots: [String]
    /// Pythons the specs want here: "latest" and/or minor versions ("3.12"). APT is
    /// queried only when one of them is not installed (apt-cache can take seconds).
    public var pythons: [String]
    /// labsync's uv; reported when it exists.
    public var uv: String

    public init(roots: [String], pythons: [String] = [], uv: String = PipDriver.uvToolPath) {
        self.roots = roots
        self.pythons = pythons
        self.uv = uv
    }
}

public struct PipObservation: Sendable, Hashable, Codable {
    /// Full version of the host's default python3 (`/usr/bin/python3`, else the
    /// first `python3` on PATH); nil when the host has none.
    public var python3: String?
    /// Where that python3 is.
    public var python3Path: String?
    /// Installed `python3.X` interpreters in /usr/local/bin and /usr/bin.
    public var pythons: [PythonInterpreter]
    /// Minor versions ("3.11") whose `python3.X` package the host's APT offers.
    /// Only queried when the request asked (apt-cache costs seconds); empty without APT.
    public var aptPythons: [String]
    /// labsync's uv (in its tool venv, `PipDriver.uvToolPath`), when installed.
    public var uv: String?
    /// That uv's version, from its tool venv's dist-info; nil when unknown
    /// (older observations), which is taken as new enough.
    public var uvVersion: String?
    /// Every venv directly under the observed roots, marked or not.
    public var environments: [EnvironmentObservation]

    public init(python3: String? = nil, python3Path: String? = nil, pythons: [PythonInterpreter] = [],
                aptPythons: [String] = [], uv: String? = nil, environments: [EnvironmentObservation] = []) {
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

import Specs

extension PythonEnvironmentSpec {
    /// The venv's own Python on this host when it exists, else the interpreter
    /// the spec would pick there; nil when the host has none to offer (for
    /// `plan --check-index`).
    public func observedPython(in observation: HostObservation) -> String? {
        guard let facts = try? observation.part(PipObservation.self, driver: PipDriver().name) else { return nil }
        if let existing = facts.environment(at: path), !existing.python.isEmpty { return existing.python }
        switch python {
        case .minor(let m):
            return facts.pythons.first { $0.minor == "3.\(m)" }?.version ?? "3.\(m)"
        case .any3:
            return facts.python3
        case .latest:
            let versions = facts.pythons.map(\.version) + facts.aptPythons
            return versions.compactMap { try? Version($0) }.max()?.description
        }
    }
}
