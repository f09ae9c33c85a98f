// Shared setup for the end-to-end pip scenarios (Pip*.swift): the REAL built
// `labsync` binary against the REAL loopback sshd of the test harness, with real
// venvs and real pip installing tiny wheels built here.
//
// Every apply on this machine takes the same host lock (/var/lock/labsync), so the
// scenario suites gain nothing from running at once; they are nested in one
// serialized suite (`PipScenarios`) and share one sshd and one wheel directory.

import Foundation
import LabsyncTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The parent of every pip scenario suite: serialized, so only one scenario
/// drives the host at a time (and the concurrency scenario controls its lock).
@Suite(.serialized) struct PipScenarios {}

enum Scenario {
    /// One sshd for all scenarios, stopped when the test process exits.
    ///
    /// Its sessions see an empty tmpfs over /opt (a private mount namespace): labsync
    /// always observes the default root /opt/labsync/envs too, and `--prune` removes
    /// every marked env it finds there — on a developer's machine, the `make demo`
    /// env, or another test run's. The scenarios keep their envs under /tmp, which
    /// (like the host lock in /var/lock/labsync) is shared with this process.
    static let server: Result<SSHServer, any Error> = {
        let privateOpt = ["unshare", "--mount", "--propagation", "private", "--",
                          "/bin/sh", "-c", #"mount -t tmpfs -o mode=755 labsync-scenarios /opt && exec "$0" "$@""#]
        let result = Result { try SSHServer(wrapper: privateOpt) }
        if case .success = result { atexit { if case .success(let s) = Scenario.server { s.stop() } } }
        return result
    }()

    /// The wheels every scenario installs from (`--no-index --find-links`):
    /// `alpha 2.0` depends on `beta`, `zeta` on `eta`; `delta` is what a person
    /// installs by hand.
    static let wheels: Result<String, any Error> = Result {
        let dir = try Spawn.makeTempDirectory(prefix: "wheels").replacing("//", with: "/")
        chmod(dir, 0o755)
        try Wheels.build(into: dir, ["alpha:1.0", "alpha:2.0:beta", "beta:1.0", "gamma:1.0", "delta:1.0",
                                     "zeta:1.0:eta", "eta:1.0"])
        atexit { if case .success(let d) = Scenario.wheels { try? FileManager.default.removeItem(atPath: d) } }
        return dir
    }
}

/// The JSON plan, decoded by the test itself (not with labsync's types): the
/// format is a promise to users, so the test reads it the way they would.
struct JSONPlan: Decodable {
    struct Step: Decodable, Equatable {
        var host: String
        var resource: String
        var action: String
        var packages: [String]
        var reason: String
    }
    struct Drift: Decodable { var host: String; var resource: String; var package: String; var kind: String; var detail: String }
    struct Unmanaged: Decodable { var host: String; var path: String; var kind: String; var spec: String? }
    var formatVersion: Int
    var steps: [Step]
    var drift: [Drift]
    var unmanaged: [Unmanaged]
    var errors: [PlanErrorItem]
    struct PlanErrorItem: Decodable { var message: String }

    /// "install PythonEnvironment/app [alpha==2.0]" per step: short to compare and to print.
    var summary: [String] { steps.map { "\($0.action) \($0.resource) \($0.packages)" } }
}

/// One scenario's world: a spec repository naming the shared sshd as host
/// `loopback`, a state directory, and an env root, all in a fresh temp directory.
struct Workspace {
    let server: SSHServer
    let wheels: String
    /// The temp directory; paths normalized (mkdtemp hands back "/tmp//…", and spec
    /// paths must be normalized).
    let directory: String
    var repo: String { directory + "/repo" }
    var state: String { directory + "/state" }
    var root: String { directory + "/envs" }

    init(_ name: String) throws {
        server = try Scenario.server.get()
        wheels = try Scenario.wheels.get()
        directory = try Spawn.makeTempDirectory(prefix: "pip-\(name)").replacing("//", with: "/")
        chmod(directory, 0o755)
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        try write("host.yaml", server.hostSpec())
    }

    func cleanUp() { GitFixture.removeTree(URL(fileURLWithPath: directory)) }

