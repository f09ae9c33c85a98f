// The driver protocol: how one kind of resource (Python environments now, the
// JupyterHub later) turns desired state and observed state into steps.
//
//   observe (one remote script per host, see ObserveScript.swift)
//     → diff   pure: Desired × Observed → steps, drift, unmanaged things, errors
//     → apply  the executor runs each step's `commands` in order over the host's
//              transport, then writes `markerAfter` (if any) to `markerPath`
//
// Steps carry their commands as values (computed while diffing), so a plan can be
// printed, compared, golden-tested and reviewed with exactly what will run.

import Remote
import Specs

public protocol Driver: Sendable {
    /// What the specs want on one host (for the pip driver: its environments).
    associatedtype Desired
    /// What the observe script reported for that host.
    associatedtype Observed

    /// Pure: no IO, no clock, no randomness. Same input, same output, same order.
    func diff(desired: Desired, observed: Observed) -> DriverResult
}

/// What a driver found for one host.
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
}

/// Kinds of step, in the order they run within one resource.
public enum StepAction: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// Host-wide (resource `Host/<name>`): apt installs an interpreter and/or venv support.
    case ensurePython = "ensure-python"
    /// Host-wide: labsync's uv tool venv, for `installer: uv`.
    case ensureUV = "ensure-uv"
    case removeEnv = "remove-env"
    case recreateEnv = "recreate-env"
    case createEnv = "create-env"
    /// Before `install`: what it removes is, by construction, nothing a declared
    /// package depends on, and installing afterwards restores anything shared.
    case uninstall
    case install
    // JupyterHub (JupyterHubDriver). `ensure-proxy` is host-wide (apt);
    // `install-hub` runs like an environment group (the hub venv), in parallel
    // with the environments; every other hub step runs in the hub phase, after
    // all environments (kernels need their env and ipykernel), one after
    // another, in this order.
    /// Host-wide: configurable-http-proxy from APT.
    case ensureProxy = "ensure-proxy"
    /// The hub venv /opt/labsync/hub: create it and/or install jupyterhub & co.
    case installHub = "install-hub"
    /// A PAM user's system account: created (home directory mode), password hash set.
    case addUser = "add-user"
    /// An existing account's password hash or lock state differs from the spec.
    case updateUser = "update-user"
    case registerKernel = "register-kernel"
    case unregisterKernel = "unregister-kernel"
    /// Self-signed key and certificate generated on the host.
    case createCertificate = "create-certificate"
    /// Secrets generated on the host if missing; config rendered, checked, moved in place.
    case configureHub = "configure-hub"
    /// Start or restart the service; wait for /hub/api; roll back on failure.
    case restartHub = "restart-hub"
    /// Deleted from the hub (REST API), system account locked or deleted.
    case removeUser = "remove-user"
    /// state: absent: service, venv, config, secrets, unit, kernels, state.
    case removeHub = "remove-hub"

    public static func < (a: StepAction, b: StepAction) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Terraform-like: `+` adds, `~` changes, `-` removes, `-/+` replaces.
    public var symbol: String {
        switch self {
        case .ensurePython, .ensureUV, .createEnv, .ensureProxy, .addUser, .registerKernel, .createCertificate: "+"
        case .install, .installHub, .updateUser, .configureHub, .restartHub: "~"
        case .uninstall, .removeEnv, .unregisterKernel, .removeUser, .removeHub: "-"
        case .recreateEnv: "-/+"
        }
    }

    /// Host-wide steps hold the host lock alone; env steps of different envs may run in parallel.
    public var isHostWide: Bool { self == .ensurePython || self == .ensureUV || self == .ensureProxy }

    /// Hub steps that run after every environment group, sequentially (see HostScript).
    public var isHubPhase: Bool { self >= .addUser }

    /// How the plan summary counts it.
    public var summaryKind: SummaryKind {
        switch self {
        case .ensurePython, .ensureUV, .createEnv, .ensureProxy, .addUser, .registerKernel, .createCertificate: .add
        // An uninstall changes an environment (it is shown as "-" all the same).
        case .install, .uninstall, .installHub, .updateUser, .configureHub, .restartHub: .change
        case .removeEnv, .unregisterKernel, .removeUser, .removeHub: .remove
        case .recreateEnv: .replace
        }
    }
    public enum SummaryKind: Sendable { case add, change, remove, replace }
}

/// One step of a plan, with everything the executor needs to carry it out.
public struct PlannedStep: Sendable, Hashable {
    public var host: String
    /// "PythonEnvironment/<name>" or, for host-wide steps, "Host/<name>".
    public var resource: String
    public var action: StepAction
    /// Requirement strings (install), distribution names (uninstall), APT packages
    /// (ensure-python); empty otherwise.
    public var packages: [String]
    /// Why, for people.
    public var reason: String
    /// Run in order; stop at the first failure.
    public var commands: [RemoteCommand]
    /// Written to `markerPath` (with the host's become, `writtenAt` stamped) only
    /// after every command succeeded.
    public var markerAfter: LabsyncMarker?
    public var markerPath: String?
    /// The venv this step works on; nil for host-wide steps. Steps of one env run
    /// in order; different envs of a host may run in parallel.
    public var environmentPath: String?
    /// Secrets the step's commands need, by placeholder. A command's stdin holds
    /// the placeholder (`SecretPlaceholder.token(name)`); the executor puts the
    /// resolved value there only when it renders the host script, so the value is
    /// never in a plan (any format), the step's reason, or a command line.
    public var secrets: [String: SecretReference]

    public init(host: String, resource: String, action: StepAction, packages: [String] = [], reason: String,
                commands: [RemoteCommand] = [], markerAfter: LabsyncMarker? = nil, markerPath: String? = nil,
                environmentPath: String? = nil, secrets: [String: SecretReference] = [:]) {
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
    public var package: String
    public var detail: String
    public init(host: String, resource: String, kind: Kind, package: String, detail: String) {
        self.host = host
        self.resource = resource
        self.kind = kind
        self.package = package
        self.detail = detail
    }
}

/// A venv labsync found but does not manage (or no longer manages): listed, left alone.
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
    public var python: String
    /// Number of installed distributions.
    public var distributions: Int
    public var detail: String
    public init(host: String, path: String, kind: Kind, spec: String?, python: String, distributions: Int,
                detail: String) {
        self.host = host
        self.path = path
        self.kind = kind
        self.spec = spec
        self.python = python
        self.distributions = distributions
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
