// The pip driver: PythonEnvironment specs on one host → steps.
//
// Decisions, in the order `diff` makes them for each environment:
//  1. state: absent → `remove-env` when the venv carries a marker naming this spec;
//     a venv without one is never deleted (listed as unmanaged instead).
//  2. Pick the interpreter (`python: "3"` the host's python3, "3.X" that minor,
//     `latest` the newest minor installed or offered by APT); missing → host-wide
//     `ensure-python` (apt), unobtainable → a plan error for this env only.
//  3. No venv → `create-env`; a venv whose python minor is wrong (or whose
//     interpreter left the host) → `recreate-env`, only if labsync's marker is there;
//     a pip venv without pip (creation interrupted) → `create-env` over it, which
//     completes it in place.
//  4. `uninstall`: what labsync installed (marker) and the spec dropped, plus under
//     `unmanaged: remove` what nobody declared — never pip/setuptools/wheel and
//     never anything in the dependency closure (Requires-Dist) of a declared package.
//  5. `install`: ONE step with every applicable requirement that is missing or whose
//     installed version the specifier does not contain (pre-releases allowed, as pip
//     judges an installed version). Requirement markers: see MarkerEvaluation.swift.
//  With `prune`, marked venvs under the observed roots that no spec wants → `remove-env`.
//
// Known limits: extras are not checked (`requests[socks]` is satisfied by requests
// alone); a spec change that an installed version already satisfies writes no marker.

import Remote
import Specs

public struct PipDriver: Driver {
    /// labsync's own uv, in a tool venv it creates on the host (`ensure-uv`).
    public static let uvToolVenv = "/opt/labsync/tools/uv"
    public static let uvToolPath = "/opt/labsync/tools/uv/bin/uv"
    /// What `ensure-uv` installs: the first uv with `--system-certs` (0.11.0;
    /// before it the flag was `--native-tls`, which 0.13 still takes but
    /// warns is going away).
    public static let uvRequirement = "uv>=0.11"
    /// uv trusts its bundled roots only; a package index behind a
    /// TLS-inspecting proxy or a private CA is trusted by the host's system
    /// store, which Debian's pip uses (issue 11 #18). uv must use it too.
    public static let uvSystemCerts = "--system-certs"
    /// Never uninstalled as "unmanaged": the venv's own tooling. `pkg-resources`
    /// 0.0.0 is how Debian 11's patched venv lists setuptools' pkg_resources; counting
    /// it made every Debian 11 venv report an undeclared package forever.
    public static let protectedDistributions: Set<String> = ["pip", "setuptools", "wheel", "pkg-resources"]
    static let kind = "PythonEnvironment"

    public typealias Observed = PipObservation

    public init() {}

    public var name: String { "pip" }
    public var kinds: [String] { [Self.kind] }
    public var stepKinds: [StepKind] {
        [.ensurePython, .ensureUV, .removeEnv, .recreateEnv, .createEnv, .uninstall, .install]
    }
    public var observeFragment: String { String(decoding: PackageResources.pip_observe_py, as: UTF8.self) }

    /// The environments that land on this host (after hostSelector fan-out).
    static func environments(_ context: HostContext) -> [PythonEnvironmentSpec] {
        context.specs.environments.filter { env in
            context.specs.hosts(for: env).contains { $0.name == context.host.name }
        }
    }

    public func resources(_ context: HostContext) -> [String] {
        Self.environments(context).map { "\(Self.kind)/\($0.name)" }
    }

    /// `rm -rf` of a venv, only while it carries a labsync marker (checked on the
    /// host when it runs; exit 3 and a message otherwise). A path already gone is success.
    public static func removeEnvironmentCommand(path: String, become: Become) -> RemoteCommand {
        RemoteCommand("/bin/sh", ["-c", Scripts.removeEnv, "labsync-remove-env", path], become: become)
    }

    /// What to ask the observe fragment on a host with these environments.
    public static func observationRequest(for environments: [PythonEnvironmentSpec]) -> PipObservationRequest {
        let roots = Set([PythonEnvironmentSpec.defaultRoot] + environments.map(\.root)).sorted()
        var pythons = Set<String>()
        for env in environments where env.state == .present {
            switch env.python {
            case .any3: break
            case .minor(let m): pythons.insert("3.\(m)")
            case .latest: pythons.insert("latest")
            }
        }
        return PipObservationRequest(roots: roots, pythons: pythons.sorted())
    }

