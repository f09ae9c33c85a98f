// One vocabulary for the state of a resource (issue 11 #14): `status`, `plan`,
// `/api/status` and the status page all derive it here, from the plan value, so
// an environment whose spec is gone cannot read "in sync" in one place and
// "orphaned" in another.

import Drivers
import Specs

public enum ResourceState: String, Sendable, Hashable, Codable, CaseIterable {
    /// The host matches the spec.
    case inSync = "in-sync"
    /// Somebody changed the host by hand (a drift item); the plan repairs it
    /// unless the spec says `unmanaged: report`.
    case drifted
    /// The spec asks for something the host does not have yet (steps planned).
    case changesPending = "changes-pending"
    /// Marked by labsync, but no spec wants it here any more (`--prune` removes it).
    case orphaned
    /// Cannot be planned, or its last step failed.
    case failed
    /// Its host could not be observed: nothing is known about it.
    case unreachable
    /// Found on the host without a readable labsync marker: left alone.
    case unmanaged

    /// The words people read ("changes pending"); `rawValue` is the JSON and CSS form.
    public var words: String {
        switch self {
        case .inSync: "in sync"
        case .drifted: "drifted"
        case .changesPending: "changes pending"
        case .orphaned: "orphaned"
        case .failed: "failed"
        case .unreachable: "unreachable"
        case .unmanaged: "unmanaged"
        }
    }

    /// Needs someone's attention (or the next apply): not in sync and not left alone.
    public var isSettled: Bool { self == .inSync || self == .unmanaged }
}

/// One resource's state on one host, with why.
public struct ResourceStateEntry: Sendable, Hashable, Codable {
    public var host: String
    /// `PythonEnvironment/ml`; for what no spec declares, the path on the host.
    public var resource: String
    public var state: ResourceState
    /// The plan error, the pending actions, the first drift, or the unmanaged item's detail.
    public var detail: String?

    public init(host: String, resource: String, state: ResourceState, detail: String? = nil) {
        self.host = host
        self.resource = resource
        self.state = state
        self.detail = detail
    }
}

extension Plan {
    /// The state of `resource`, which the specs declare on `host`. Drift wins over
    /// pending steps: a package uninstalled by hand is both, and "drifted" says why.
    public func state(of resource: String, on host: String) -> ResourceStateEntry {
        if unobservedHostList.contains(host) {
            return ResourceStateEntry(host: host, resource: resource, state: .unreachable, detail: "host not observed")
        }
        if let error = errors.first(where: { $0.host == host && $0.resource == resource }) {
            return ResourceStateEntry(host: host, resource: resource, state: .failed, detail: error.message)
        }
        let pending = steps.filter { $0.host == host && $0.resource == resource }.map(\.action.rawValue)
        let pendingNote = pending.isEmpty ? nil : "pending: " + pending.joined(separator: ", ")
        if let drift = drift.first(where: { $0.host == host && $0.resource == resource }) {
            let detail = "\(drift.package): \(drift.detail)" + (pendingNote.map { "; \($0)" } ?? "")
            return ResourceStateEntry(host: host, resource: resource, state: .drifted, detail: detail)
        }
        if let pendingNote {
            return ResourceStateEntry(host: host, resource: resource, state: .changesPending, detail: pendingNote)
        }
        return ResourceStateEntry(host: host, resource: resource, state: .inSync)
    }

    /// The state of something found on a host that no spec declares there.
    public static func state(of item: UnmanagedItem) -> ResourceState {
        item.kind == .orphaned ? .orphaned : .unmanaged
    }

    /// Every resource on the hosts of `declared`: those the specs declare there,
    /// then what was found on the host but is not declared there. Only those
    /// hosts: the daemon asks host by host.
    public func resourceStates(declared: [String: [String]]) -> [ResourceStateEntry] {
        var out: [ResourceStateEntry] = []
        for host in declared.keys.sorted() {
            out += (declared[host] ?? []).sorted().map { state(of: $0, on: host) }
            out += unmanaged.filter { $0.host == host }.map {
                ResourceStateEntry(host: host, resource: $0.path, state: Plan.state(of: $0),
                                   detail: "\($0.kind.rawValue)\($0.spec.map { " (marker names \($0))" } ?? ""): \($0.detail)")
            }
        }
        return out
    }

    /// `resourceStates(declared:)` for the resources the drivers find in `specs`.
    public func resourceStates(specs: SpecSet) -> [ResourceStateEntry] {
        resourceStates(declared: Dictionary(specs.hosts.map {
            ($0.name, DriverRegistry.resources(HostContext(host: $0, specs: specs)))
        }, uniquingKeysWith: +))
    }

    /// The state of what `status` lists at `path` on `host`, whose marker (if
    /// readable) names `resource`.
    public func state(atPath path: String, on host: String, resource: String?) -> ResourceStateEntry {
        if let item = unmanaged.first(where: { $0.host == host && $0.path == path }) {
            return ResourceStateEntry(host: host, resource: resource ?? path, state: Plan.state(of: item), detail: item.detail)
        }
        guard let resource else { return ResourceStateEntry(host: host, resource: path, state: .unmanaged) }
        return state(of: resource, on: host)
    }
}

/// One package of a resource that is not as the spec wants it: what the status
/// page lists, wanted beside installed.
public struct PackageDifference: Sendable, Hashable, Codable {
    public var package: String
    /// The requirement asked for (`alpha==1.0`); nil: nobody declared it, or it is to be removed.
    public var wanted: String?
    /// The version on the host; nil: not installed.
    public var installed: String?
    /// The drift kind or the pending action (`changed-package`, `install`).
    public var note: String

    public init(package: String, wanted: String?, installed: String?, note: String) {
        self.package = package
        self.wanted = wanted
        self.installed = installed
        self.note = note
    }
}

extension Plan {
    /// Every package of `resource` on `host` that drifted or that a pending step
    /// installs or removes. `installed` maps package names (any spelling) to the
    /// versions observed on the host; drift items carry their own.
    public func packageDifferences(host: String, resource: String, installed: [String: String]) -> [PackageDifference] {
        let versions = Dictionary(installed.map { (Plan.packageKey($0.key), $0.value) }, uniquingKeysWith: { a, _ in a })
        var out: [PackageDifference] = []
        var seen: Set<String> = []
        for item in drift where item.host == host && item.resource == resource {
            seen.insert(Plan.packageKey(item.package))
            out.append(PackageDifference(package: item.package, wanted: item.wanted,
                                         installed: item.installed ?? (item.kind == .missingPackage ? nil : versions[Plan.packageKey(item.package)]),
                                         note: item.kind.rawValue))
        }
        for step in steps where step.host == host && step.resource == resource {
            let removing = step.action.symbolKind == .remove  // uninstall counts as a change, but removes
            for package in step.packages {
                let name = Plan.requirementName(package)
                guard seen.insert(Plan.packageKey(name)).inserted else { continue }
                out.append(PackageDifference(package: name, wanted: removing ? nil : package,
                                             installed: versions[Plan.packageKey(name)], note: step.action.rawValue))
            }
        }
        return out
    }

    /// The name at the front of a requirement (`numpy>=1.2; …`, `data.table (>= 1.14)`).
    static func requirementName(_ requirement: String) -> String {
        String(requirement.trimmingPrefix(while: \.isWhitespace).prefix { $0.isLetter || $0.isNumber || "._-".contains($0) })
    }

    /// Names compared as pip compares them (PEP 503): case and `-_.` runs do not matter.
    static func packageKey(_ name: String) -> String {
        name.lowercased().split(whereSeparator: { "-_.".contains($0) }).joined(separator: "-")
    }
}
