import Foundation
import Reconciler
import SpecSource

/// Everything `labsync daemon` is told on its command line, resolved.
public struct DaemonConfiguration: Sendable {
    /// The spec repository as given (shown on the status page).
    public var repo: String
    public var ref: String?
    /// Why `ref` is what it is when labsync chose it (a work tree's branch); logged at start.
    public var refNote: String?
    /// The source for the configured ref, and for one exact commit (to bring
    /// back the last applied revision after a restart).
    public var source: any Source
    public var sourceAtRevision: @Sendable (String) -> any Source
    public var stateDirectory: URL
    public var inventory: InventoryOptions
    public var run: RunOptions
    /// Reconcile this often even without a new commit (drift correction).
    public var interval: Duration
    /// Each wait is `interval` ± this fraction, so a fleet of daemons spreads out.
    public var jitter: Double
    /// The first retry of a failing host waits this long, then twice as long each time…
    public var retryBase: Duration
    /// …up to this.
    public var retryMax: Duration
    /// Address and port the HTTP server binds (loopback unless told otherwise).
    public var listenHost: String
    public var listenPort: Int
    /// The shared secret of `POST /hooks/git`; without one the hook is refused.
    public var webhookSecret: String?
    /// How long SIGTERM waits for a running apply before giving up on it.
    public var shutdownTimeout: Duration
    /// Accept a revision that declares no environments and no hubs.
    public var allowEmpty: Bool
    /// Read timeouts and the connection cap of the HTTP server.
    public var httpLimits = HTTPLimits()
    /// `--manifests DIR`: the directory the Kubernetes hubs' files are kept in step
    /// with; nil: they are listed as not planned.
    public var manifestsDirectory: String?
    /// `--commit-url`: where the status page links a revision, `{sha}` replaced
    /// by the full commit (`https://gitlab.example/x/-/commit/{sha}`); nil: no links.
    public var commitURLPattern: String?

    public init(repo: String, ref: String?, refNote: String? = nil, source: any Source, sourceAtRevision: @escaping @Sendable (String) -> any Source,
                stateDirectory: URL, inventory: InventoryOptions, run: RunOptions = RunOptions(),
                interval: Duration = .seconds(300), jitter: Double = 0.1,
                retryBase: Duration = .seconds(30), retryMax: Duration = .seconds(3600),
                listenHost: String = "127.0.0.1", listenPort: Int = 9171, webhookSecret: String? = nil,
                shutdownTimeout: Duration = .seconds(120), allowEmpty: Bool = false) {
        self.repo = repo
        self.ref = ref
        self.refNote = refNote
        self.source = source
        self.sourceAtRevision = sourceAtRevision
        self.stateDirectory = stateDirectory
        self.inventory = inventory
        self.run = run
        self.interval = interval
        self.jitter = jitter
        self.retryBase = retryBase
        self.retryMax = retryMax
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.webhookSecret = webhookSecret
        self.shutdownTimeout = shutdownTimeout
        self.allowEmpty = allowEmpty
    }

    /// While this file exists the daemon observes but changes nothing.
    public var suspendFile: URL { Self.suspendFile(in: stateDirectory) }

    public static func suspendFile(in stateDirectory: URL) -> URL {
        stateDirectory.appendingPathComponent("suspended")
    }

    /// The revisions, kept across restarts.
    var stateFile: URL { stateDirectory.appendingPathComponent("daemon-state.json") }
}

/// "5m", "90s", "1h30m", "250ms", or plain seconds.
public func parseDuration(_ text: String) -> Duration? {
    if let seconds = Double(text), seconds >= 0 { return .milliseconds(Int64(seconds * 1000)) }
    var total: Double = 0
    var number = ""
    var rest = Substring(text)
    guard !rest.isEmpty else { return nil }
    while let c = rest.first {
        if c.isNumber || c == "." { number.append(c); rest.removeFirst(); continue }
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        guard let (unit, factor) = units.first(where: { rest.hasPrefix($0.0) }), let value = Double(number) else { return nil }
        total += value * factor
        number = ""
        rest.removeFirst(unit.count)
    }
    guard number.isEmpty else { return nil }
    return .milliseconds(Int64(total * 1000))
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
