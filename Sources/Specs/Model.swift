// The labsync/v1 spec model. Field names and rules: README "Spec reference"
// and schemas/*.schema.json (kept in step by SchemaSyncTests).

public enum SpecKind: String, Sendable, CaseIterable {
    case host = "Host"
    case pythonEnvironment = "PythonEnvironment"
    case jupyterHub = "JupyterHub"
    case rEnvironment = "REnvironment"
}

public struct Metadata: Sendable, Hashable {
    public var name: String
    public var labels: [String: String]
    /// Where `metadata.name` is written.
    public var location: SourceLocation
}

/// How commands gain root on a host (Remote.Become is the transport's twin).
public enum BecomeMethod: String, Sendable, Hashable, CaseIterable { case none, sudo }

/// Package index settings passed to pip/uv as `--index-url`, `--extra-index-url`,
/// `--find-links`, `--no-index`.
public struct IndexSettings: Sendable, Hashable, Codable {
    public var url: String?
    public var extraUrls: [String]
    public var findLinks: [String]
    public var noIndex: Bool
    public init(url: String? = nil, extraUrls: [String] = [], findLinks: [String] = [], noIndex: Bool = false) {
        self.url = url
        self.extraUrls = extraUrls
        self.findLinks = findLinks
        self.noIndex = noIndex
    }
}

public struct HostSpec: Sendable, Hashable {
    public var metadata: Metadata
    public var address: String
    public var port: Int
    public var user: String
    public var identityFile: String?
    public var hostKeys: [Located<String>]
    public var knownHostsFile: String?
    public var become: BecomeMethod
    public var index: IndexSettings?
    public var name: String { metadata.name }
}

public enum HostTarget: Sendable, Hashable {
    case host(String)
    case selector(matchLabels: [String: String])
}

/// A spec that lands on hosts through `host` or `hostSelector` (Python and R
/// environments), so host look-ups and cross-checks are written once.
public protocol HostTargeted: Sendable {
    var metadata: Metadata { get }
    var target: Located<HostTarget> { get }
}

public enum PythonRequest: Sendable, Hashable, CustomStringConvertible {
    /// Any python3 (the host's default).
    case any3
    /// A given minor version, e.g. 3.12.
    case minor(Int)
    /// The newest python3.X the host's APT offers.
    case latest

    public var description: String {
        switch self {
        case .any3: "3"
        case .minor(let m): "3.\(m)"
        case .latest: "latest"
        }
    }
}

public enum Installer: String, Sendable, Hashable, CaseIterable { case pip, uv }
public enum UnmanagedPolicy: String, Sendable, Hashable, CaseIterable { case keep, report, remove }
public enum DesiredState: String, Sendable, Hashable, CaseIterable { case present, absent }

/// `kernel.displayName`: how a hub that lists the environment in `kernels`
/// shows it. There is no `enabled` (issue 11 #15): a hub's `kernels` is what
/// makes an environment a kernel, and a switch that did nothing was a trap.
public struct KernelSettings: Sendable, Hashable {
    public var displayName: String?
}

public struct PythonEnvironmentSpec: HostTargeted, Hashable {
    public static let defaultRoot = "/opt/labsync/envs"

    public var metadata: Metadata
    public var target: Located<HostTarget>
    public var python: PythonRequest
    public var root: String
    public var owner: String?
    /// `packages` followed by the lines of `requirementsFile`, each with its location.
    public var requirements: [Located<Requirement>]
    public var requirementsFile: Located<String>?
    public var index: IndexSettings?
    public var installer: Installer
    public var unmanaged: UnmanagedPolicy
    public var kernel: KernelSettings?
    public var state: DesiredState
    public var name: String { metadata.name }
    /// `<root>/<name>`: where the venv lives on the host.
    public var path: String { root == "/" ? "/\(name)" : "\(root)/\(name)" }
}

/// Which R runs an R library. Only the host's APT R (`r-base-core`) for now.
public enum RRequest: String, Sendable, Hashable, CaseIterable { case system }

/// An R library directory on a host with the packages a spec declares.
public struct REnvironmentSpec: HostTargeted, Hashable {
    public static let defaultRoot = "/opt/labsync/r"

    public var metadata: Metadata
    public var target: Located<HostTarget>
    public var r: RRequest
    public var root: String
    /// CRAN-like repositories (http, https or file URLs), tried in order; at least one.
    public var repos: [Located<String>]
    /// `spec.packages`, each with its location; names are unique (CrossChecks).
    public var packages: [Located<RRequirement>]
    public var unmanaged: UnmanagedPolicy
    /// `kernel.displayName`; nil when no `kernel` block (the hub then shows a default).
    public var kernel: RKernelSettings?
    public var state: DesiredState
    public var name: String { metadata.name }
    /// `<root>/<name>`: the library directory on the host.
    public var path: String { root == "/" ? "/\(name)" : "\(root)/\(name)" }
}

public struct RKernelSettings: Sendable, Hashable {
    public var displayName: String?
}

public enum SecretReference: Sendable, Hashable, CustomStringConvertible {
    case fromEnv(String)
    case fromFile(String)
    /// Never the secret itself: safe for plans and logs.
    public var description: String {
        switch self {
        case .fromEnv(let v): "fromEnv: \(v)"
        case .fromFile(let p): "fromFile: \(p)"
        }
    }
}

public enum AuthenticationType: String, Sendable, Hashable, CaseIterable { case pam, gitlab, azuread }