    /// Always asked, even on a host without environments: venvs made by hand
    /// under the default root are worth listing (scenario P5).
    public func observationRequest(_ context: HostContext) -> JSONValue? {
        JSONValue(encoding: Self.observationRequest(for: Self.environments(context)))
    }

    /// Environments named in a hub's `kernels` run ipykernel; the hub starts them so.
    public func kernels(for requests: [KernelRequest], _ context: HostContext) -> [KernelOffer] {
        let mine = Dictionary(Self.environments(context).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        return requests.compactMap { request in
            guard request.register, let env = mine[request.environment], env.state == .present else { return nil }
            return KernelOffer(environment: env.name, resource: "\(Self.kind)/\(env.name)",
                               displayName: env.kernel?.displayName ?? env.name, language: "python",
                               argv: [env.path + "/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"])
        }
    }

    public func plan(_ context: HostContext, observed: PipObservation?, hooks: HookInputs) -> DriverResult {
        let environments = Self.withKernelSupport(Self.environments(context), requests: hooks.kernelRequests)
        var planner = HostPlanner(host: context.host, observed: observed ?? PipObservation(), facts: context.facts)
        for env in environments.sorted(by: { $0.name < $1.name }) {
            planner.plan(env)
        }
        planner.planLeftovers(desiredPaths: Set(environments.map(\.path)), prune: context.prune,
                              repository: context.specs.repository)
        return planner.finish()
    }

    /// Environments some other driver wants as kernels get `ipykernel` (unless
    /// they declare it): a kernel is useless without it. Also while the
    /// requester is being removed, so removing a hub leaves its environments
    /// exactly as they were.
    static func withKernelSupport(_ environments: [PythonEnvironmentSpec], requests: [KernelRequest])
        -> [PythonEnvironmentSpec] {
        environments.map { env in
            guard env.state == .present, let request = requests.first(where: { $0.environment == env.name }),
                  !env.requirements.contains(where: { $0.value.normalizedName == "ipykernel" }),
                  let ipykernel = try? Requirement(parsing: "ipykernel") else { return env }
            var copy = env
            copy.requirements.append(Located(ipykernel, at: request.location))
            return copy
        }
    }

    public func statusEntries(_ observed: PipObservation) -> [StatusEntry] {
        observed.environments.map { env in
            StatusEntry(path: env.path, resource: env.marker.map { "\(Self.kind)/\($0.spec)" },
                        summary: "python \(env.python)  \(env.distributions.count) packages",
                        packages: env.distributions.sorted(by: { $0.name < $1.name }).map { "\($0.name)==\($0.version)" },
                        problem: env.markerError)
        }
    }

    public func export(resource: String, _ context: HostContext, observed: PipObservation) -> ExportResult? {
        let name = String(resource.dropFirst(Self.kind.count + 1))
        guard let env = context.specs.environments.first(where: { $0.name == name }) else { return nil }
        guard let found = observed.environment(at: env.path) else {
            return .failure("\(context.host.name) has no environment at \(env.path); run `labsync apply` first")
        }
        // Like `pip freeze`: the venv's own tooling is left out.
        let omitted = Self.protectedDistributions.union(["distribute"])
        var lines = ["# PythonEnvironment/\(env.name) on \(context.host.name) (python \(found.python)), exported by labsync"]
        lines += found.distributions
            .filter { !omitted.contains($0.name) }
            .sorted { $0.name < $1.name }
            .map { "\($0.name)==\($0.version)" }
        return .text(lines.joined(separator: "\n"))
    }
}

extension StepKind {
    /// Host-wide (resource `Host/<name>`): apt installs an interpreter and/or venv support.
    public static let ensurePython = StepKind("ensure-python", driver: "pip", symbol: .add, phase: .hostWide, order: 0)
    /// Host-wide: labsync's uv tool venv, for `installer: uv`.
    public static let ensureUV = StepKind("ensure-uv", driver: "pip", symbol: .add, phase: .hostWide, order: 1)
    public static let removeEnv = StepKind("remove-env", driver: "pip", symbol: .remove, phase: .resources, order: 2)
    public static let recreateEnv = StepKind("recreate-env", driver: "pip", symbol: .replace, phase: .resources, order: 3)
    public static let createEnv = StepKind("create-env", driver: "pip", symbol: .add, phase: .resources, order: 4)
    /// Before `install`: what it removes is, by construction, nothing a declared
    /// package depends on, and installing afterwards restores anything shared.
    /// An uninstall changes an environment (it is shown as "-" all the same).
    public static let uninstall = StepKind("uninstall", driver: "pip", symbol: .remove, phase: .resources, order: 5,
                                           summary: .change)
    public static let install = StepKind("install", driver: "pip", symbol: .change, phase: .resources, order: 6)
}

/// The interpreter an environment will be created with.
struct ChosenPython {
    var path: String
    /// Full version when known (installed), else the minor ("3.12", from APT).
    var version: String
    var minor: String { minorVersion(of: version) }
}

/// Accumulates one host's result; one instance per `diff` call.
private struct HostPlanner {
    let host: HostSpec
    let observed: PipObservation
    let facts: HostObservation.Facts
    let become: Become
    var result = DriverResult()
    /// APT packages for `ensure-python`, with who needs them.
    var aptPackages: [String: Set<String>] = [:]
    var needsUV: Set<String> = []

