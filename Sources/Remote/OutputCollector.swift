/// Collects one output stream of a command: keeps at most `limit` bytes (the
/// most recent ones) and, when asked, splits the stream into lines for a callback.
/// Memory stays below about 2 × limit however much the host prints.
/// `package`: the in-memory transport of the tests collects output with it too,
/// so its results and streamed lines are cut exactly like the real ones.
package struct OutputCollector {
    let stream: OutputLine.Stream
    let limit: Int
    /// A line longer than this is delivered in pieces, so a host printing one huge
    /// line cannot grow the pending buffer without bound.
    let maxLineLength: Int
    private(set) var kept: [UInt8] = []
    private(set) var truncated = false
    private var pendingLine: [UInt8] = []

    package init(stream: OutputLine.Stream, limit: Int, maxLineLength: Int = 64 * 1024) {
        self.stream = stream
        self.limit = max(limit, 0)
        self.maxLineLength = maxLineLength
    }

    package mutating func append(_ bytes: UnsafeBufferPointer<UInt8>, emit: ((OutputLine) -> Void)?) {
        kept.append(contentsOf: bytes)
        // Trim in batches (not on every append) to keep this linear.
        if kept.count > 2 * limit + 1 {
            kept.removeFirst(kept.count - limit)
            truncated = true
        }
        guard let emit else { return }
        var start = bytes.startIndex
        for i in bytes.indices where bytes[i] == UInt8(ascii: "\n") {
            pendingLine.append(contentsOf: bytes[start..<i])
            emitPieces(emit)
            emitLine(emit)
            start = i + 1
        }
        pendingLine.append(contentsOf: bytes[start..<bytes.endIndex])
        emitPieces(emit)
    }

    /// Delivers a too-long pending line in pieces of exactly `maxLineLength`, also
    /// when its newline came in the same read: the pieces are then the same however
    /// the stream was cut into reads (the transport contract checks this).
    private mutating func emitPieces(_ emit: (OutputLine) -> Void) {
        while pendingLine.count > maxLineLength {
            let piece = Array(pendingLine.prefix(maxLineLength))
            pendingLine.removeFirst(maxLineLength)
            emit(OutputLine(stream: stream, text: String(decoding: piece, as: UTF8.self)))
        }
    }

    /// Delivers a last line that had no newline and returns what was kept.
    package mutating func finish(emit: ((OutputLine) -> Void)?) -> (bytes: [UInt8], truncated: Bool) {
        if let emit, !pendingLine.isEmpty { emitLine(emit) }
        if kept.count > limit {
            kept.removeFirst(kept.count - limit)
            truncated = true
        }
        return (kept, truncated)
    }

    private mutating func emitLine(_ emit: (OutputLine) -> Void) {
        var line = pendingLine
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        emit(OutputLine(stream: stream, text: String(decoding: line, as: UTF8.self)))
        pendingLine.removeAll(keepingCapacity: true)
    }
}
