/// Where something is in the repository: `file:line:column`, 1-based, as libyaml marks it.
public struct SourceLocation: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Path relative to the repository root (or as given, for files outside one).
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// The file name is escaped: it comes from the repository, and a name
    /// holding a newline must not print as a second diagnostic.
    public var description: String { "\(TextEscaping.visible(file, backslashes: false)):\(line):\(column)" }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }
}

/// A problem found in the specs. Validation collects these instead of throwing,
/// so one run reports every error, sorted by file and line.
public struct Diagnostic: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    public var severity: Severity
    public var location: SourceLocation
    public var message: String

    public init(_ severity: Severity = .error, at location: SourceLocation, _ message: String) {
        self.severity = severity
        self.location = location
        // Messages quote spec values (user names, paths, packages); whatever
        // control characters those hold are shown as escapes here, once for
        // every message and every output (text, JSON, PR annotations).
        // Backslashes stay single: values already quoted by `quoted` carry
        // their escapes.
        self.message = TextEscaping.visible(message, backslashes: false)
    }

    public static func error(_ location: SourceLocation, _ message: String) -> Diagnostic {
        Diagnostic(.error, at: location, message)
    }

    /// The form editors and CI annotations understand: `file:line:column: error: message`.
    public var description: String { "\(location): \(severity.rawValue): \(message)" }
}

extension Array where Element == Diagnostic {
    public var hasErrors: Bool { contains { $0.severity == .error } }

    /// Sorted by file, line, column, then message; duplicates removed.
    public func sortedForDisplay() -> [Diagnostic] {
        var seen = Set<Diagnostic>()
        return filter { seen.insert($0).inserted }
            .sorted { ($0.location, $0.message) < ($1.location, $1.message) }
    }
}

/// A value together with where it was written, so later checks (dangling
/// references, index checks) can point at the right place.
public struct Located<Value: Sendable>: Sendable {
    public var value: Value
    public var location: SourceLocation
    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }
}

extension Located: Equatable where Value: Equatable {}
extension Located: Hashable where Value: Hashable {}
