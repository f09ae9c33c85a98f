// The driver protocol: everything one kind of resource knows, and nothing the
// reconciler core has to know about it.
//
//   observe  one remote command per host, composed by the core from every
//            driver's observe fragment (a Python file of the driver's own,
//            see ObserveScript.swift); the driver decodes its part of the JSON
//            into its own `Observed` type
//   plan     pure: (specs on this host, its observation, what other drivers
//            asked of it) → steps, drift, unmanaged things, errors
//   apply    the executor runs each step's `commands` in the order its
//            `StepKind.phase` says, then writes `markerAfter` to `markerPath`
//
// Steps carry their commands as values (computed while planning), so a plan
// can be printed, compared, golden-tested and reviewed with exactly what will
// run. A new driver is a folder under Sources/Drivers and one line in
// Registry.swift; DESIGN.md "Writing a driver" walks through it.

import Remote
import Specs

public protocol Driver: Sendable {
    /// What this driver's observe fragment reports for one host.
    associatedtype Observed: Decodable & Sendable

    /// Stable and unique: the key of this driver's part of the observation
    /// JSON and of its request, and what step kinds name as their driver.
    var name: String { get }
    /// The spec kinds it reconciles ("PythonEnvironment").
    var kinds: [String] { get }
    /// Every step kind it plans (documentation, metrics, `labsync explain`).
    var stepKinds: [StepKind] { get }

    /// Its observe fragment: Python 3 source (standard library only) that
    /// defines `observe(request)` returning a JSON-serialisable value. It runs
    /// in a namespace of its own with the helpers of `observe_lib.py`.
    var observeFragment: String { get }
    /// What the fragment should look at on this host; nil: not run there.
    func observationRequest(_ context: HostContext) -> JSONValue?
    /// The `checkedPaths` its steps on this host may carry, known from the
    /// specs alone. The observation judges them by the apply script's rules,
    /// so a step whose path the host would refuse becomes a plan error, shown
    /// by `plan` before anything runs (the apply script still checks again:
    /// the host may change in between). A path not listed is judged at apply only.
    func pathsToCheck(_ context: HostContext) -> [CheckedPath]

    /// "Kind/name" of every resource of its kinds on this host, present or
    /// absent: what `status` lists and what is reported when the host cannot
    /// be observed.
    func resources(_ context: HostContext) -> [String]

    /// Kernels this driver's resources want from other drivers' environments
    /// (the cross-driver hook; see KernelHook.swift).
    func kernelRequests(_ context: HostContext) -> [KernelRequest]
    /// The kernels it provides for `requests` that name its own resources.
    func kernels(for requests: [KernelRequest], _ context: HostContext) -> [KernelOffer]

    /// Pure: no IO, no clock, no randomness. Same input, same output, same order.
    /// `observed` is nil when the fragment did not run (a host without python3).
    func plan(_ context: HostContext, observed: Observed?, hooks: HookInputs) -> DriverResult

    /// `labsync status`: what it found on the host, managed or not.
    func statusEntries(_ observed: Observed) -> [StatusEntry]
    /// `labsync export KIND/NAME`: the resource's installed state as the text a
    /// spec can take back (a requirements file, R's pinned list); nil: not its resource.
    func export(resource: String, _ context: HostContext, observed: Observed) -> ExportResult?
}

extension Driver {
    public func pathsToCheck(_ context: HostContext) -> [CheckedPath] { [] }
    public func kernelRequests(_ context: HostContext) -> [KernelRequest] { [] }
    public func kernels(for requests: [KernelRequest], _ context: HostContext) -> [KernelOffer] { [] }
    public func statusEntries(_ observed: Observed) -> [StatusEntry] { [] }
    public func export(resource: String, _ context: HostContext, observed: Observed) -> ExportResult? { nil }
}

/// What a driver plans against: one host, all specs, run options.
public struct HostContext: Sendable {
    public var host: HostSpec
    public var specs: SpecSet
    /// Remove marked resources that no spec wants any more.
    public var prune: Bool
    /// Facts the core observes on every host (OS, systemd).
    public var facts: HostObservation.Facts
    /// Compares secrets with the fingerprints a host reports (rotation).
    public var secrets: SecretChecker

    public init(host: HostSpec, specs: SpecSet, prune: Bool = false,
                facts: HostObservation.Facts = .init(), secrets: SecretChecker = .unavailable) {
        self.secrets = secrets
        self.host = host
        self.specs = specs
        self.prune = prune
        self.facts = facts
    }

    /// The host's become method as the transport knows it.
    public var become: Become { Become(rawValue: host.become.rawValue) ?? .none }
    public var hostResource: String { "Host/\(host.name)" }
}

/// One directory a driver found on a host, for `labsync status`.
public struct StatusEntry: Sendable, Hashable {
    public var path: String
    /// "PythonEnvironment/ml" when a labsync marker names its owner; nil: unmanaged.
    public var resource: String?
    /// "python 3.11.2  12 packages".
    public var summary: String
    /// "name==version" lines, for `--packages`.
    public var packages: [String]
    /// Why its marker cannot be read, if it cannot.
    public var problem: String?
    public init(path: String, resource: String?, summary: String, packages: [String], problem: String? = nil) {
        self.path = path
        self.resource = resource
        self.summary = summary
        self.packages = packages
        self.problem = problem
    }
}

