// The part of a plan for targets that are not hosts: the files manifest drivers
// (Kubernetes hubs) render into a GitOps directory. Absent from a plan (and its
// JSON) when the specs declare no such resource, so host-only plans read as before.

import Drivers

public struct ManifestSection: Sendable, Hashable, Codable {
    /// The directory compared with (`--manifests DIR`); nil: not given, nothing planned.
    public var directory: String?
    /// Sorted by path.
    public var changes: [ManifestChange]
    /// Secrets the operator must create (names and keys, never values).
    public var secrets: [RequiredSecret]
    /// Resources not planned because no directory was given.
    public var notPlanned: [String]

    public init(directory: String?, changes: [ManifestChange] = [], secrets: [RequiredSecret] = [],
                notPlanned: [String] = []) {
        self.directory = directory
        self.changes = changes
        self.secrets = secrets
        self.notPlanned = notPlanned
    }

    /// Compares `directory` (relative path → content) with what `specs` render;
    /// without a directory, names every resource as not planned. Pure.
    public static func plan(_ rendered: [RenderedManifests], changes: [ManifestChange]?, directory: String?)
        -> ManifestSection? {
        guard !rendered.isEmpty || !(changes ?? []).isEmpty else { return nil }
        guard let directory, let changes else {
            return ManifestSection(directory: nil, notPlanned: rendered.map(\.resource))
        }
        return ManifestSection(directory: directory, changes: changes, secrets: rendered.flatMap(\.secrets))
    }

    /// What `hasSameChanges` compares: a decoded change has no content.
    var comparable: [[String]] {
        changes.map { [$0.resource, $0.path, $0.action.rawValue] + $0.diff.map(\.description) }
    }
}

extension Plan {
    /// Adds the manifest changes to the plan and its summary counts.
    public mutating func addManifests(_ section: ManifestSection?) {
        manifests = section
        for change in section?.changes ?? [] {
            switch change.action {
            case .create: summary.add += 1
            case .update: summary.change += 1
            case .delete: summary.remove += 1
            }
        }
    }

    var manifestChanges: [ManifestChange] { manifests?.changes ?? [] }
}
