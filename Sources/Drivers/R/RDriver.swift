// The R driver: REnvironment specs on one host → steps.
//
// Decisions, for each library (`<root>/<name>`), in this order:
//  1. state: absent → `remove-library` when the directory carries a marker naming
//     this spec; a library without one is never deleted (listed as unmanaged).
//  2. Host-wide `ensure-r` (apt, only what is missing): r-base-core without R,
//     r-base-dev without the build tools source packages need, r-cran-remotes when
//     an `==` pin must come from the archive, r-cran-irkernel when a hub wants the
//     library as a kernel.
//  3. No library → `create-library`.
//  4. `uninstall` (`R CMD REMOVE`): what labsync installed (marker) and the spec
//     dropped, plus under `unmanaged: remove` what nobody declared — never anything
//     a declared package needs (Depends/Imports/LinkingTo, transitively).
//  5. `install`: ONE step (one R process, Scripts/r_install.sh) for every package
//     missing or whose installed version its constraint refuses.
//  With `prune`, marked libraries under the observed roots that no spec wants →
//  `remove-library`. Each library is its own group (`environmentPath`), so a
//  failed install never stops another library.
//
// Known limits: a library built for an older R is not rebuilt when R changes
// (its marker records the R it was made with; `status` shows both).

import Remote
import Specs

public struct RDriver: Driver {
    static let kind = "REnvironment"
    /// `r: system` is Debian's R: its front end and home.
    public static let systemR = "/usr/bin/R"
    public static let rHomes = ["/usr/lib/R", "/usr/local/lib/R"]
    public static let rBinaries = [systemR, "/usr/local/bin/R"]
    /// Where Debian's r-cran-* and R's own packages live.
    public static let systemLibraries = ["/usr/local/lib/R/site-library", "/usr/lib/R/site-library", "/usr/lib/R/library"]
    public static let systemPackages = ["IRkernel", "remotes"]
    /// What r-base-dev brings for `R CMD INSTALL` of source packages.
    public static let buildTools = ["/usr/bin/make", "/usr/bin/cc", "/usr/lib/R/etc/Makeconf"]

    public typealias Observed = RObservation

    public init() {}

    public var name: String { "r" }
    public var kinds: [String] { [Self.kind] }
    public var stepKinds: [StepKind] { [.ensureR, .removeLibrary, .createLibrary, .rUninstall, .rInstall] }
    public var observeFragment: String { String(decoding: PackageResources.r_observe_py, as: UTF8.self) }

    /// The libraries that land on this host (after hostSelector fan-out).
    static func libraries(_ context: HostContext) -> [REnvironmentSpec] {
        context.specs.rEnvironments.filter { env in
            context.specs.hosts(for: env).contains { $0.name == context.host.name }
        }
    }

    public func resources(_ context: HostContext) -> [String] {
        Self.libraries(context).map { "\(Self.kind)/\($0.name)" }
    }

    /// `install`: Scripts/r_install.sh with the library, the repositories, "--",
    /// and one argument per package ("name" or "name OP version").
    public static func installCommand(library: String, repos: [String], entries: [String], become: Become) -> RemoteCommand {
        RemoteCommand("/bin/sh", ["-c", Scripts.install, "labsync-r-install", library] + repos + ["--"] + entries,
                      become: become)
    }

    /// `rm -rf` of a library, only while it carries a labsync marker (checked on
    /// the host when it runs; exit 3 and a message otherwise).
    public static func removeLibraryCommand(path: String, become: Become) -> RemoteCommand {
        RemoteCommand("/bin/sh", ["-c", Scripts.removeLibrary, "labsync-remove-library", path], become: become)
    }

    static func checkedPath(_ env: REnvironmentSpec, _ action: StepKind) -> CheckedPath {
        CheckedPath(env.path, create: action == .createLibrary, ownedLeaf: action == .removeLibrary)
    }