    init(host: HostSpec, observed: PipObservation, facts: HostObservation.Facts) {
        self.host = host
        self.observed = observed
        self.facts = facts
        self.become = Become(rawValue: host.become.rawValue) ?? .none
    }

    var hostResource: String { "Host/\(host.name)" }

    mutating func error(_ env: PythonEnvironmentSpec, _ message: String) {
        result.errors.append(PlanError(host: host.name, resource: resource(env), message: message))
    }

    func resource(_ env: PythonEnvironmentSpec) -> String { "PythonEnvironment/\(env.name)" }

    // MARK: per environment

    mutating func plan(_ env: PythonEnvironmentSpec) {
        let existing = observed.environment(at: env.path)
        if env.state == .absent {
            planAbsent(env, existing)
            return
        }
        if let existing {
            if let problem = existing.markerError {
                error(env, "\(problem); labsync will not touch \(env.path) until the marker is fixed or removed by hand")
                return
            }
            if let owner = existing.marker?.spec, owner != env.name {
                error(env, "\(env.path) belongs to PythonEnvironment '\(owner)' (its labsync marker says so)")
                return
            }
        }
        guard let python = choosePython(env) else { return }

        var fresh = existing == nil
        if let existing {
            let envMinor = minorVersion(of: existing.python)
            let installedMinors = Set(observed.pythons.map(\.minor))
            let wrongMinor: Bool = switch env.python {
            case .any3: false
            case .minor, .latest: envMinor != python.minor
            }
            let interpreterGone = !installedMinors.isEmpty && !installedMinors.contains(envMinor)
            if wrongMinor || interpreterGone {
                guard existing.marker != nil else {
                    error(env, "\(env.path) has python \(existing.python) but the spec wants \(env.python) \(wrongMinor ? "(\(python.minor))" : "(its interpreter is gone)"); it has no labsync marker, so labsync will not delete it: remove it by hand")
                    return
                }
                let wanted = env.python == .latest ? "latest (\(python.minor))" : "\(env.python)"
                let why = wrongMinor
                    ? "python \(existing.python) does not match python: \(wanted)"
                    : "its interpreter python\(envMinor) is no longer installed"
                requirePython(python, for: env, venvSupport: env.installer == .pip)
                result.steps.append(step(env, .recreateEnv, reason: why,
                                         commands: removeCommands(env.path) + createCommands(env, python),
                                         marker: LabsyncMarker(spec: env.name, packages: [], python: python.version)))
                fresh = true
            }
        } else {
            requirePython(python, for: env, venvSupport: env.installer == .pip)
            result.steps.append(step(env, .createEnv, reason: "no venv at \(env.path)",
                                     commands: createCommands(env, python),
                                     marker: LabsyncMarker(spec: env.name, packages: [], python: python.version)))
        }
        if let existing, !fresh, env.installer == .pip,
           !existing.distributions.contains(where: { $0.name == "pip" }) {
            // A pip venv without pip can never take an install: its `python -m venv`
            // was killed before bootstrapping pip (the marker comes only after
            // success), or pip was removed by hand. `python -m venv` on the existing
            // directory completes it and deletes nothing (no --clear).
            let minor = minorVersion(of: existing.python)
            let own = observed.pythons.filter { $0.minor == minor }
            let interpreter = (own.first { $0.path.hasPrefix("/usr/bin/") } ?? own.first)
                .map { ChosenPython(path: $0.path, version: $0.version) } ?? python
            requirePython(interpreter, for: env, venvSupport: true)
            result.steps.append(step(env, .createEnv, reason: "\(env.path) has no pip (an interrupted create-env?); completing the venv",
                                     commands: createCommands(env, interpreter),
                                     marker: LabsyncMarker(spec: env.name, packages: existing.marker?.packages ?? [],
                                                           python: existing.python)))
        }
        if env.installer == .uv && (observed.uv == nil || !uvIsNewEnough) { needsUV.insert(env.name) }

        let envPython = fresh ? python.version : existing!.python
        let applicable = env.requirements.map(\.value).filter { req in
            guard let marker = req.marker else { return true }
            return evaluateMarker(marker, environment: markerEnvironment(pythonVersion: envPython,
                                                                          machine: facts.os.machine))
        }
        let current = fresh ? nil : existing
        planPackages(env, applicable: applicable, existing: current, python: envPython,
                     newVenv: existing == nil ? "new environment" : "recreated environment")
    }

