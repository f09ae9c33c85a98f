// The run journal: every plan, apply and daemon run, with its steps and every
// output line, in SQLite (`<state-dir>/journal.sqlite`, WAL mode).
//
// Lines are written one transaction each, on the thread that reads them, before
// the next line is read: a run killed with SIGKILL keeps everything up to the kill
// (WAL + synchronous=NORMAL loses at most what the OS had not written on a power
// cut, never on a process kill). Readers (`labsync logs --follow`, the daemon's
// HTTP API) poll by line id, which only grows.

import Drivers
import Foundation
import GRDB
import Reconciler
import Remote

public struct JournalError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The journal file could not be opened or created.
        case cannotOpen
        /// No run with that id.
        case noSuchRun
        /// Reading or writing failed.
        case database
    }
    public var kind: Kind
    public var message: String
    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { message }
}

/// One run as stored.
public struct JournalRun: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable { case plan, apply, daemonApply = "daemon-apply" }
    public enum Result: String, Sendable, Codable {
        case running
        /// Applied (or, for a plan, planned) with no error.
        case succeeded
        /// A step, a host, or the observation failed.
        case failed
        /// Nothing to do: the hosts matched the specs.
        case noChanges = "no-changes"
        /// The revision's specs are invalid: nothing was observed or applied.
        case invalid
        /// Stopped before it ended: the process was killed, or the daemon shut down.
        case interrupted
        /// The user declined, or the saved plan was stale.
        case cancelled
    }

    public var id: Int64
    public var kind: Kind
    /// What started it: `cli`, `start`, `interval`, `webhook`.
    public var trigger: String
    public var revision: String?
    public var startedAt: Date
    public var finishedAt: Date?
    public var result: Result
    /// One line on why it ended as it did (errors, counts).
    public var summary: String?
    /// The hosts the run touched or tried to.
    public var hosts: [String]
    /// The plan, in the JSON form `plan --format json` prints.
    public var planJSON: String?
    public var pid: Int32
}

extension JournalRun {
    /// A run as lists show it (`history --json`, the daemon's `/api/runs`):
    /// everything but the plan and the pid.
    public struct Listing: Sendable, Hashable, Codable {
        public var id: Int64
        public var kind: String
        public var trigger: String
        public var revision: String?
        public var startedAt: Date
        public var finishedAt: Date?
        public var result: String
        public var summary: String?
        public var hosts: [String]

        public init(_ run: JournalRun) {
            id = run.id
            kind = run.kind.rawValue
            trigger = run.trigger
            revision = run.revision
            startedAt = run.startedAt
            finishedAt = run.finishedAt
            result = run.result.rawValue
            summary = run.summary
            hosts = run.hosts
        }
    }
}

/// One step of an apply.
public struct JournalStep: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Codable { case running, succeeded, failed, skipped, interrupted }
    public var id: Int64
    public var run: Int64
    public var host: String
    public var resource: String
    public var action: String
    public var packages: [String]
    public var startedAt: Date?
    public var finishedAt: Date?
    public var status: Status
    public var exitCode: Int32?
}

/// One output line.
public struct JournalLine: Sendable, Hashable, Codable {
    /// `output`: a step's output (its stdout and stderr, merged on the host, in
    /// order); `labsync`: what labsync itself says about the run.
    public enum Stream: String, Sendable, Codable { case output, labsync }
    public var id: Int64
    public var run: Int64
    public var step: Int64?
    public var host: String?
    public var stream: Stream
    public var at: Date
    public var text: String
}

public final class Journal: Sendable {
    public let path: String
    private let pool: DatabasePool
    private let redactor: Redactor