    /// Each library's path as its create, change or remove steps check it
    /// (judged at plan time too: Driver.pathsToCheck).
    public func pathsToCheck(_ context: HostContext) -> [CheckedPath] {
        Self.libraries(context).flatMap { env in
            env.state == .absent ? [Self.checkedPath(env, .removeLibrary)]
                : [Self.checkedPath(env, .createLibrary), Self.checkedPath(env, .rInstall)]
        }
    }

    public static func observationRequest(for libraries: [REnvironmentSpec]) -> RObservationRequest {
        RObservationRequest(roots: Set([REnvironmentSpec.defaultRoot] + libraries.map(\.root)).sorted())
    }

    /// Always asked, like pip: libraries made by hand under the default root are worth listing.
    public func observationRequest(_ context: HostContext) -> JSONValue? {
        JSONValue(encoding: Self.observationRequest(for: Self.libraries(context)))
    }

    /// IRkernel's own kernelspec (r-cran-irkernel), with the full path of the
    /// system R and the library first on R_LIBS (the site library after it, so
    /// Debian's IRkernel is found whatever R_LIBS_SITE says).
    public func kernels(for requests: [KernelRequest], _ context: HostContext) -> [KernelOffer] {
        let mine = Dictionary(Self.libraries(context).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        return requests.compactMap { request in
            guard request.register, let env = mine[request.environment], env.state == .present else { return nil }
            return KernelOffer(environment: env.name, resource: "\(Self.kind)/\(env.name)",
                               displayName: env.kernel?.displayName ?? "R (\(env.name))", language: "R",
                               argv: [Self.systemR, "--slave", "-e", "IRkernel::main()", "--args", "{connection_file}"],
                               env: ["R_LIBS": "\(env.path):/usr/lib/R/site-library"])
        }
    }

    public func plan(_ context: HostContext, observed: RObservation?, hooks: HookInputs) -> DriverResult {
        let kernelNames = Set(hooks.kernelRequests.filter(\.register).map(\.environment))
        var planner = RHostPlanner(host: context.host, observed: observed ?? RObservation(),
                                   apt: AptPackageNames(os: context.facts.os))
        let libraries = Self.libraries(context)
        for env in libraries.sorted(by: { $0.name < $1.name }) {
            planner.plan(env, kernel: kernelNames.contains(env.name))
        }
        planner.planLeftovers(desiredPaths: Set(libraries.map(\.path)), prune: context.prune)
        return planner.finish()
    }

    public func statusEntries(_ observed: RObservation) -> [StatusEntry] {
        observed.libraries.map { lib in
            let r = lib.marker.map { "R \($0.python)" } ?? "R \(observed.r ?? "?")"
            return StatusEntry(path: lib.path, resource: lib.marker.map { "\(Self.kind)/\($0.spec)" },
                               summary: "\(r)  \(lib.packages.count) packages",
                               packages: lib.packages.sorted(by: { $0.name < $1.name }).map { "\($0.name)==\($0.version)" },
                               problem: lib.markerError)
        }
    }

    /// Every package in the library pinned, one `name (== version)` line each:
    /// as a spec's `packages`, they reproduce the library (dependencies included).
    public func export(resource: String, _ context: HostContext, observed: RObservation) -> ExportResult? {
        guard resource.hasPrefix(Self.kind + "/") else { return nil }
        let name = String(resource.dropFirst(Self.kind.count + 1))
        guard let env = context.specs.rEnvironments.first(where: { $0.name == name }) else { return nil }
        guard let found = observed.library(at: env.path) else {
            return .failure("\(context.host.name) has no R library at \(env.path); run `labsync apply` first")
        }
        return .text(Self.exportLines(found).joined(separator: "\n"))
    }

    public static func exportLines(_ library: RLibraryObservation) -> [String] {
        library.packages.sorted { $0.name < $1.name }.map { "\($0.name) (== \($0.version))" }
    }
}

extension StepKind {
    /// Host-wide (resource `Host/<name>`): apt installs R and what the libraries need.
    public static let ensureR = StepKind("ensure-r", driver: "r", symbol: .add, phase: .hostWide, order: 10)
    public static let removeLibrary = StepKind("remove-library", driver: "r", symbol: .remove, phase: .resources, order: 11)
    public static let createLibrary = StepKind("create-library", driver: "r", symbol: .add, phase: .resources, order: 12)
    /// Before `install`, as for pip: it never removes what a declared package needs.
    public static let rUninstall = StepKind("uninstall", driver: "r", symbol: .remove, phase: .resources, order: 13,
                                            summary: .change)
    public static let rInstall = StepKind("install", driver: "r", symbol: .change, phase: .resources, order: 14)
}

/// Accumulates one host's result.
private struct RHostPlanner {
    let host: HostSpec
    let observed: RObservation
    let become: Become
    var result = DriverResult()
    /// APT packages for `ensure-r`, with the libraries that need them.
    var aptPackages: [String: Set<String>] = [:]
    /// This host's distribution's package names (AptPackageNames).
    let apt: AptPackageNames