    mutating func planPackages(_ env: PythonEnvironmentSpec, applicable: [Requirement],
                               existing: EnvironmentObservation?, python: String, newVenv: String) {
        let distributions = existing?.distributions ?? []
        let installed = Dictionary(distributions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let recorded = (existing?.marker?.packages ?? []).compactMap { try? Requirement(parsing: $0) }
        let recordedText = Set(recorded.map(\.description))
        let declaredNames = Set(env.requirements.map(\.value.normalizedName))

        // Uninstall first (see StepKind.uninstall).
        let needed = dependencyClosure(of: declaredNames, in: installed)
        var removedFromSpec: [String] = []
        for name in Set(recorded.map(\.normalizedName)).sorted()
        where !declaredNames.contains(name) && installed[name] != nil && !needed.contains(name) {
            removedFromSpec.append(name)
        }
        let accounted = needed.union(removedFromSpec).union(PipDriver.protectedDistributions)
        let extras = installed.keys.filter { !accounted.contains($0) }.sorted()
        // Report the top of what nobody declared: a hand-installed flask, not its jinja2.
        let requiredByExtras = Set(extras.flatMap { installed[$0]!.requires })
        let tops = extras.filter { !requiredByExtras.contains($0) }
        let extraRoots = tops.isEmpty ? extras : tops  // a dependency cycle has no top
        if env.unmanaged != .keep {
            for name in extraRoots {
                let dist = installed[name]!
                let deps = dependencyClosure(of: [name], in: installed).intersection(extras).subtracting([name])
                let also = deps.isEmpty ? "" : " (with \(deps.sorted().joined(separator: ", ")))"
                let action = env.unmanaged == .remove ? "will be uninstalled (unmanaged: remove)" : "unmanaged: report"
                result.drift.append(DriftItem(host: host.name, resource: resource(env), kind: .extraPackage,
                                              package: name,
                                              detail: "\(name) \(dist.version)\(also) is installed but not declared; \(action)",
                                              installed: dist.version))
            }
        }
        var uninstall = removedFromSpec
        if env.unmanaged == .remove { uninstall += extras }
        uninstall.sort()
        if !uninstall.isEmpty {
            var parts: [String] = []
            if !removedFromSpec.isEmpty { parts.append("removed from the spec: \(removedFromSpec.joined(separator: ", "))") }
            let undeclared = env.unmanaged == .remove ? extras : []
            if !undeclared.isEmpty { parts.append("not declared (unmanaged: remove): \(undeclared.joined(separator: ", "))") }
            let removed = Set(removedFromSpec)
            let kept = (existing?.marker?.packages ?? []).filter {
                guard let r = try? Requirement(parsing: $0) else { return false }
                return !removed.contains(r.normalizedName)
            }
            result.steps.append(step(env, .uninstall, packages: uninstall, reason: parts.joined(separator: "; "),
                                     commands: uninstallCommands(env, uninstall),
                                     marker: LabsyncMarker(spec: env.name, packages: kept, python: python)))
        }

        // Then one install with everything missing or not satisfied.
        var toInstall: [String] = []
        var missing: [String] = []
        var unsatisfied: [String] = []
        for req in applicable {
            let text = req.description
            if let dist = installed[req.normalizedName] {
                if satisfies(dist.version, req.specifier) { continue }
                unsatisfied.append("\(dist.name) \(dist.version) does not satisfy \(req.specifier)")
                if recordedText.contains(text) {
                    result.drift.append(DriftItem(host: host.name, resource: resource(env), kind: .changedPackage,
                                                  package: req.normalizedName,
                                                  detail: "\(dist.name) is \(dist.version) but labsync installed \(text); changed by hand",
                                                  wanted: text, installed: dist.version))
                }
            } else {
                missing.append(req.name)
                if recordedText.contains(text) {
                    result.drift.append(DriftItem(host: host.name, resource: resource(env), kind: .missingPackage,
                                                  package: req.normalizedName,
                                                  detail: "labsync installed \(text) but it is gone; uninstalled by hand",
                                                  wanted: text))
                }
            }
            toInstall.append(text)
        }
        if !toInstall.isEmpty {
            var parts: [String] = []
            if existing == nil {
                parts.append(newVenv)
            } else {
                if !missing.isEmpty { parts.append("missing: \(missing.joined(separator: ", "))") }
                parts += unsatisfied
            }
            result.steps.append(step(env, .install, packages: toInstall, reason: parts.joined(separator: "; "),
                                     commands: installCommands(env, toInstall),
                                     marker: LabsyncMarker(spec: env.name, packages: applicable.map(\.description),
                                                           python: python)))
        }
    }

    /// A uv from before `--system-certs` (0.11) would refuse the install
    /// command: `ensure-uv` upgrades it (pip installs `uv>=0.11` over it).
    var uvIsNewEnough: Bool {
        guard let version = observed.uvVersion,
              let wanted = try? Requirement(parsing: PipDriver.uvRequirement) else { return true }
        return satisfies(version, wanted.specifier)
    }

    func satisfies(_ version: String, _ specifier: SpecifierSet) -> Bool {
        if specifier.isEmpty { return true }
        guard let v = try? Version(version) else { return false }  // pip would reinstall it too
        return specifier.contains(v, prereleases: true)
    }

    func dependencyClosure(of roots: Set<String>, in installed: [String: Distribution]) -> Set<String> {
        Drivers.dependencyClosure(of: roots, requires: { installed[$0]?.requires })
    }

    mutating func planAbsent(_ env: PythonEnvironmentSpec, _ existing: EnvironmentObservation?) {
        guard let existing else { return }
        guard let marker = existing.marker else {
            result.unmanaged.append(unmanagedItem(existing, kind: existing.markerError == nil ? .unmarked : .unreadableMarker,
                                                  detail: "state: absent, but the venv has no readable labsync marker: not removed"))
            return
        }
        guard marker.spec == env.name else {
            error(env, "\(env.path) belongs to PythonEnvironment '\(marker.spec)' (its labsync marker says so); not removed")
            return
        }
        result.steps.append(step(env, .removeEnv, reason: "state: absent", commands: removeCommands(env.path)))
    }

    /// Venvs under the roots that no spec on this host describes.
    /// With `prune`, only venvs whose marker names `repository` are removed: another
    /// repository pruning the same host leaves them alone, and so does this one
    /// with theirs. A marker that names no repository is nobody's to prune.
    mutating func planLeftovers(desiredPaths: Set<String>, prune: Bool, repository: String?) {
        for env in observed.environments.sorted(by: { $0.path < $1.path }) where !desiredPaths.contains(env.path) {
            if let marker = env.marker {
                let resource = "PythonEnvironment/\(marker.spec)"
                let ours = repository != nil && marker.repository == repository
                if prune && !ours {
                    let owner = marker.repository.map { "names repository '\($0)', not this one" }
                        ?? "names no repository (written before labsync recorded one)"
                    result.unmanaged.append(unmanagedItem(env, kind: .orphaned, detail: """
                        spec '\(marker.spec)' is not here; its marker \(owner): --prune leaves it
                        """))
                } else if prune {
                    result.steps.append(PlannedStep(host: host.name, resource: resource, action: .removeEnv,
                                                    reason: "its spec is gone (--prune)",
                                                    commands: removeCommands(env.path), environmentPath: env.path,
                                                    checkedPaths: [CheckedPath(env.path, ownedLeaf: true)]))
                } else {
                    result.unmanaged.append(unmanagedItem(env, kind: .orphaned,
                                                          detail: "spec '\(marker.spec)' is gone; --prune removes it"))
                }
            } else if env.markerError != nil {
                result.unmanaged.append(unmanagedItem(env, kind: .unreadableMarker, detail: env.markerError!))
            } else {
                result.unmanaged.append(unmanagedItem(env, kind: .unmarked,
                                                      detail: "no labsync marker: created by hand or another tool; left alone"))
            }
        }
    }

    func unmanagedItem(_ env: EnvironmentObservation, kind: UnmanagedItem.Kind, detail: String) -> UnmanagedItem {
        let python = env.python.isEmpty ? "python ?" : "python \(env.python)"
        let count = env.distributions.count
        return UnmanagedItem(host: host.name, path: env.path, kind: kind, spec: env.marker?.spec,
                             summary: "\(python), \(count) distribution\(count == 1 ? "" : "s")", detail: detail)
    }

    // MARK: interpreters

    /// nil (and an error recorded) when the host cannot provide the python asked for.
    mutating func choosePython(_ env: PythonEnvironmentSpec) -> ChosenPython? {
        switch env.python {
        case .any3:
            if let version = observed.python3, let path = observed.python3Path {
                return ChosenPython(path: path, version: version)
            }
            return ChosenPython(path: "/usr/bin/python3", version: "3")
        case .minor(let m):
            return pick(minor: "3.\(m)", env: env)
        case .latest:
            let offered = Set(observed.pythons.map(\.minor) + observed.aptPythons)
            guard let newest = offered.max(by: pythonVersionLess) else {
                error(env, "python: latest, but host '\(host.name)' has no python3.X installed and its APT offers none")
                return nil
            }
            return pick(minor: newest, env: env)
        }
    }

    mutating func pick(minor: String, env: PythonEnvironmentSpec) -> ChosenPython? {
        let candidates = observed.pythons.filter { $0.minor == minor }
        if let found = candidates.first(where: { $0.path.hasPrefix("/usr/bin/") }) ?? candidates.first {
            return ChosenPython(path: found.path, version: found.version)
        }
        if observed.aptPythons.contains(minor) {
            return ChosenPython(path: "/usr/bin/python\(minor)", version: minor)
        }
        let offers = observed.aptPythons.isEmpty ? "none" : observed.aptPythons.joined(separator: ", ")
        error(env, "python \(minor) is not installed on host '\(host.name)' and its APT does not offer python\(minor) (offers: \(offers))")
        return nil
    }

    /// Records the APT packages a create/recreate needs: the interpreter if missing,
    /// and venv support (ensurepip, Debian's python3.X-venv) for pip venvs.
    mutating func requirePython(_ python: ChosenPython, for env: PythonEnvironmentSpec, venvSupport: Bool) {
        let isDefault = env.python == .any3
        let installed = isDefault
            ? (observed.python3 != nil ? observed.pythons.first { $0.minor == minorVersion(of: observed.python3!) } : nil)
            : observed.pythons.first { $0.path == python.path }
        let interpreterMissing = isDefault ? observed.python3 == nil : installed == nil
        let apt = AptPackageNames(os: facts.os)
        let base = apt.python(minor: isDefault ? nil : python.minor)
        if interpreterMissing { aptPackages[base, default: []].insert(env.name) }
        if venvSupport && (interpreterMissing || installed?.venv == false) {
            aptPackages[apt.venv(forPython: base), default: []].insert(env.name)
        }
    }

    // MARK: commands

    func step(_ env: PythonEnvironmentSpec, _ action: StepKind, packages: [String] = [], reason: String,
              commands: [RemoteCommand], marker: LabsyncMarker? = nil) -> PlannedStep {
        PlannedStep(host: host.name, resource: resource(env), action: action, packages: packages, reason: reason,
                    commands: commands, markerAfter: marker,
                    markerPath: marker == nil ? nil : "\(env.path)/\(LabsyncMarker.fileName)",
                    environmentPath: env.path, checkedPaths: checkedPaths(env, action))
    }

    func checkedPaths(_ env: PythonEnvironmentSpec, _ action: StepKind) -> [CheckedPath] {
        PipDriver.checkedPaths(env, action)
    }
}

extension PipDriver {
    /// What the host must vouch for before the step writes (issue 11 #1): the
    /// venv, and for a step that makes it, the root above it, created root-owned.
    /// Under `owner` the venv is that user's (chown -R): it need only be a real
    /// directory, and the root above it stays root's. A removal checks the venv
    /// the same way, whoever owns it: what matters is where `rm -rf` lands.
    static func checkedPaths(_ env: PythonEnvironmentSpec, _ action: StepKind) -> [CheckedPath] {
        let creates = action == .createEnv || action == .recreateEnv
        let venv = CheckedPath(env.path, ownedLeaf: env.owner != nil || action == .removeEnv)
        return creates ? [CheckedPath(env.root, create: true), venv] : [venv]
    }

