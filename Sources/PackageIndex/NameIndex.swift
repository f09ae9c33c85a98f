import Foundation
import GRDB
import Specs

/// The local index of project names: one SQLite file in the state directory.
///
/// Layout, chosen for `search` under 20 ms with 700,000 names:
/// - `project(id, name)`, ids in name order, with a unique B-tree index on
///   `name`: a prefix is the range `name >= 'scik' AND name < 'scik~'`
///   (normalized names are `[a-z0-9-]`, all below `~`).
/// - `project_trigram`, an FTS5 table with the `trigram` tokenizer over the
///   same rows (external content, so names are stored once). A phrase query
///   `MATCH '"text"'` intersects the trigrams' position lists instead of
///   scanning. Positions (`detail=full`, +30% size over `detail=none`) make
///   the match exact: with `detail=none` only `LIKE` works, which re-reads
///   every row holding all the trigrams anywhere, and a misspelt name made
///   of common pieces took 25–50 ms. Trigrams need 3 characters, so shorter
///   queries get prefix matches only.
///
/// `refresh` builds a new file next to the old one and renames it into
/// place: a search running meanwhile sees the old names, never half the new.
public struct NameIndex: Sendable {
    public let path: URL

    public init(stateDirectory: URL) {
        path = stateDirectory.appendingPathComponent("package-index/names.sqlite")
    }

    public var exists: Bool { FileManager.default.fileExists(atPath: path.path) }

    public struct Info: Sendable {
        public var count: Int
        public var indexURL: String?
        public var validator: String?
        public var refreshedAt: String?
    }

    // MARK: building