/// What `export` printed for a resource, or why it could not.
public enum ExportResult: Sendable, Hashable {
    case text(String)
    case failure(String)
}

/// What a driver found for one host: Ansible-like, the same shape for every driver.
public struct DriverResult: Sendable, Hashable {
    public var steps: [PlannedStep] = []
    public var drift: [DriftItem] = []
    public var unmanaged: [UnmanagedItem] = []
    public var errors: [PlanError] = []
    public init(steps: [PlannedStep] = [], drift: [DriftItem] = [], unmanaged: [UnmanagedItem] = [],
                errors: [PlanError] = []) {
        self.steps = steps
        self.drift = drift
        self.unmanaged = unmanaged
        self.errors = errors
    }

    public mutating func append(_ other: DriverResult) {
        steps += other.steps
        drift += other.drift
        unmanaged += other.unmanaged
        errors += other.errors
    }
}

/// A kind of step, as a value its driver defines (Terraform's action plus the
/// ordering data the executor needs). Identified by `name`: a saved JSON plan
/// carries only the name, and two kinds of one name are the same kind.
public struct StepKind: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Terraform-like: `+` adds, `~` changes, `-` removes, `-/+` replaces.
    public enum Symbol: String, Sendable, Hashable { case add = "+", change = "~", remove = "-", replace = "-/+" }
    /// When the host script runs it.
    public enum Phase: Int, Sendable, Hashable, Comparable {
        /// Host-wide, under the host lock alone, one after another (apt).
        case hostWide = 0
        /// Per resource: the steps of one resource in order, resources in parallel.
        case resources = 1
        /// After every resource, one after another in `order` (the hub's
        /// configuration, which needs the kernels' environments to exist).
        case afterResources = 2
        public static func < (a: Phase, b: Phase) -> Bool { a.rawValue < b.rawValue }
    }
    /// How the plan summary counts it.
    public enum SummaryKind: Sendable, Hashable { case add, change, remove, replace }

    /// "install", "ensure-python": what plans, logs, metrics and the journal show.
    public var name: String
    public var driver: String
    public var symbolKind: Symbol
    public var phase: Phase
    /// Order among the kinds of one resource (and in the after-resources phase).
    public var order: Int
    public var summaryKind: SummaryKind

    public init(_ name: String, driver: String, symbol: Symbol, phase: Phase, order: Int,
                summary: SummaryKind? = nil) {
        self.name = name
        self.driver = driver
        self.symbolKind = symbol
        self.phase = phase
        self.order = order
        let counted: SummaryKind = switch symbol {
        case .add: .add
        case .change: .change
        case .remove: .remove
        case .replace: .replace
        }
        self.summaryKind = summary ?? counted
    }

    public var symbol: String { symbolKind.rawValue }
    public var rawValue: String { name }
    public var description: String { name }
    public var isHostWide: Bool { phase == .hostWide }

    /// Plan order within one resource: phase, then the driver's order, then name.
    public static func precedes(_ a: StepKind, _ b: StepKind) -> Bool {
        (a.phase.rawValue, a.order, a.name) < (b.phase.rawValue, b.order, b.name)
    }

    public static func == (a: StepKind, b: StepKind) -> Bool { a.name == b.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }

    /// A saved plan's step kind: the name alone (a saved plan is only compared
    /// with a fresh one, by name, and never executed).
    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        self.init(name, driver: "", symbol: .change, phase: .resources, order: 0)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(name)
    }
}

/// One step of a plan, with everything the executor needs to carry it out.
public struct PlannedStep: Sendable, Hashable {
    public var host: String
    /// "PythonEnvironment/<name>" or, for host-wide steps, "Host/<name>".
    public var resource: String
    public var action: StepKind
    /// What the step installs, removes or touches (requirement strings, APT
    /// packages, user names); empty otherwise.
    public var packages: [String]
    /// Why, for people.
    public var reason: String
    /// Run in order; stop at the first failure.
    public var commands: [RemoteCommand]
    /// Written to `markerPath` (with the host's become, `writtenAt` stamped) only
    /// after every command succeeded.
    public var markerAfter: LabsyncMarker?
    public var markerPath: String?
    /// The directory this step works on (a venv, an R library); steps of one
    /// group run in order, different groups of a host may run in parallel.
    /// nil: grouped by `resource`.
    public var environmentPath: String?
    /// Secrets the step's commands need, by placeholder. A command's stdin holds
    /// the placeholder (`SecretToken.token(name)`); the executor puts the
    /// resolved value there only when it renders the host script, so the value is
    /// never in a plan (any format), the step's reason, or a command line.
    public var secrets: [String: SecretReference]
    /// The host-wide step kinds (by name) this step needs, when the plan has them
    /// for this host: if one of those fails, this step is skipped, and steps that
    /// do not need it still run. nil: it needs every host-wide step (the safe
    /// default for a driver that does not say).
    public var needs: [String]?
    /// Directories the step writes in or removes, checked on the host (resolved
    /// component by component) right before its first command: one that fails
    /// fails the step, and nothing of it runs.
    public var checkedPaths: [CheckedPath]