    /// The paths the steps below check, from the specs alone (judged at plan
    /// time too: Driver.pathsToCheck): each environment's as its create or
    /// remove step checks them, and uv's tool venv when an environment uses uv.
    public func pathsToCheck(_ context: HostContext) -> [CheckedPath] {
        let environments = Self.environments(context)
        var paths = environments.flatMap { Self.checkedPaths($0, $0.state == .absent ? .removeEnv : .createEnv) }
        if environments.contains(where: { $0.state == .present && $0.installer == .uv }) {
            paths += Self.uvToolPaths
        }
        return paths
    }

    static let uvToolPaths = [CheckedPath("/opt/labsync/tools", create: true), CheckedPath(uvToolVenv)]
}

extension HostPlanner {
    func createCommands(_ env: PythonEnvironmentSpec, _ python: ChosenPython) -> [RemoteCommand] {
        var commands = [RemoteCommand("mkdir", ["-p", "--", env.root], become: become)]
        switch env.installer {
        case .pip: commands.append(RemoteCommand(python.path, ["-m", "venv", env.path], become: become))
        case .uv: commands.append(RemoteCommand(PipDriver.uvToolPath, ["venv", "--python", python.path, env.path],
                                                become: become))
        }
        return commands + chown(env)
    }

    /// Deletes a venv only if it still carries a labsync marker, checked on the host
    /// at run time: a stale plan can never delete a hand-made venv.
    func removeCommands(_ path: String) -> [RemoteCommand] {
        [PipDriver.removeEnvironmentCommand(path: path, become: become)]
    }