    /// Opens (creating if need be) the journal in `stateDirectory`. Values in
    /// `secrets` are replaced by `***` in everything stored, as are passwords in URLs.
    public init(stateDirectory: URL, secrets: [String] = []) throws {
        let path = stateDirectory.appendingPathComponent("journal.sqlite").path
        self.path = path
        redactor = Redactor(secrets: secrets)
        do {
            try StateDirectory.prepare(stateDirectory)
            try StateDirectory.prepareDatabaseFile(path)
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.prepareDatabase { db in
                // Durable against a killed process (what matters here), fast enough
                // for one transaction per output line.
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            pool = try DatabasePool(path: path, configuration: configuration)  // WAL
            try Self.migrator.migrate(pool)
        } catch {
            throw JournalError(kind: .cannotOpen, message: "cannot open the journal \(path): \(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE run (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  kind TEXT NOT NULL, trigger TEXT NOT NULL, revision TEXT,
                  startedAt DOUBLE NOT NULL, finishedAt DOUBLE,
                  result TEXT NOT NULL, summary TEXT, plan TEXT,
                  pid INTEGER NOT NULL, machine TEXT NOT NULL);
                CREATE TABLE runHost (
                  run INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                  host TEXT NOT NULL, PRIMARY KEY (run, host));
                CREATE INDEX runHostByHost ON runHost(host);
                CREATE TABLE step (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  run INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                  host TEXT NOT NULL, resource TEXT NOT NULL, action TEXT NOT NULL,
                  packages TEXT NOT NULL, startedAt DOUBLE, finishedAt DOUBLE,
                  status TEXT NOT NULL, exitCode INTEGER);
                CREATE INDEX stepByRun ON step(run);
                CREATE TABLE line (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  run INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                  step INTEGER, host TEXT, stream TEXT NOT NULL,
                  at DOUBLE NOT NULL, text TEXT NOT NULL);
                CREATE INDEX lineByRun ON line(run, id);
                """)
        }
        return migrator
    }

    // MARK: Writing

    /// Starts a run (result `running`) and returns its id. The hosts recorded are
    /// `hosts` and those the plan names.
    public func begin(kind: JournalRun.Kind, trigger: String, revision: String?, hosts: [String] = [],
                      plan: Plan? = nil) throws -> Int64 {
        let planJSON = plan.map(Self.json)
        let hosts = hosts + (plan.map(Self.hosts(of:)) ?? [])
        return try write { db in
            try db.execute(sql: """
                INSERT INTO run (kind, trigger, revision, startedAt, result, plan, pid, machine)
                VALUES (?, ?, ?, ?, 'running', ?, ?, ?)
                """, arguments: [kind.rawValue, trigger, revision, Date().timeIntervalSince1970,
                                 planJSON.map(redactor.redact), getpid(), Self.machine])
            let id = db.lastInsertedRowID
            for host in Set(hosts) {
                try db.execute(sql: "INSERT OR IGNORE INTO runHost (run, host) VALUES (?, ?)", arguments: [id, host])
            }
            return id
        }
    }

    /// Records the plan a run made (and the hosts it names).
    public func setPlan(run: Int64, _ plan: Plan) throws {
        let planJSON = redactor.redact(Self.json(plan))
        let hosts = Self.hosts(of: plan)
        try write { db in
            try db.execute(sql: "UPDATE run SET plan = ?, revision = COALESCE(revision, ?) WHERE id = ?",
                           arguments: [planJSON, plan.revision, run])
            for host in hosts {
                try db.execute(sql: "INSERT OR IGNORE INTO runHost (run, host) VALUES (?, ?)", arguments: [run, host])
            }
        }
    }

    public func addHosts(run: Int64, _ hosts: [String]) throws {
        try write { db in
            for host in Set(hosts) {
                try db.execute(sql: "INSERT OR IGNORE INTO runHost (run, host) VALUES (?, ?)", arguments: [run, host])
            }
        }
    }

    public func finish(run: Int64, result: JournalRun.Result, summary: String? = nil) throws {
        try write { db in
            try db.execute(sql: "UPDATE run SET result = ?, summary = ?, finishedAt = ? WHERE id = ?",
                           arguments: [result.rawValue, summary.map(redactor.redact), Date().timeIntervalSince1970, run])
            // Steps still open when the run ends never finished.
            try db.execute(sql: """
                UPDATE step SET status = 'interrupted', finishedAt = ? WHERE run = ? AND status = 'running'
                """, arguments: [Date().timeIntervalSince1970, run])
        }
    }

    public func beginStep(run: Int64, host: String, step: PlanStep) throws -> Int64 {
        try write { db in
            try db.execute(sql: """
                INSERT INTO step (run, host, resource, action, packages, startedAt, status)
                VALUES (?, ?, ?, ?, ?, ?, 'running')
                """, arguments: [run, host, step.resource, step.action.rawValue,
                                 redactor.redact(step.packages.joined(separator: "\n")), Date().timeIntervalSince1970])
            try db.execute(sql: "INSERT OR IGNORE INTO runHost (run, host) VALUES (?, ?)", arguments: [run, host])
            return db.lastInsertedRowID
        }
    }

    /// Records a step that never started (skipped after an earlier failure).
    public func addSkippedStep(run: Int64, host: String, step: PlanStep) throws {
        try write { db in
            try db.execute(sql: """
                INSERT INTO step (run, host, resource, action, packages, status) VALUES (?, ?, ?, ?, ?, 'skipped')
                """, arguments: [run, host, step.resource, step.action.rawValue,
                                 redactor.redact(step.packages.joined(separator: "\n"))])
        }
    }

    public func finishStep(_ step: Int64, status: JournalStep.Status, exitCode: Int32?) throws {
        try write { db in
            try db.execute(sql: "UPDATE step SET status = ?, exitCode = ?, finishedAt = ? WHERE id = ?",
                           arguments: [status.rawValue, exitCode, Date().timeIntervalSince1970, step])
        }
    }

    public func addLine(run: Int64, step: Int64? = nil, host: String? = nil, stream: JournalLine.Stream, _ text: String) throws {
        try write { db in
            try db.execute(sql: "INSERT INTO line (run, step, host, stream, at, text) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [run, step, host, stream.rawValue, Date().timeIntervalSince1970, redactor.redact(text)])
        }
    }

    /// Marks runs left `running` by a process of this machine that no longer
    /// exists (killed, or the machine rebooted) as `interrupted`.
    @discardableResult
    public func reapAbandonedRuns() throws -> Int {
        try write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, pid, machine FROM run WHERE result = 'running'")
            var reaped = 0
            for row in rows where (row["machine"] as String) == Self.machine && !Self.processExists(row["pid"]) {
                let id: Int64 = row["id"]
                try db.execute(sql: """
                    UPDATE run SET result = 'interrupted', summary = 'the labsync process ended before the run did'
                    WHERE id = ?
                    """, arguments: [id])
                try db.execute(sql: "UPDATE step SET status = 'interrupted' WHERE run = ? AND status = 'running'",
                               arguments: [id])
                reaped += 1
            }
            return reaped
        }
    }

    // MARK: Reading

    /// The newest runs first; only runs that touched `host` when given.
    public func runs(limit: Int = 20, host: String? = nil, kinds: [JournalRun.Kind]? = nil) throws -> [JournalRun] {
        try read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let host {
                conditions.append("id IN (SELECT run FROM runHost WHERE host = ?)")
                arguments += [host]
            }
            if let kinds {
                conditions.append("kind IN (\(kinds.map { _ in "?" }.joined(separator: ",")))")
                arguments += StatementArguments(kinds.map(\.rawValue))
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            arguments += [limit]
            return try Row.fetchAll(db, sql: "SELECT * FROM run \(filter) ORDER BY id DESC LIMIT ?", arguments: arguments)
                .map { try Self.run(from: $0, db) }
        }
    }

    public func run(_ id: Int64) throws -> JournalRun {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM run WHERE id = ?", arguments: [id]) else {
                throw JournalError(kind: .noSuchRun, message: "no run \(id) in the journal")
            }
            return try Self.run(from: row, db)
        }
    }

    public func steps(run: Int64) throws -> [JournalStep] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM step WHERE run = ? ORDER BY id", arguments: [run]).map { row in
                let packages: String = row["packages"]
                return JournalStep(
                    id: row["id"], run: row["run"], host: row["host"], resource: row["resource"], action: row["action"],
                    packages: packages.isEmpty ? [] : packages.components(separatedBy: "\n"),
                    startedAt: (row["startedAt"] as Double?).map(Date.init(timeIntervalSince1970:)),
                    finishedAt: (row["finishedAt"] as Double?).map(Date.init(timeIntervalSince1970:)),
                    status: JournalStep.Status(rawValue: row["status"]) ?? .running, exitCode: row["exitCode"])
            }
        }
    }

    /// Lines of `run` with an id greater than `after`, oldest first.
    public func lines(run: Int64, after: Int64 = 0, limit: Int = 10_000) throws -> [JournalLine] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM line WHERE run = ? AND id > ? ORDER BY id LIMIT ?",
                             arguments: [run, after, limit]).map { row in
                JournalLine(id: row["id"], run: row["run"], step: row["step"], host: row["host"],
                            stream: JournalLine.Stream(rawValue: row["stream"]) ?? .output,
                            at: Date(timeIntervalSince1970: row["at"]), text: row["text"])
            }
        }
    }

    /// Number of runs of each kind and result (for metrics, seeded at start).
    public func runCounts() throws -> [(kind: String, result: String, count: Int)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT kind, result, COUNT(*) AS n FROM run GROUP BY kind, result").map {
                (kind: $0["kind"], result: $0["result"], count: $0["n"])
            }
        }
    }

    // MARK: Internals

    private func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.write(body) } catch let error as JournalError { throw error } catch {
            throw JournalError(kind: .database, message: "writing the journal \(path) failed: \(error)")
        }
    }

    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch let error as JournalError { throw error } catch {
            throw JournalError(kind: .database, message: "reading the journal \(path) failed: \(error)")
        }
    }

    private static func run(from row: Row, _ db: Database) throws -> JournalRun {
        let id: Int64 = row["id"]
        let hosts = try String.fetchAll(db, sql: "SELECT host FROM runHost WHERE run = ? ORDER BY host", arguments: [id])
        var result = JournalRun.Result(rawValue: row["result"]) ?? .failed
        // A run still "running" whose process is gone was killed: say so even
        // before anyone reaps it.
        if result == .running, (row["machine"] as String) == machine, !processExists(row["pid"]) {
            result = .interrupted
        }
        return JournalRun(
            id: id, kind: JournalRun.Kind(rawValue: row["kind"]) ?? .apply, trigger: row["trigger"],
            revision: row["revision"], startedAt: Date(timeIntervalSince1970: row["startedAt"]),
            finishedAt: (row["finishedAt"] as Double?).map(Date.init(timeIntervalSince1970:)),
            result: result, summary: row["summary"], hosts: hosts, planJSON: row["plan"], pid: row["pid"])
    }

    static func hosts(of plan: Plan) -> [String] {
        Array(Set(plan.steps.map(\.host) + plan.errors.map(\.host) + plan.drift.map(\.host)))
    }

    static func json(_ plan: Plan) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(plan)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    static let machine = ProcessInfo.processInfo.hostName

    static func processExists(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}

/// Keeps secrets out of the journal: known secret values, and the password
/// part of `scheme://user:password@host` URLs (index URLs often carry tokens).
struct Redactor: Sendable {
    var secrets: [String]

    init(secrets: [String]) {
        // Short values would blot out ordinary words.
        self.secrets = secrets.filter { $0.count >= 4 }.sorted { $0.count > $1.count }
    }

    func redact(_ text: String) -> String {
        var text = text
        for secret in secrets where text.contains(secret) { text = text.replacingOccurrences(of: secret, with: "***") }
        guard text.contains("://") else { return text }
        return text.replacing(#/(?<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?<user>[^\s/:@]*):(?<password>[^\s/@]+)@/#) { match in
            "\(match.output.scheme)\(match.output.user):***@"
        }
    }
}