    public init(host: String, resource: String, action: StepKind, packages: [String] = [], reason: String,
                commands: [RemoteCommand] = [], markerAfter: LabsyncMarker? = nil, markerPath: String? = nil,
                environmentPath: String? = nil, secrets: [String: SecretReference] = [:], needs: [String]? = nil,
                checkedPaths: [CheckedPath] = []) {
        self.checkedPaths = checkedPaths
        self.needs = needs
        self.environmentPath = environmentPath
        self.secrets = secrets
        self.host = host
        self.resource = resource
        self.action = action
        self.packages = packages
        self.reason = reason
        self.commands = commands
        self.markerAfter = markerAfter
        self.markerPath = markerPath
    }
}

/// A directory a step may write in only if nobody but root (or the user the
/// apply runs as) can steer it: every component from `/` is a real directory,
/// not a symbolic link, owned by root, writable by neither group nor others (a
/// root-owned sticky directory such as /tmp may be passed through). Checked on
/// the host by `CoreScripts.safeDirectory`, inside the apply script's round trip.
public struct CheckedPath: Sendable, Hashable {
    public var path: String
    /// Create the missing components (0755 root), each checked once made.
    public var create: Bool
    /// The path itself belongs to a spec's `owner` (or is about to be removed):
    /// it must be a real directory, whoever owns it; its parents are checked as usual.
    public var ownedLeaf: Bool

    public init(_ path: String, create: Bool = false, ownedLeaf: Bool = false) {
        self.path = path
        self.create = create
        self.ownedLeaf = ownedLeaf
    }

    /// The call of the shell function, as the apply script runs it.
    public var shellLine: String {
        (["labsync_safe_dir"] + (create ? ["-c"] : []) + (ownedLeaf ? ["-o"] : []) + [ShellQuote.quote(path)])
            .joined(separator: " ")
    }

    /// For plans: the path, and how it is checked.
    public var summary: String {
        path + (create ? " (made if missing)" : "") + (ownedLeaf ? " (any owner)" : "")
    }
}

/// The secret placeholder a command's stdin carries until the executor renders it.
public enum SecretToken {
    public static func token(_ name: String) -> String { "@@labsync-secret:\(name)@@" }
    /// Replaced by a fresh `SecretFingerprint` line of the secret's value.
    public static func fingerprintToken(_ name: String) -> String { "@@labsync-secret-fingerprint:\(name)@@" }
}

/// A difference between the host and what labsync declared or recorded that the
/// specs did not cause: somebody changed the host by hand.
public struct DriftItem: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// Installed, declared by nobody, needed by nothing declared.
        case extraPackage = "extra-package"
        /// labsync installed it (marker) and the spec still wants it, but it is gone.
        case missingPackage = "missing-package"
        /// labsync installed it, the spec did not change, but the version no longer matches.
        case changedPackage = "changed-package"
    }
    public var host: String
    public var resource: String
    public var kind: Kind
    /// The package (Python distribution, R package) that drifted.
    public var package: String
    public var detail: String
    /// What the spec (or labsync's marker) asks for, e.g. `numpy==1.26.4`; nil for
    /// a package nobody declared. With `installed`, what the status page shows
    /// side by side.
    public var wanted: String?
    /// The version on the host; nil when it is gone.
    public var installed: String?
    public init(host: String, resource: String, kind: Kind, package: String, detail: String,
                wanted: String? = nil, installed: String? = nil) {
        self.host = host
        self.resource = resource
        self.kind = kind
        self.package = package
        self.detail = detail
        self.wanted = wanted
        self.installed = installed
    }
}

/// Something labsync found but does not manage (or no longer manages): listed, left alone.
public struct UnmanagedItem: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// No labsync marker: created by hand or by another tool. Never deleted.
        case unmarked
        /// Marked by labsync, but no spec wants it here any more (`--prune` removes it).
        case orphaned
        /// The marker exists but cannot be read. Never deleted.
        case unreadableMarker = "unreadable-marker"
    }
    public var host: String
    public var path: String
    public var kind: Kind
    /// The owning spec named in the marker, if any.
    public var spec: String?
    /// What it holds, in the driver's words ("python 3.11.2, 4 distributions").
    public var summary: String
    public var detail: String
    public init(host: String, path: String, kind: Kind, spec: String?, summary: String, detail: String) {
        self.host = host
        self.path = path
        self.kind = kind
        self.spec = spec
        self.summary = summary
        self.detail = detail
    }
}

/// Something the specs ask for that cannot be planned on this host.
public struct PlanError: Sendable, Hashable, Codable {
    public var host: String
    public var resource: String
    public var message: String
    public init(host: String, resource: String, message: String) {
        self.host = host
        self.resource = resource
        self.message = message
    }
}
