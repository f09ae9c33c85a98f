import Foundation
import Reconciler

/// What `/api/status` returns and the status page shows: the revisions (Flux's
/// lastAppliedRevision / lastAttemptedRevision), and each host's resources.
public struct DaemonStatus: Sendable, Codable, Equatable {
    public var repo: String
    public var ref: String?
    public var intervalSeconds: Double
    /// True while the suspend file exists: hosts are observed, never changed.
    public var suspended: Bool
    public var suspendReason: String?
    /// The revision whose specs are in force (validated and applied).
    public var lastAppliedRevision: String?
    /// The newest revision fetched and tried; differs from the applied one when
    /// it was invalid (see `lastAttemptError`) or is not applied yet.
    public var lastAttemptedRevision: String?
    public var lastAttemptError: String?
    /// The commits' subjects (first lines), when the source is git.
    public var lastAppliedSubject: String?
    public var lastAttemptedSubject: String?
    /// Fetching the repository failed (the last good specs stay in force).
    public var fetchError: String?
    public var lastReconcileAt: Date?
    public var lastSuccessfulReconcileAt: Date?
    public var nextReconcileAt: Date?
    /// The journal run being applied now, if any.
    public var runningRun: Int64?
    public var hosts: [HostStatus]

    public init(repo: String, ref: String?, intervalSeconds: Double) {
        self.repo = repo
        self.ref = ref
        self.intervalSeconds = intervalSeconds
        suspended = false
        hosts = []
    }
}

public struct HostStatus: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable {
        case ok
        /// Could not be observed or applied; retried after `retryDelaySeconds`.
        case failed
        /// Not observed yet.
        case unknown
    }
    public var name: String
    public var state: State
    public var error: String?
    public var consecutiveFailures: Int
    public var retryDelaySeconds: Double?
    public var nextRetryAt: Date?
    public var resources: [ResourceStatus]
}

public struct ResourceStatus: Sendable, Codable, Equatable {
    /// The plan's vocabulary (issue 11 #14): the same words as `status` and `plan`.
    public typealias State = ResourceState
    /// `PythonEnvironment/ml`, or for what no spec declares, its path.
    public var resource: String
    public var state: State
    public var detail: String?
    /// The packages that drifted or that pending steps change, wanted beside
    /// installed; absent when there are none.
    public var packages: [PackageDifference]?

    public init(resource: String, state: State, detail: String? = nil, packages: [PackageDifference]? = nil) {
        self.resource = resource
        self.state = state
        self.detail = detail
        self.packages = packages
    }
}