    func installCommands(_ env: PythonEnvironmentSpec, _ requirements: [String]) -> [RemoteCommand] {
        // Requirement strings never start with "-" (the PEP 508 parser refuses
        // options), so they cannot be read as pip/uv options.
        let index = indexArguments(env.index ?? host.index)
        let command = switch env.installer {
        case .pip:
            asOwner(env, RemoteCommand("\(env.path)/bin/python",
                                       ["-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
                                           + noCache(env) + index + requirements,
                                       become: become))
        case .uv:
            asOwner(env, RemoteCommand(PipDriver.uvToolPath,
                                       ["pip", "install", PipDriver.uvSystemCerts] + noCache(env)
                                           + ["--python", "\(env.path)/bin/python"] + index + requirements,
                                       become: become))
        }
        return [command] + chown(env)
    }

    /// An `owner`'s venv is theirs: they can replace its `bin/python` (or a
    /// package's code, which pip and uv import or run while installing). So
    /// nothing in it ever runs as root: installs and uninstalls run as the
    /// owner (`runuser`, util-linux, essential on Debian and Ubuntu). Only
    /// root's own steps (create with the system python, chown, the marker
    /// check before `rm -rf`) touch it as root, and none of them executes it.
    func asOwner(_ env: PythonEnvironmentSpec, _ command: RemoteCommand) -> RemoteCommand {
        guard let owner = env.owner else { return command }
        return RemoteCommand("runuser", ["-u", owner, "--", command.executable] + command.arguments,
                             stdin: command.stdin, become: command.become)
    }

    /// The owner may have no writable home (a system account): no cache then.
    func noCache(_ env: PythonEnvironmentSpec) -> [String] {
        guard env.owner != nil else { return [] }
        return env.installer == .pip ? ["--no-cache-dir"] : ["--no-cache"]
    }

    func uninstallCommands(_ env: PythonEnvironmentSpec, _ names: [String]) -> [RemoteCommand] {
        switch env.installer {
        case .pip:
            [asOwner(env, RemoteCommand("\(env.path)/bin/python",
                                        ["-m", "pip", "uninstall", "--yes", "--disable-pip-version-check", "--no-input"]
                                            + names,
                                        become: become))]
        case .uv:
            [asOwner(env, RemoteCommand(PipDriver.uvToolPath,
                                        ["pip", "uninstall"] + noCache(env) + ["--python", "\(env.path)/bin/python"] + names,
                                        become: become))]
        }
    }

    func chown(_ env: PythonEnvironmentSpec) -> [RemoteCommand] {
        guard let owner = env.owner else { return [] }
        return [RemoteCommand("chown", ["-R", "--", "\(owner):", env.path], become: become)]
    }

    // MARK: host-wide steps

    mutating func finish() -> DriverResult {
        if !needsUV.isEmpty {
            // The uv tool venv is a pip venv of the default python3.
            let apt = AptPackageNames(os: facts.os)
            if observed.python3 == nil { aptPackages[apt.python(minor: nil), default: []].formUnion(needsUV) }
            let python3Venv = observed.python3.flatMap { v in observed.pythons.first { $0.minor == minorVersion(of: v) } }?.venv ?? false
            if !python3Venv { aptPackages[apt.venv(forPython: apt.python(minor: nil)), default: []].formUnion(needsUV) }
        }
        var hostSteps: [PlannedStep] = []
        if !aptPackages.isEmpty {
            let packages = aptPackages.keys.sorted()
            // "for ml: python3.13, python3.13-venv; for fast: python3-venv"
            var byEnvironment: [String: [String]] = [:]
            for package in packages {
                for env in aptPackages[package]! { byEnvironment[env, default: []].append(package) }
            }
            let reason = byEnvironment.keys.sorted()
                .map { "for \($0): \(byEnvironment[$0]!.joined(separator: ", "))" }
                .joined(separator: "; ")
            hostSteps.append(PlannedStep(host: host.name, resource: hostResource, action: .ensurePython,
                                         packages: packages, reason: reason, commands: aptInstall(packages)))
        }
        if !needsUV.isEmpty {
            let python = observed.python3Path ?? "/usr/bin/python3"
            let venv = PipDriver.uvToolVenv
            hostSteps.append(PlannedStep(
                host: host.name, resource: hostResource, action: .ensureUV, packages: ["uv"],
                reason: (observed.uv != nil && !uvIsNewEnough ? "uv \(observed.uvVersion ?? "") is older than \(PipDriver.uvRequirement); " : "")
                    + "installer: uv for \(needsUV.sorted().joined(separator: ", "))",
                commands: [
                    RemoteCommand("mkdir", ["-p", "--", "/opt/labsync/tools"], become: become),
                    RemoteCommand(python, ["-m", "venv", venv], become: become),
                    RemoteCommand("\(venv)/bin/python",
                                  ["-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
                                      + indexArguments(host.index) + [PipDriver.uvRequirement], become: become),
                ],
                checkedPaths: PipDriver.uvToolPaths))
        }
        // What each environment's steps need (issue 11 #16): a failed ensure-uv
        // must not skip a pip environment, nor a failed ensure-python an
        // environment whose interpreter is already there.
        let needsPython = Set(aptPackages.values.joined())
        let prefix = "\(PipDriver.kind)/"
        for i in result.steps.indices where result.steps[i].resource.hasPrefix(prefix) {
            let name = String(result.steps[i].resource.dropFirst(prefix.count))
            var needs: [String] = []
            if needsPython.contains(name) { needs.append(StepKind.ensurePython.name) }
            if needsUV.contains(name) { needs.append(StepKind.ensureUV.name) }
            result.steps[i].needs = needs
        }
        // The uv tool venv is made by python3's venv module, which ensure-python may install.
        for i in hostSteps.indices where hostSteps[i].action == .ensureUV {
            hostSteps[i].needs = [StepKind.ensurePython.name]
        }
        for i in hostSteps.indices where hostSteps[i].action == .ensurePython { hostSteps[i].needs = [] }
        result.steps = hostSteps + result.steps
        return result
    }

    /// `apt-get install`; when that fails (lists never fetched, or stale), `apt-get
    /// update` once and retry.
    func aptInstall(_ packages: [String]) -> [RemoteCommand] {
        [RemoteCommand("/bin/sh", ["-c", PipDriver.Scripts.aptInstall, "labsync-apt-install"] + packages, become: become)]
    }
}

/// pip/uv flags for an index configuration.
public func indexArguments(_ index: IndexSettings?) -> [String] {
    guard let index else { return [] }
    var args: [String] = []
    if let url = index.url { args += ["--index-url", url] }
    for url in index.extraUrls { args += ["--extra-index-url", url] }
    for dir in index.findLinks { args += ["--find-links", dir] }
    if index.noIndex { args.append("--no-index") }
    return args
}