    /// Replaces the index with `names` (normalized here, duplicates dropped).
    /// `progress(done, total)` is called every batch.
    @discardableResult
    public func rebuild(names: [String], indexURL: String, validator: String?,
                        progress: (@Sendable (Int, Int) -> Void)? = nil) async throws(IndexError) -> Int {
        // Sorting first means ids follow name order: substring matches come
        // back alphabetically without a sort.
        let normalized = Array(Set(names.lazy.map(NameIndex.normalize).filter { !$0.isEmpty })).sorted()
        let directory = path.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent("names.sqlite.building-\(getpid())")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try? FileManager.default.removeItem(at: temporary)
            // A scratch file renamed into place only when complete: no journal needed.
            var configuration = Configuration()
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF")
            }
            let queue = try DatabaseQueue(path: temporary.path, configuration: configuration)
            try await queue.writeWithoutTransaction { db in
                try db.inTransaction {
                    try db.execute(sql: """
                        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
                        CREATE TABLE project(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
                        """)
                    // Multi-row INSERTs: one statement per 500 names cuts the
                    // per-statement overhead that dominates single-row inserts.
                    let batch = 500
                    let full = try db.makeStatement(sql: "INSERT INTO project(name) VALUES " + Array(repeating: "(?)", count: batch).joined(separator: ","))
                    var start = 0
                    while start < normalized.count {
                        let end = min(start + batch, normalized.count)
                        let slice = normalized[start..<end]
                        if slice.count == batch {
                            try full.execute(arguments: StatementArguments(slice))
                        } else {
                            let last = try db.makeStatement(sql: "INSERT INTO project(name) VALUES " + Array(repeating: "(?)", count: slice.count).joined(separator: ","))
                            try last.execute(arguments: StatementArguments(slice))
                        }
                        start = end
                        if start % 50_000 < batch || start == normalized.count { progress?(start, normalized.count) }
                    }
                    try db.execute(sql: """
                        CREATE UNIQUE INDEX project_name ON project(name);
                        CREATE VIRTUAL TABLE project_trigram USING fts5(
                            name, content='project', content_rowid='id', tokenize='trigram');
                        INSERT INTO project_trigram(project_trigram) VALUES('rebuild');
                        """)
                    let now = ISO8601DateFormatter().string(from: Date())
                    for (key, value) in [("indexURL", indexURL), ("validator", validator), ("refreshedAt", now)] {
                        try db.execute(sql: "INSERT INTO meta(key, value) VALUES (?, ?)", arguments: [key, value])
                    }
                    return .commit
                }
            }
            try queue.close()
            if rename(temporary.path, path.path) != 0 {
                throw IndexError(.database, "cannot move the new name index into place at \(path.path): \(String(cString: strerror(errno)))")
            }
        } catch let error as IndexError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw IndexError(.database, "cannot build the name index at \(path.path): \(error)")
        }
        return normalized.count
    }

    // MARK: reading

    /// An open, read-only connection; cheap enough to make per command.
    public func open() throws(IndexError) -> Reader {
        guard exists else {
            throw IndexError(.noLocalIndex, "no local package name index at \(path.path): run `labsync packages refresh` first")
        }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            return Reader(queue: try DatabaseQueue(path: path.path, configuration: configuration))
        } catch {
            throw IndexError(.database, "cannot open the name index at \(path.path): \(error)")
        }
    }

    public struct Reader: Sendable {
        let queue: DatabaseQueue

        private func read<T>(_ body: (Database) throws -> T) throws(IndexError) -> T {
            do {
                return try queue.read(body)
            } catch {
                throw IndexError(.database, "reading the name index: \(error)")
            }
        }

        public func info() throws(IndexError) -> Info {
            try read { db in
                let meta = Dictionary(try Row.fetchAll(db, sql: "SELECT key, value FROM meta").map { ($0["key"] as String, $0["value"] as String?) },
                                      uniquingKeysWith: { a, _ in a })
                return Info(count: try Int.fetchOne(db, sql: "SELECT count(*) FROM project") ?? 0,
                            indexURL: meta["indexURL"] ?? nil, validator: meta["validator"] ?? nil,
                            refreshedAt: meta["refreshedAt"] ?? nil)
            }
        }

        public func contains(_ name: String) throws(IndexError) -> Bool {
            let normalized = normalizePackageName(name)
            return try read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM project WHERE name = ?", arguments: [normalized]) ?? false }
        }

        /// Names starting with `text`, then names containing it, each group
        /// alphabetical; `text` is normalized like a project name.
        public func search(_ text: String, limit: Int = 20) throws(IndexError) -> [String] {
            let query = NameIndex.searchKey(text)
            guard !query.isEmpty, limit > 0 else { return [] }
            return try read { db in
                var names = try String.fetchAll(
                    db, sql: "SELECT name FROM project WHERE name >= ? AND name < ? ORDER BY name LIMIT ?",
                    arguments: [query, query + "~", limit])
                if names.count < limit, query.count >= 3 {
                    // Over-fetch by the prefix matches already listed, which
                    // match again here, then drop them.
                    let more = try String.fetchAll(
                        db, sql: "SELECT name FROM project_trigram WHERE project_trigram MATCH ? LIMIT ?",
                        arguments: [NameIndex.phrase(query), limit + names.count])
                    for name in more where !name.hasPrefix(query) && names.count < limit { names.append(name) }
                }
                return names
            }
        }

        /// Known names closest to `name` by edit distance (transpositions count
        /// once), for "did you mean …?". Candidates share its first two
        /// characters or one of its 4-character pieces, so the distance is
        /// computed over a few thousand names, not the whole index.
        public func closest(to name: String, limit: Int = 3) throws(IndexError) -> [String] {
            let query = NameIndex.searchKey(name)
            guard query.count >= 2 else { return [] }
            let maxDistance = max(2, query.count / 3)
            let candidates: Set<String> = try read { db in
                var found = Set(try String.fetchAll(
                    db, sql: "SELECT name FROM project WHERE name >= ? AND name < ? AND length(name) BETWEEN ? AND ? LIMIT 20000",
                    arguments: [String(query.prefix(2)), String(query.prefix(2)) + "~", query.count - maxDistance, query.count + maxDistance]))
                let characters = Array(query)
                if characters.count >= 4 {
                    for start in stride(from: 0, through: characters.count - 4, by: 2) {
                        let piece = String(characters[start..<start + 4])
                        found.formUnion(try String.fetchAll(
                            db, sql: "SELECT name FROM project_trigram WHERE project_trigram MATCH ? AND length(name) BETWEEN ? AND ? LIMIT 500",
                            arguments: [NameIndex.phrase(piece), query.count - maxDistance, query.count + maxDistance]))
                    }
                }
                return found
            }
            return candidates.compactMap { candidate -> (String, Int)? in
                guard candidate != query else { return nil }
                let d = editDistance(query, candidate, limit: maxDistance)
                return d <= maxDistance ? (candidate, d) : nil
            }
            .sorted { ($0.1, $0.0) < ($1.1, $1.0) }
            .prefix(limit).map(\.0)
        }
    }

    /// `normalizePackageName` with a byte-level path for ASCII names (all of
    /// PyPI's): the general one allocates per character, which made it a
    /// large share of indexing 700,000 names.
    static func normalize(_ name: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(name.utf8.count)
        var lastWasSeparator = false
        for byte in name.utf8 {
            guard byte < 0x80 else { return normalizePackageName(name) }
            if byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") {
                if !lastWasSeparator { bytes.append(UInt8(ascii: "-")) }
                lastWasSeparator = true
            } else {
                bytes.append(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte)
                lastWasSeparator = false
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// An FTS5 phrase: the text in double quotes (search keys never contain one).
    static func phrase(_ key: String) -> String { "\"" + key + "\"" }

    /// What search compares: the normalized name, restricted to the characters
    /// a normalized name can have (nothing FTS5 query syntax would interpret).
    static func searchKey(_ text: String) -> String {
        String(normalizePackageName(text.trimmingCharacters(in: .whitespaces)).filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") })
    }
}

/// Optimal string alignment distance (Levenshtein plus adjacent
/// transpositions), giving up early once every path exceeds `limit`.
public func editDistance(_ a: String, _ b: String, limit: Int = .max) -> Int {
    let s = Array(a.utf8), t = Array(b.utf8)
    if abs(s.count - t.count) > limit { return limit + 1 }
    if s.isEmpty { return t.count }
    if t.isEmpty { return s.count }
    var previous2 = [Int](repeating: 0, count: t.count + 1)
    var previous = Array(0...t.count)
    var current = [Int](repeating: 0, count: t.count + 1)
    for i in 1...s.count {
        current[0] = i
        var rowMinimum = current[0]
        for j in 1...t.count {
            let cost = s[i - 1] == t[j - 1] ? 0 : 1
            var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1, j > 1, s[i - 1] == t[j - 2], s[i - 2] == t[j - 1] { value = min(value, previous2[j - 2] + 1) }
            current[j] = value
            rowMinimum = min(rowMinimum, value)
        }
        if rowMinimum > limit { return limit + 1 }
        (previous2, previous, current) = (previous, current, previous2)
    }
    return previous[t.count]
}
