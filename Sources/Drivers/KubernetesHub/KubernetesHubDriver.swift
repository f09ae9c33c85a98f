// The Kubernetes hub as a manifest driver: JupyterHub specs with
// `spec.kubernetes` → the files Flux reconciles (KubernetesHubRenderer), and the
// pure comparison with what the GitOps directory holds. An update of a file is
// shown as a diff of its values by dotted path; for the HelmRelease the chart
// values are shown without their `spec.values.` prefix (`cull.timeout: 3600 →
// 1800`), because that is how the chart documents them.

import Specs

public struct KubernetesHubDriver: ManifestDriver {
    public init() {}

    public var name: String { "kubernetes-hub" }
    public var kinds: [String] { ["JupyterHub"] }

    public func render(_ specs: SpecSet) -> [RenderedManifests] {
        specs.kubernetesHubs.filter { $0.state == .present }.sorted { $0.name < $1.name }.map { hub in
            let r = KubernetesHubRenderer.render(hub)
            let resource = "JupyterHub/\(r.hub)"
            let secrets = r.oauthSecret.map {
                [RequiredSecret(resource: resource, namespace: $0.namespace, name: $0.name, key: $0.key,
                                createCommand: $0.kubectlCommand)]
            } ?? []
            return RenderedManifests(resource: resource, directory: r.directory, files: r.files, secrets: secrets)
        }
    }

    public func owner(ofContent content: String) -> String? {
        let prefix = "# " + KubernetesHubRenderer.headerPrefix
        guard let first = content.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first,
              first.hasPrefix(prefix) else { return nil }
        let rest = first.dropFirst(prefix.count)
        guard let end = rest.firstIndex(of: ";") else { return nil }
        let resource = String(rest[..<end])
        return resource.hasPrefix("JupyterHub/") ? resource : nil
    }

    public func plan(rendered: [RenderedManifests], existing: [String: String]) -> [ManifestChange] {
        var changes: [ManifestChange] = []
        var wanted: Set<String> = []
        for r in rendered {
            for file in r.files {
                wanted.insert(file.path)
                guard let old = existing[file.path] else {
                    changes.append(ManifestChange(resource: r.resource, path: file.path, action: .create, content: file.content))
                    continue
                }
                guard old != file.content else { continue }
                var diff = Self.diff(old: old, new: file.content)
                if owner(ofContent: old) == nil {
                    diff.insert(ValueChange(path: "file", before: "not rendered by labsync", after: "labsync's rendering"), at: 0)
                }
                changes.append(ManifestChange(resource: r.resource, path: file.path, action: .update, diff: diff,
                                              content: file.content))
            }
        }
        // Files labsync rendered whose hub left the specs (or moved to another
        // namespace or release). Files without the header are never touched.
        for (path, content) in existing where !wanted.contains(path) {
            guard let resource = owner(ofContent: content) else { continue }
            changes.append(ManifestChange(resource: resource, path: path, action: .delete, content: nil))
        }
        return changes.sorted { ($0.path, $0.resource) < ($1.path, $1.resource) }
    }

    /// The values that differ between two manifest files, by dotted path.
    static func diff(old: String, new: String) -> [ValueChange] {
        guard let before = leaves(old) else {
            return [ValueChange(path: "file", before: "not valid YAML", after: "labsync's rendering")]
        }
        let after = leaves(new) ?? [:]
        var changes: [ValueChange] = []
        for path in Set(before.keys).union(after.keys).sorted() where before[path] != after[path] {
            let shown = path.hasPrefix("spec.values.") ? String(path.dropFirst("spec.values.".count)) : path
            changes.append(ValueChange(path: shown, before: before[path], after: after[path]))
        }
        if changes.isEmpty {
            // Same values, other text: a comment or the formatting was edited.
            changes.append(ValueChange(path: "file", before: "edited text, same values", after: "labsync's rendering"))
        }
        return changes
    }

    /// Every scalar of a one-document YAML file by dotted path; a list of
    /// scalars is one value (`["alice", "bob"]`), so removing a name reads as
    /// one change of the list. nil: not one YAML document.
    static func leaves(_ text: String) -> [String: String]? {
        guard case .success(let documents) = YAMLReader.documents(text: text, file: "manifest"), documents.count == 1
        else { return nil }
        var out: [String: String] = [:]
        flatten(documents[0], prefix: "", into: &out)
        return out
    }

    private static func flatten(_ node: YAMLNode, prefix: String, into out: inout [String: String]) {
        switch node {
        case .scalar:
            out[prefix] = scalarText(node)
        case .sequence(let items, _):
            if items.allSatisfy({ if case .scalar = $0 { true } else { false } }) {
                out[prefix] = "[" + items.map(scalarText).joined(separator: ", ") + "]"
            } else {
                for (i, item) in items.enumerated() { flatten(item, prefix: "\(prefix)[\(i)]", into: &out) }
            }
        case .mapping(let pairs, _):
            if pairs.isEmpty { out[prefix] = "{}" }
            for (key, value) in pairs {
                let name = scalarText(key, quoted: false)
                flatten(value, prefix: prefix.isEmpty ? name : "\(prefix).\(name)", into: &out)
            }
        }
    }

    /// As the emitter writes it: plain scalars (numbers, booleans) bare,
    /// strings in double quotes with escapes (so a newline stays one line).
    private static func scalarText(_ node: YAMLNode) -> String { scalarText(node, quoted: true) }

    private static func scalarText(_ node: YAMLNode, quoted: Bool) -> String {
        guard case .scalar(let text, let plain, _) = node else { return "{…}" }
        return plain || !quoted ? TextEscaping.visible(text) : ManifestYAML.quote(text)
    }
}
