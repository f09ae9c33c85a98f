// Small helpers shared by the PEP 440 / PEP 508 parsers. The parsers work on UTF-8
// bytes: every accepted construct is ASCII, and byte indices keep them simple.

/// Python's `str.isspace()` / regex `\s` set (they agree; measured on CPython 3.11).
/// `packaging` trims and matches with these, so "\u{a0}1.0" is a valid version.
func isPythonSpace(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A,
         0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
        return true
    default:
        return false
    }
}

/// `s.strip()` as Python does it.
func pythonStrip(_ s: Substring) -> Substring {
    let scalars = s.unicodeScalars
    guard let first = scalars.firstIndex(where: { !isPythonSpace($0) }) else { return s[s.endIndex...] }
    let last = scalars.lastIndex(where: { !isPythonSpace($0) })!
    return Substring(scalars[first...last])
}

func pythonStrip(_ s: String) -> String { String(pythonStrip(Substring(s))) }

extension UInt8 {
    var isDigit: Bool { self >= 0x30 && self <= 0x39 }
    var isASCIILetter: Bool { (self | 0x20) >= 0x61 && (self | 0x20) <= 0x7A }
    var isAlnum: Bool { isDigit || isASCIILetter }
    /// ASCII lowercase; other bytes unchanged.
    var lowered: UInt8 { (self >= 0x41 && self <= 0x5A) ? self | 0x20 : self }
    /// `[._-]`, the PEP 440 separator set.
    var isSeparator: Bool { self == 0x2E || self == 0x5F || self == 0x2D }
}

/// A cursor over ASCII bytes with the few primitives the hand-written PEP 440
/// matchers need. Every `match…` either consumes what it matched or nothing.
struct ByteCursor {
    let bytes: [UInt8]
    var pos: Int

    init(_ bytes: [UInt8], at pos: Int = 0) {
        self.bytes = bytes
        self.pos = pos
    }

    var atEnd: Bool { pos >= bytes.count }
    var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    /// Consumes one byte if `test` accepts it.
    @discardableResult
    mutating func match(_ test: (UInt8) -> Bool) -> Bool {
        if let b = peek, test(b) { pos += 1; return true }
        return false
    }

    /// Consumes `word` (compared case-insensitively; `word` must be lowercase).
    @discardableResult
    mutating func match(word: String) -> Bool {
        let w = Array(word.utf8)
        guard pos + w.count <= bytes.count else { return false }
        for i in 0..<w.count where bytes[pos + i].lowered != w[i] { return false }
        pos += w.count
        return true
    }

    /// The first of `words` that matches, in order — the same choice a regex
    /// alternation `(a|b|c)` makes.
    mutating func match(anyOf words: [String]) -> String? {
        for w in words where match(word: w) { return w }
        return nil
    }

    /// Consumes `[0-9]+`; returns the digits.
    mutating func matchDigits() -> ArraySlice<UInt8>? {
        let start = pos
        while let b = peek, b.isDigit { pos += 1 }
        return pos > start ? bytes[start..<pos] : nil
    }
}

/// Parses ASCII digits into an Int; nil when it does not fit. Python has big
/// integers; we refuse numbers over Int.max instead of wrapping.
func parseInt(_ digits: ArraySlice<UInt8>) -> Int? {
    var n = 0
    for d in digits {
        let (m, o1) = n.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(Int(d - 0x30))
        if o1 || o2 { return nil }
        n = a
    }
    return n
}

/// Python `repr()`-like quoting for error messages; control characters are
/// escaped by the same rule as every other diagnostic (`TextEscaping`).
func quoted(_ s: some StringProtocol) -> String {
    "'" + TextEscaping.visible(s).replacing("'", with: "\\'") + "'"
}