    /// Writes (or replaces) a file in the spec repository.
    func write(_ path: String, _ text: String) throws {
        let url = URL(fileURLWithPath: repo + "/" + path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    func remove(_ path: String) throws { try FileManager.default.removeItem(atPath: repo + "/" + path) }

    /// A PythonEnvironment document on `loopback` under this workspace's root,
    /// installing from the shared wheels only. `extra` lines go under `spec:`.
    func environment(_ name: String, packages: [String], extra: [String] = []) -> String {
        let list = packages.map { "\"\($0)\"" }.joined(separator: ", ")
        return """
            apiVersion: labsync/v1
            kind: PythonEnvironment
            metadata: {name: \(name)}
            spec:
              host: loopback
              root: \(root)
              index: {noIndex: true, findLinks: [\(wheels)]}
              packages: [\(list)]
            \(extra.map { "  " + $0 + "\n" }.joined())
            """
    }

    func path(of env: String) -> String { root + "/" + env }

    /// `labsync COMMAND --repo … --state-dir … ARGS…`.
    @discardableResult
    func labsync(_ command: String, _ arguments: [String] = [], timeout: Double = 180) async throws -> SpawnResult {
        try await LabsyncBinary.runAsync([command, "--repo", repo, "--state-dir", state] + arguments, timeout: timeout)
    }

    /// The argv of `labsync apply --yes` (for `Spawn.start`).
    func applyCommand(_ arguments: [String] = []) -> [String] {
        [LabsyncBinary.path, "apply", "--repo", repo, "--state-dir", state, "--yes"] + arguments
    }

    /// `apply --yes`, expected to succeed and converge (or to find nothing to do).
    @discardableResult
    func apply(_ arguments: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) async throws -> SpawnResult {
        let result = try await labsync("apply", ["--yes"] + arguments)
        #expect(result.status == 0, "apply failed:\n\(result.stdoutText)\n\(result.stderrText)", sourceLocation: sourceLocation)
        let out = result.stdoutText
        #expect(out.contains("Converged: the hosts match the specs.") || out.contains("No changes."), "\(out)",
                sourceLocation: sourceLocation)
        return result
    }

    /// `plan --format json --detailed-exitcode`: the exit status and the decoded plan.
    func plan(_ arguments: [String] = []) async throws -> (status: Int32, plan: JSONPlan) {
        let result = try await labsync("plan", ["--format", "json", "--detailed-exitcode"] + arguments)
        guard result.status == 0 || result.status == 2 else {
            throw SpawnError("plan exited \(result.status):\n\(result.stdoutText)\n\(result.stderrText)")
        }
        return (result.status, try JSONDecoder().decode(JSONPlan.self, from: Data(result.stdout)))
    }

    /// Distributions installed in a venv, read from its site-packages on disk
    /// (not through labsync): normalized name → version.
    func installed(_ env: String) -> [String: String] {
        let lib = path(of: env) + "/lib"
        var found: [String: String] = [:]
        for python in (try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? [] {
            let site = lib + "/" + python + "/site-packages"
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: site)) ?? [] where entry.hasSuffix(".dist-info") {
                let stem = entry.dropLast(".dist-info".count)
                guard let dash = stem.lastIndex(of: "-") else { continue }
                found[stem[..<dash].lowercased().replacing("_", with: "-")] = String(stem[stem.index(after: dash)...])
            }
        }
        return found
    }

    /// Installed distributions other than the venv's own tooling.
    func packages(_ env: String) -> [String: String] {
        installed(env).filter { !["pip", "setuptools", "wheel"].contains($0.key) }
    }

    /// The venv's labsync marker, decoded, or nil.
    func marker(_ env: String) -> (spec: String, packages: [String])? {
        guard let data = FileManager.default.contents(atPath: path(of: env) + "/.labsync.json"),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let spec = object["spec"] as? String, let packages = object["packages"] as? [String] else { return nil }
        return (spec, packages)
    }

    /// Runs the venv's own pip directly: the host is this machine, so this is
    /// exactly what an administrator typing on the host does.
    func pipByHand(_ env: String, _ arguments: [String]) throws {
        try Spawn.check([path(of: env) + "/bin/python", "-m", "pip", "--disable-pip-version-check", "--no-input"]
                        + arguments)
    }
}

/// Modification time of a file, in seconds (fractional).
func modificationTime(_ path: String) -> Double? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
}

/// Waits until `condition` holds, polling; false after `timeout` seconds.
/// The blocking twin of the async `waitUntil`, for synchronous helpers.
func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}

func waitUntil(timeout: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return condition()
}

func contents(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
