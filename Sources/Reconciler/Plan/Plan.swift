// The plan as a value (Terraform's internal/plans): what would change, why, what
// drifted, what labsync found but leaves alone. Renderers (Render/) only read it;
// `labsync plan --format json` prints its Codable form, whose shape is versioned by
// `formatVersion`.

import Drivers

public struct Plan: Sendable, Hashable, Codable {
    /// 2: unmanaged items carry the driver's `summary` instead of pip's
    /// `python` and `distributions`.
    public static let currentFormatVersion = 2

    public var formatVersion: Int
    /// The specs' git revision (commit sha); nil for a plain directory.
    public var revision: String?
    /// Sorted by host, then resource, then step kind (`StepKind.precedes`).
    public var steps: [PlanStep]
    public var drift: [DriftItem]
    public var unmanaged: [UnmanagedItem]
    /// What the specs ask for but cannot be planned (e.g. a python the host cannot get).
    public var errors: [PlanError]
    public var summary: Summary
    /// Files of targets that are not hosts (Kubernetes hubs' GitOps directory);
    /// nil when the specs declare none, and then absent from the JSON.
    public var manifests: ManifestSection?
    /// The steps with their commands and markers, for the executor; index-aligned
    /// with `steps`. Not part of the JSON: a saved plan is re-planned before apply.
    public var work: [PlannedStep]
    /// Each observed host's `HostObservation.generation`: the apply script refuses
    /// to run the plan if another run changed the host since. Not part of the JSON.
    public var generations: [String: String] = [:]

    public struct Summary: Sendable, Hashable, Codable {
        public var add: Int
        public var change: Int
        public var remove: Int
        /// Hosts that could not be observed, nothing planned for them; absent when none.
        public var unobservedHosts: [String]?
        public init(add: Int = 0, change: Int = 0, remove: Int = 0) {
            self.add = add
            self.change = change
            self.remove = remove
        }
    }

    /// No steps: the hosts match the specs (drift under `unmanaged: report` and
    /// unmanaged venvs are shown but change nothing).
    public var isEmpty: Bool { steps.isEmpty && manifestChanges.isEmpty }

    public init(revision: String?, work: [PlannedStep], drift: [DriftItem] = [], unmanaged: [UnmanagedItem] = [],
                errors: [PlanError] = []) {
        self.formatVersion = Self.currentFormatVersion
        self.revision = revision
        self.work = work.sorted(by: Plan.stepOrder)
        self.steps = self.work.map(PlanStep.init)
        self.drift = drift.sorted { ($0.host, $0.resource, $0.package) < ($1.host, $1.resource, $1.package) }
        self.unmanaged = unmanaged.sorted { ($0.host, $0.path) < ($1.host, $1.path) }
        self.errors = errors.sorted { ($0.host, $0.resource, $0.message) < ($1.host, $1.resource, $1.message) }
        var summary = Summary()
        for step in self.work {
            switch step.action.summaryKind {
            case .add: summary.add += 1
            case .change: summary.change += 1
            case .remove: summary.remove += 1
            case .replace: summary.add += 1; summary.remove += 1
            }
        }
        self.summary = summary
    }

    static func stepOrder(_ a: PlannedStep, _ b: PlannedStep) -> Bool {
        if a.host != b.host { return a.host < b.host }
        if a.resource != b.resource { return a.resource < b.resource }
        return StepKind.precedes(a.action, b.action)
    }

    enum CodingKeys: String, CodingKey {
        case formatVersion, revision, steps, drift, unmanaged, errors, summary, manifests
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        formatVersion = try c.decode(Int.self, forKey: .formatVersion)
        revision = try c.decodeIfPresent(String.self, forKey: .revision)
        steps = try c.decode([PlanStep].self, forKey: .steps)
        drift = try c.decode([DriftItem].self, forKey: .drift)
        unmanaged = try c.decode([UnmanagedItem].self, forKey: .unmanaged)
        errors = try c.decodeIfPresent([PlanError].self, forKey: .errors) ?? []
        summary = try c.decode(Summary.self, forKey: .summary)
        manifests = try c.decodeIfPresent(ManifestSection.self, forKey: .manifests)
        work = []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(formatVersion, forKey: .formatVersion)
        try c.encode(revision, forKey: .revision)  // explicit null, as the format says
        try c.encode(steps, forKey: .steps)
        try c.encode(drift, forKey: .drift)
        try c.encode(unmanaged, forKey: .unmanaged)
        try c.encode(errors, forKey: .errors)
        try c.encode(summary, forKey: .summary)
        try c.encodeIfPresent(manifests, forKey: .manifests)
    }

    /// Same changes (ignoring `work`, which a decoded plan lacks): how `apply PLANFILE`
    /// tells a stale saved plan from the freshly made one.
    public func hasSameChanges(as other: Plan) -> Bool {
        steps == other.steps && revision == other.revision && manifests?.comparable == other.manifests?.comparable
    }
}

/// One step as the JSON plan shows it.
public struct PlanStep: Sendable, Hashable, Codable {
    public var host: String
    public var resource: String
    public var action: StepKind
    public var packages: [String]
    public var reason: String

    public init(host: String, resource: String, action: StepKind, packages: [String], reason: String) {
        self.host = host
        self.resource = resource
        self.action = action
        self.packages = packages
        self.reason = reason
    }

    public init(_ step: PlannedStep) {
        self.init(host: step.host, resource: step.resource, action: step.action, packages: step.packages,
                  reason: step.reason)
    }
}
