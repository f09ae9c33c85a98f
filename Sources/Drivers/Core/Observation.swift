import Foundation

// What labsync saw on a host. The core observes a few facts every driver may
// use (OS, systemd); everything else is a driver's own part, kept here as the
// JSON its fragment printed and decoded by that driver into its own type.
// Plain Codable values: the planner is a pure function of these and the specs,
// so a recorded observation (a golden test's observed.json, a CI run without
// SSH) plans exactly like a live one.

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
        /// A derivative's base, for its package names (AptPackageNames): `ID_LIKE`
        /// ("debian", "ubuntu debian") and the codenames os-release may carry:
        /// `VERSION_CODENAME` (Raspbian "bullseye", Devuan "chimaera"),
        /// `UBUNTU_CODENAME` (Linux Mint "jammy"), `DEBIAN_CODENAME` (LMDE
        /// "bookworm"). Optional, so recordings made before they were observed
        /// still decode, and encode unchanged.
        public var idLike: String?
        public var versionCodename: String?
        public var ubuntuCodename: String?
        public var debianCodename: String?
        public init(id: String = "", versionId: String = "", prettyName: String = "", machine: String? = nil,
                    idLike: String? = nil, versionCodename: String? = nil, ubuntuCodename: String? = nil,
                    debianCodename: String? = nil) {
            self.id = id
            self.versionId = versionId
            self.prettyName = prettyName
            self.machine = machine
            self.idLike = idLike
            self.versionCodename = versionCodename
            self.ubuntuCodename = ubuntuCodename
            self.debianCodename = debianCodename
        }
    }

    /// The facts every driver may read.
    public struct Facts: Sendable, Hashable {
        public var os: OperatingSystem
        /// systemd is PID 1 (`/run/systemd/system` exists); containers usually say no.
        public var systemd: Bool
        public init(os: OperatingSystem = .init(), systemd: Bool = false) {
            self.os = os
            self.systemd = systemd
        }
    }

    public var os: OperatingSystem
    public var systemd: Bool
    /// Each driver's part, by driver name; absent when its fragment did not run
    /// (not requested, or no python3 on the host).
    public var drivers: [String: JSONValue]
    /// A fragment that raised: driver name → the error (its resources get plan errors).
    public var driverErrors: [String: String]
    /// What the host's last apply script wrote next to its lock when it took it (a
    /// per-run token; "" when no apply ever ran; nil when not observed). The apply
    /// script compares it once it holds the lock: a plan made before another run
    /// changed the host is stale (issue 11 #7).
    public var generation: String?
    /// The requested paths (`ObservationRequest.paths`) the apply script would
    /// refuse as the host stands, with the reason it would give.
    public var unsafePaths: [CheckedPath: String]

    public init(os: OperatingSystem, systemd: Bool = false, drivers: [String: JSONValue] = [:],
                driverErrors: [String: String] = [:], generation: String? = nil,
                unsafePaths: [CheckedPath: String] = [:]) {
        self.generation = generation
        self.unsafePaths = unsafePaths
        self.os = os
        self.systemd = systemd
        self.drivers = drivers
        self.driverErrors = driverErrors
    }

    public var facts: Facts { Facts(os: os, systemd: systemd) }

    enum CodingKeys: String, CodingKey { case os, systemd, drivers, driverErrors, generation, unsafePaths }

    /// One entry of `unsafePaths` as the observe script prints it.
    struct UnsafePath: Codable {
        var path: String
        var create: Bool
        var owned: Bool
        var problem: String
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        os = try c.decode(OperatingSystem.self, forKey: .os)
        systemd = try c.decodeIfPresent(Bool.self, forKey: .systemd) ?? false
        drivers = try c.decodeIfPresent([String: JSONValue].self, forKey: .drivers) ?? [:]
        driverErrors = try c.decodeIfPresent([String: String].self, forKey: .driverErrors) ?? [:]
        generation = try c.decodeIfPresent(String.self, forKey: .generation)
        let unsafe = try c.decodeIfPresent([UnsafePath].self, forKey: .unsafePaths) ?? []
        unsafePaths = Dictionary(unsafe.map { (CheckedPath($0.path, create: $0.create, ownedLeaf: $0.owned), $0.problem) },
                                 uniquingKeysWith: { a, _ in a })
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(os, forKey: .os)
        try c.encode(systemd, forKey: .systemd)
        try c.encode(drivers, forKey: .drivers)
        if !driverErrors.isEmpty { try c.encode(driverErrors, forKey: .driverErrors) }
        try c.encodeIfPresent(generation, forKey: .generation)
        if !unsafePaths.isEmpty {
            try c.encode(unsafePaths.sorted { $0.key.path < $1.key.path }.map {
                UnsafePath(path: $0.key.path, create: $0.key.create, owned: $0.key.ownedLeaf, problem: $0.value)
            }, forKey: .unsafePaths)
        }
    }

    /// A driver's part decoded into its type; nil when absent.
    public func part<T: Decodable>(_ type: T.Type, driver: String) throws -> T? {
        guard let value = drivers[driver] else { return nil }
        return try value.decode(T.self)
    }

    /// Replaces a driver's part (tests' in-memory worlds apply steps this way).
    public mutating func setPart<T: Encodable>(_ value: T, driver: String) {
        drivers[driver] = JSONValue(encoding: value)
    }
}

/// An installed Python distribution, read from its `*.dist-info/METADATA`
/// (every driver that keeps a venv reads them the same way: observe_lib.py).
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

/// The file labsync writes into every directory it manages (a venv, an R
/// library, the hub venv) after a step succeeded: what owns it and what
/// labsync installed there. Without one, a directory is never deleted.
public struct LabsyncMarker: Sendable, Hashable, Codable {
    public static let fileName = ".labsync.json"

    /// The spec that owns the directory.
    public var spec: String
    /// Requirement strings labsync installed (as written in the spec): what it
    /// may uninstall when they leave the spec.
    public var packages: [String]
    /// Full version of the runtime the directory was made for (python, R).
    public var python: String
    /// ISO 8601; set by the executor when it writes the file (plans stay pure).
    public var writtenAt: String?
    /// The spec repository that wrote it (its labsync.yaml `name:`); nil in markers
    /// of repositories without a name, and of labsync before it recorded one.
    /// `--prune` removes only directories whose marker names this repository.
    public var repository: String?

    public init(spec: String, packages: [String], python: String, writtenAt: String? = nil,
                repository: String? = nil) {
        self.repository = repository
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