public struct OAuthProvider: Sendable, Hashable {
    /// GitLab base URL (gitlab only).
    public var url: String?
    /// Azure AD tenant (azuread only).
    public var tenantId: String?
    public var clientId: String
    public var clientSecret: SecretReference
    public var allowedGroups: [String]
    public var callbackUrl: String?
    /// The stable claim that becomes the user name (azuread), not the display name.
    public var usernameClaim: String?
    /// Azure AD's login host (azuread only): nil is the global cloud; a
    /// sovereign cloud's (https://login.microsoftonline.us, …) otherwise.
    public var authority: String?

    /// The claims `usernameClaim` may name: each identifies one account.
    public static let azureUsernameClaims = ["oid", "preferred_username", "upn"]
    public static let defaultAzureAuthority = "https://login.microsoftonline.com"

    public init(url: String? = nil, tenantId: String? = nil, clientId: String, clientSecret: SecretReference,
                allowedGroups: [String] = [], callbackUrl: String? = nil, usernameClaim: String? = nil,
                authority: String? = nil) {
        self.url = url
        self.tenantId = tenantId
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.allowedGroups = allowedGroups
        self.callbackUrl = callbackUrl
        self.usernameClaim = usernameClaim
        self.authority = authority
    }
}

public struct Authentication: Sendable, Hashable {
    public var type: AuthenticationType
    public var admins: [Located<String>]
    public var allowedUsers: [Located<String>]
    public var allowAll: Bool
    public var oauth: OAuthProvider?
}

public struct HubUser: Sendable, Hashable {
    public var name: Located<String>
    public var passwordHash: String?
    public var admin: Bool
}

public enum RemovedUserPolicy: String, Sendable, Hashable, CaseIterable { case lock, delete }

public struct IdleCulling: Sendable, Hashable {
    public var timeoutSeconds: Int
    public var everySeconds: Int?
    public var maxAgeSeconds: Int?
}

public struct HTTPSSettings: Sendable, Hashable {
    public var selfSigned: Bool
    public var hostname: String?
    public var port: Int
    public var certFile: String?
    public var keyFile: String?
}

public struct ResourceLimits: Sendable, Hashable {
    public var memory: String?
    public var cpu: String?
}

public struct JupyterHubSpec: Sendable, Hashable {
    public static let defaultVersion = ">=5,<6"

    public var metadata: Metadata
    public var host: Located<String>
    public var version: SpecifierSet
    public var port: Int
    public var authentication: Authentication
    public var users: [HubUser]
    public var removedUsers: RemovedUserPolicy
    public var kernels: [Located<String>]
    public var idleCulling: IdleCulling?
    public var https: HTTPSSettings?
    public var homeDirectoryMode: String
    public var limits: ResourceLimits?
    public var extraPackages: [Located<Requirement>]
    public var extraConfig: String?
    public var state: DesiredState
    public var name: String { metadata.name }
}

/// Every spec of a repository, validated.
public struct SpecSet: Sendable {
    public var hosts: [HostSpec] = []
    public var environments: [PythonEnvironmentSpec] = []
    public var hubs: [JupyterHubSpec] = []
    public var rEnvironments: [REnvironmentSpec] = []
    /// JupyterHubs with `spec.kubernetes` instead of `host` (rendered for Flux, not run on a host).
    public var kubernetesHubs: [KubernetesHubSpec] = []
    /// labsync.yaml `name:`: written into every marker; `--prune` removes only
    /// what this repository's markers own.
    public var repository: String?
    public init() {}

    public func host(named name: String) -> HostSpec? { hosts.first { $0.name == name } }

    /// The hosts an environment lands on: its `host`, or every host whose
    /// labels include all of `matchLabels` (fan-out).
    public func hosts(for environment: some HostTargeted) -> [HostSpec] {
        hosts(for: environment.target.value)
    }

    /// The hosts a host-targeted spec lands on.
    public func hosts(for target: HostTarget) -> [HostSpec] {
        switch target {
        case .host(let name): hosts.filter { $0.name == name }
        case .selector(let labels):
            hosts.filter { host in labels.allSatisfy { host.metadata.labels[$0.key] == $0.value } }
        }
    }

    /// Whether any resource (not just Hosts) is declared: an empty repository
    /// is refused unless the user says it is meant (it would prune everything).
    public var declaresResources: Bool {
        !environments.isEmpty || !rEnvironments.isEmpty || !hubs.isEmpty || !kubernetesHubs.isEmpty
    }

    /// Only these hosts (by name), and the hubs on them; all when `names` is empty.
    public func restricted(toHosts names: [String]) -> SpecSet {
        guard !names.isEmpty else { return self }
        var copy = self
        copy.hosts = hosts.filter { names.contains($0.name) }
        copy.hubs = hubs.filter { names.contains($0.host.value) }
        return copy
    }

    public var summary: String {
        func n(_ count: Int, _ one: String, _ many: String) -> String { "\(count) \(count == 1 ? one : many)" }
        var parts = [n(hosts.count, "host", "hosts"), n(environments.count, "environment", "environments")]
        // Only when there are some, so summaries of Python-only repositories read as before.
        if !rEnvironments.isEmpty { parts.append(n(rEnvironments.count, "R environment", "R environments")) }
        parts.append(n(hubs.count, "hub", "hubs"))
        if !kubernetesHubs.isEmpty { parts.append(n(kubernetesHubs.count, "Kubernetes hub", "Kubernetes hubs")) }
        return parts.joined(separator: ", ")
    }
}