    init(host: HostSpec, observed: RObservation, apt: AptPackageNames) {
        self.host = host
        self.observed = observed
        self.apt = apt
        self.become = Become(rawValue: host.become.rawValue) ?? .none
    }

    func resource(_ env: REnvironmentSpec) -> String { "\(RDriver.kind)/\(env.name)" }
    var rBinary: String { observed.rBinary ?? RDriver.systemR }
    /// The R a library is made with: the marker records it.
    var rVersion: String { observed.r ?? "" }

    mutating func error(_ env: REnvironmentSpec, _ message: String) {
        result.errors.append(PlanError(host: host.name, resource: resource(env), message: message))
    }

    mutating func plan(_ env: REnvironmentSpec, kernel: Bool) {
        let existing = observed.library(at: env.path)
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
                error(env, "\(env.path) belongs to REnvironment '\(owner)' (its labsync marker says so)")
                return
            }
        }
        if observed.r == nil { aptPackages[apt.rBase, default: []].insert(env.name) }
        if !Set(RDriver.buildTools).isSubset(of: observed.buildTools) {
            aptPackages[apt.rBuildTools, default: []].insert(env.name)
        }
        if kernel && observed.systemPackages["IRkernel"] == nil {
            aptPackages[apt.rKernel, default: []].insert(env.name)
        }
        if existing == nil {
            result.steps.append(step(env, .createLibrary, reason: "no R library at \(env.path)",
                                     commands: [RemoteCommand("mkdir", ["-p", "--", env.path], become: become)],
                                     marker: LabsyncMarker(spec: env.name, packages: [], python: rVersion)))
        }
        planPackages(env, existing: existing)
    }

    mutating func planPackages(_ env: REnvironmentSpec, existing: RLibraryObservation?) {
        // Only names R accepts: a hand-made directory with another name is never
        // passed to R CMD REMOVE.
        let packages = (existing?.packages ?? []).filter { RRequirement.checkName($0.name) == nil }
        let installed = Dictionary(packages.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let recorded = (existing?.marker?.packages ?? []).compactMap { try? RRequirement(parsing: $0) }
        let recordedText = Set(recorded.map(\.description))
        let declared = env.packages.map(\.value)
        let declaredNames = Set(declared.map(\.name))
        let markerVersion = existing?.marker?.python.nilIfEmpty ?? rVersion

        let needed = closure(of: declaredNames, in: installed)
        let removedFromSpec = Set(recorded.map(\.name)).sorted()
            .filter { !declaredNames.contains($0) && installed[$0] != nil && !needed.contains($0) }
        let accounted = needed.union(removedFromSpec)
        let extras = installed.keys.filter { !accounted.contains($0) }.sorted()
        // Report the top of what nobody declared (a hand-installed package, not its dependencies).
        let requiredByExtras = Set(extras.flatMap { installed[$0]!.requires })
        let tops = extras.filter { !requiredByExtras.contains($0) }
        if env.unmanaged != .keep {
            let action = env.unmanaged == .remove ? "will be uninstalled (unmanaged: remove)" : "unmanaged: report"
            for name in tops.isEmpty ? extras : tops {
                let deps = closure(of: [name], in: installed).intersection(extras).subtracting([name])
                let also = deps.isEmpty ? "" : " (with \(deps.sorted().joined(separator: ", ")))"
                result.drift.append(DriftItem(host: host.name, resource: resource(env), kind: .extraPackage, package: name,
                                              detail: "\(name) \(installed[name]!.version)\(also) is installed but not declared; \(action)",
                                              installed: installed[name]!.version))
            }
        }
        let uninstall = (removedFromSpec + (env.unmanaged == .remove ? extras : [])).sorted()
        if !uninstall.isEmpty {
            var parts: [String] = []
            if !removedFromSpec.isEmpty { parts.append("removed from the spec: \(removedFromSpec.joined(separator: ", "))") }
            if env.unmanaged == .remove && !extras.isEmpty {
                parts.append("not declared (unmanaged: remove): \(extras.joined(separator: ", "))")
            }
            let removed = Set(removedFromSpec)
            let kept = recorded.filter { !removed.contains($0.name) }.map(\.description)
            result.steps.append(step(env, .rUninstall, packages: uninstall, reason: parts.joined(separator: "; "),
                                     commands: [RemoteCommand(rBinary, ["CMD", "REMOVE", "-l", env.path] + uninstall,
                                                              become: become)],
                                     marker: LabsyncMarker(spec: env.name, packages: kept, python: markerVersion)))
        }

        var toInstall: [RRequirement] = []
        var why: [String] = []
        for req in declared {
            if let package = installed[req.name] {
                if let version = try? RVersion(package.version), req.isSatisfied(by: version) { continue }
                why.append("\(req.name) \(package.version) does not satisfy \(req.constraint.map(\.description) ?? "")")
                if recordedText.contains(req.description) {
                    result.drift.append(DriftItem(host: host.name, resource: resource(env), kind: .changedPackage,
                                                  package: req.name,
                                                  detail: "\(req.name) is \(package.version) but labsync installed \(req); changed by hand",
                                                  wanted: req.description, installed: package.version))
                }
            } else {
                why.append("missing: \(req.name)")
                if recordedText.contains(req.description) {
                    result.drift.append(DriftItem(host: host.name, resource: resource(env), kind: .missingPackage,
                                                  package: req.name,
                                                  detail: "labsync installed \(req) but it is gone; removed by hand",
                                                  wanted: req.description))
                }
            }
            toInstall.append(req)
        }
        guard !toInstall.isEmpty else { return }
        if toInstall.contains(where: { $0.pinnedVersion != nil }) && observed.systemPackages["remotes"] == nil {
            aptPackages[apt.rRemotes, default: []].insert(env.name)
        }
        // One argument per package: "name" or "name OP version" (validated: no spaces inside).
        let entries = toInstall.map { req in req.constraint.map { "\(req.name) \($0.op.rawValue) \($0.version)" } ?? req.name }
        let reason = existing == nil ? "new library" : why.joined(separator: "; ")
        result.steps.append(step(env, .rInstall, packages: toInstall.map(\.description), reason: reason,
                                 commands: [RDriver.installCommand(library: env.path, repos: env.repos.map(\.value),
                                                                   entries: entries, become: become)],
                                 marker: LabsyncMarker(spec: env.name, packages: declared.map(\.description),
                                                       python: markerVersion)))
    }

    func closure(of roots: Set<String>, in installed: [String: RPackage]) -> Set<String> {
        dependencyClosure(of: roots, requires: { installed[$0]?.requires })
    }

    mutating func planAbsent(_ env: REnvironmentSpec, _ existing: RLibraryObservation?) {
        guard let existing else { return }
        guard let marker = existing.marker else {
            result.unmanaged.append(unmanagedItem(existing, kind: existing.markerError == nil ? .unmarked : .unreadableMarker,
                                                  detail: "state: absent, but the library has no readable labsync marker: not removed"))
            return
        }
        guard marker.spec == env.name else {
            error(env, "\(env.path) belongs to REnvironment '\(marker.spec)' (its labsync marker says so); not removed")
            return
        }
        result.steps.append(step(env, .removeLibrary, reason: "state: absent", commands: [removeCommand(env.path)]))
    }

    /// Libraries under the roots that no spec on this host describes: listed, never
    /// deleted unless marked and `--prune`.
    mutating func planLeftovers(desiredPaths: Set<String>, prune: Bool) {
        for lib in observed.libraries.sorted(by: { $0.path < $1.path }) where !desiredPaths.contains(lib.path) {
            if let marker = lib.marker {
                if prune {
                    result.steps.append(PlannedStep(host: host.name, resource: "\(RDriver.kind)/\(marker.spec)",
                                                    action: .removeLibrary, reason: "its spec is gone (--prune)",
                                                    commands: [removeCommand(lib.path)], environmentPath: lib.path,
                                                    checkedPaths: [CheckedPath(lib.path, ownedLeaf: true)]))
                } else {
                    result.unmanaged.append(unmanagedItem(lib, kind: .orphaned,
                                                          detail: "spec '\(marker.spec)' is gone; --prune removes it"))
                }
            } else if let problem = lib.markerError {
                result.unmanaged.append(unmanagedItem(lib, kind: .unreadableMarker, detail: problem))
            } else {
                result.unmanaged.append(unmanagedItem(lib, kind: .unmarked,
                                                      detail: "no labsync marker: created by hand or another tool; left alone"))
            }
        }
    }

    func unmanagedItem(_ lib: RLibraryObservation, kind: UnmanagedItem.Kind, detail: String) -> UnmanagedItem {
        let count = lib.packages.count
        return UnmanagedItem(host: host.name, path: lib.path, kind: kind, spec: lib.marker?.spec,
                             summary: "R library, \(count) package\(count == 1 ? "" : "s")", detail: detail)
    }

    func removeCommand(_ path: String) -> RemoteCommand {
        RDriver.removeLibraryCommand(path: path, become: become)
    }

    func step(_ env: REnvironmentSpec, _ action: StepKind, packages: [String] = [], reason: String,
              commands: [RemoteCommand], marker: LabsyncMarker? = nil) -> PlannedStep {
        PlannedStep(host: host.name, resource: resource(env), action: action, packages: packages, reason: reason,
                    commands: commands, markerAfter: marker,
                    markerPath: marker == nil ? nil : "\(env.path)/\(LabsyncMarker.fileName)",
                    environmentPath: env.path,
                    // Resolved on the host first (issue 11 #1); create-library makes the
                    // missing directories itself, each checked once made.
                    checkedPaths: [RDriver.checkedPath(env, action)])
    }

    mutating func finish() -> DriverResult {
        guard !aptPackages.isEmpty else { return result }
        let packages = aptPackages.keys.sorted()
        var byLibrary: [String: [String]] = [:]
        for package in packages {
            for env in aptPackages[package]! { byLibrary[env, default: []].append(package) }
        }
        let reason = byLibrary.keys.sorted()
            .map { "for \($0): \(byLibrary[$0]!.joined(separator: ", "))" }
            .joined(separator: "; ")
        let ensure = PlannedStep(host: host.name, resource: "Host/\(host.name)", action: .ensureR, packages: packages,
                                 reason: reason,
                                 commands: [RemoteCommand("/bin/sh", ["-c", CoreScripts.aptInstall, "labsync-apt-install"]
                                                              + packages, become: become)])
        result.steps = [ensure] + result.steps
        return result
    }
}

extension String {
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}
