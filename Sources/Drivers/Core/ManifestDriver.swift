// Drivers whose target is not a host but a directory of files that another
// tool applies: the path of a GitOps repository that Flux watches. Such a
// driver has no observe fragment and no steps. Its "observation" is the
// directory's content, read by the CLI (IO at the edge); its plan is a pure
// comparison of what it renders with what the directory holds.
//
//   render  specs → the files each of its resources wants (same specs, same bytes)
//   plan    pure: (rendered, the directory's files) → create / update / delete,
//           each update with a diff by dotted path where the driver knows the format
//
// Only files the driver owns are ever deleted: files carrying its header, which
// names the resource they were rendered from. Everything else in the directory
// is someone else's and is neither listed nor touched.

import Specs

public protocol ManifestDriver: Sendable {
    /// Stable and unique among manifest drivers ("kubernetes-hub").
    var name: String { get }
    /// The spec kinds it renders ("JupyterHub" with `spec.kubernetes`).
    var kinds: [String] { get }
    /// Pure: every resource of `specs` it renders, sorted by resource.
    func render(_ specs: SpecSet) -> [RenderedManifests]
    /// The resource ("JupyterHub/ml101") a file was rendered from, read from its
    /// header; nil: not this driver's file, never touched.
    func owner(ofContent content: String) -> String?
    /// Pure: the changes that make `existing` (relative path → content, every file
    /// of the directory) hold `rendered`. Sorted by path.
    func plan(rendered: [RenderedManifests], existing: [String: String]) -> [ManifestChange]
}

/// One rendered file, its path relative to the manifests directory.
public struct ManifestFile: Sendable, Hashable {
    public var path: String
    public var content: String
    public init(path: String, content: String) {
        self.path = path
        self.content = content
    }
}

/// A Secret the operator must create (never its value): what plans name and
/// `labsync render --secret-template` prints the command for.
public struct RequiredSecret: Sendable, Hashable, Codable {
    public var resource: String
    public var namespace: String
    public var name: String
    public var key: String
    /// A shell command that creates it from the spec's reference (an
    /// environment variable or a file), expanded by the operator's shell.
    public var createCommand: String

    public init(resource: String, namespace: String, name: String, key: String, createCommand: String) {
        self.resource = resource
        self.namespace = namespace
        self.name = name
        self.key = key
        self.createCommand = createCommand
    }

    enum CodingKeys: String, CodingKey { case resource, namespace, name, key }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(resource: try c.decode(String.self, forKey: .resource), namespace: try c.decode(String.self, forKey: .namespace),
                  name: try c.decode(String.self, forKey: .name), key: try c.decode(String.self, forKey: .key), createCommand: "")
    }
}

/// Everything one resource renders.
public struct RenderedManifests: Sendable, Hashable {
    /// "JupyterHub/ml101".
    public var resource: String
    /// The folder of its files under the manifests directory.
    public var directory: String
    public var files: [ManifestFile]
    public var secrets: [RequiredSecret]

    public init(resource: String, directory: String, files: [ManifestFile], secrets: [RequiredSecret] = []) {
        self.resource = resource
        self.directory = directory
        self.files = files
        self.secrets = secrets
    }
}

/// One file to create, rewrite or delete in the manifests directory.
public struct ManifestChange: Sendable, Hashable, Codable {
    public enum Action: String, Sendable, Hashable, Codable {
        case create, update, delete
        public var symbol: String {
            switch self {
            case .create: "+"
            case .update: "~"
            case .delete: "-"
            }
        }
    }

    public var resource: String
    /// Relative to the manifests directory.
    public var path: String
    public var action: Action
    /// For an update: what changed, by dotted path where the driver can say
    /// (`hub.loadRoles.admin.users`), else a line saying why the file differs.
    public var diff: [ValueChange]
    /// What to write (nil: delete). Not in the JSON plan: a saved plan is re-planned.
    public var content: String?

    public init(resource: String, path: String, action: Action, diff: [ValueChange] = [], content: String?) {
        self.resource = resource
        self.path = path
        self.action = action
        self.diff = diff
        self.content = content
    }

    enum CodingKeys: String, CodingKey { case resource, path, action, diff }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(resource: try c.decode(String.self, forKey: .resource), path: try c.decode(String.self, forKey: .path),
                  action: try c.decode(Action.self, forKey: .action),
                  diff: try c.decodeIfPresent([ValueChange].self, forKey: .diff) ?? [], content: nil)
    }
}

/// One changed value: `cull.timeout: 3600 → 1800`. nil before: added; nil after: removed.
public struct ValueChange: Sendable, Hashable, Codable {
    public var path: String
    public var before: String?
    public var after: String?
    public init(path: String, before: String?, after: String?) {
        self.path = path
        self.before = before
        self.after = after
    }

    /// "cull.timeout: 3600 → 1800", "cull.every: (absent) → 600".
    public var description: String {
        "\(path): \(before ?? "(absent)") → \(after ?? "(absent)")"
    }
}
