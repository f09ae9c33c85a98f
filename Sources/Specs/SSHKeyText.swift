import Foundation

/// The text forms of SSH public keys: a `hostKeys` pin or `.pub` line
/// (`<type> <base64> [comment]`) and a known_hosts line. Pure parsing, no
/// trust decisions: validation uses it to refuse a malformed pin at its
/// `file:line:col` (a pin that failed to parse used to be dropped, and
/// trust-on-first-use took over), and `Remote` uses the same code to read the
/// keys it verifies against, so the two can never disagree on what a line is.
public enum SSHKeyText {
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Kind: Sendable, Equatable { case malformed, badBase64, typeMismatch, unacceptedType, badKeyData }
        public var kind: Kind
        public var message: String
        public var description: String { message }
    }

    /// A key as text says it: the type, and the blob (RFC 4253 §6.6).
    public struct PublicKey: Hashable, Sendable {
        public var type: String
        public var blob: [UInt8]
    }

    /// Host key types labsync accepts as pins: what libssh2 1.10 verifies with
    /// a signature OpenSSH still offers (RSA host keys only sign with SHA-1
    /// `ssh-rsa` there, which OpenSSH ≥ 8.8 refuses).
    public static let pinnableTypes = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"]

    /// `"<type> <base64> [comment]"`, any key type: the base64 must decode and
    /// the blob's first field must name the same type.
    public static func parse(_ line: some StringProtocol) -> Result<PublicKey, ParseError> {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count >= 2 else {
            return .failure(ParseError(kind: .malformed, message: "expected '<type> <base64 key>', found \(fields.count) field(s)"))
        }
        let type = String(fields[0])
        guard let data = Data(base64Encoded: String(fields[1])) else {
            return .failure(ParseError(kind: .badBase64, message: "the key of a \(TextEscaping.visible(type)) entry is not valid base64"))
        }
        let blob = [UInt8](data)
        guard let embedded = embeddedType(blob) else {
            return .failure(ParseError(kind: .badKeyData, message: "the key data does not start with a key type"))
        }
        guard embedded == type else {
            return .failure(ParseError(kind: .typeMismatch, message:
                "the line says \(TextEscaping.visible(type)) but the key data is \(TextEscaping.visible(embedded))"))
        }
        return .success(PublicKey(type: type, blob: blob))
    }

    /// `parse`, then the stricter rules for a pin: an accepted type whose blob
    /// has exactly the fields and sizes of that type (an ed25519 key is 32
    /// bytes; an ECDSA key names its curve and holds an uncompressed point).
    public static func parsePin(_ line: some StringProtocol) -> Result<PublicKey, ParseError> {
        let key: PublicKey
        switch parse(line) {
        case .failure(let error): return .failure(error)
        case .success(let k): key = k
        }
        guard pinnableTypes.contains(key.type) else {
            return .failure(ParseError(kind: .unacceptedType, message:
                "key type \(TextEscaping.visible(key.type)) is not accepted; pin one of \(pinnableTypes.joined(separator: ", "))"))
        }
        guard wellFormed(key) else {
            return .failure(ParseError(kind: .badKeyData, message: "the key data is not a well-formed \(key.type) public key"))
        }
        return .success(key)
    }

    /// One known_hosts line (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"), parsed.
    public struct KnownHostsEntry: Sendable, Equatable {
        public var marker: String?     // "@revoked", "@cert-authority", or nil
        public var patterns: [String]  // comma-separated host field, or one hashed "|1|salt|hash"
        public var key: PublicKey
    }

    /// nil for a blank or comment line. Any key type is read (a user's
    /// known_hosts holds RSA lines for other hosts; they are not an error),
    /// but the line must be well formed: an unknown marker, a missing field
    /// or bad key data is an error.
    public static func parseKnownHostsLine(_ raw: Substring) -> Result<KnownHostsEntry, ParseError>? {
        var fields = raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
        guard let first = fields.first, !first.hasPrefix("#") else { return nil }
        var marker: String?
        if first.hasPrefix("@") {
            guard first == "@revoked" || first == "@cert-authority" else {
                return .failure(ParseError(kind: .malformed, message: "unknown marker \(TextEscaping.visible(first))"))
            }
            marker = first
            fields.removeFirst()
        }
        guard fields.count >= 3 else {
            return .failure(ParseError(kind: .malformed, message: "expected '<hosts> <type> <base64 key>'"))
        }
        if fields[0].hasPrefix("|"), !isHashedPattern(fields[0]) {
            return .failure(ParseError(kind: .malformed, message: "malformed hashed host name (expected |1|salt|hash)"))
        }
        switch parse(fields[1...].joined(separator: " ")) {
        case .failure(let error): return .failure(error)
        case .success(let key):
            return .success(KnownHostsEntry(marker: marker, patterns: fields[0].split(separator: ",").map(String.init), key: key))
        }
    }

    /// Every line of a known_hosts text that does not parse, with its 1-based
    /// line number.
    public static func knownHostsProblems(_ text: String) -> [(line: Int, error: ParseError)] {
        var problems: [(Int, ParseError)] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if case .failure(let error)? = parseKnownHostsLine(raw) { problems.append((index + 1, error)) }
        }
        return problems
    }

    private static func isHashedPattern(_ s: String) -> Bool {
        let parts = s.split(separator: "|", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[1] == "1"
            && Data(base64Encoded: String(parts[2])) != nil && Data(base64Encoded: String(parts[3])) != nil
    }

    /// The first field of a key blob is its type as an SSH string (uint32 length + bytes).
    public static func embeddedType(_ blob: [UInt8]) -> String? {
        var reader = BlobReader(bytes: blob)
        guard let bytes = reader.string(maxLength: 64), !bytes.isEmpty else { return nil }
        return String(bytes: bytes, encoding: .utf8)
    }

    /// Exactly the fields of the type, with their sizes, and nothing after.
    static func wellFormed(_ key: PublicKey) -> Bool {
        var reader = BlobReader(bytes: key.blob)
        _ = reader.string(maxLength: 64)
        switch key.type {
        case "ssh-ed25519":
            guard reader.string(maxLength: 32)?.count == 32 else { return false }
        default:  // ecdsa-sha2-<curve>
            let curve = String(key.type.dropFirst("ecdsa-sha2-".count))
            let pointSize = ["nistp256": 65, "nistp384": 97, "nistp521": 133][curve] ?? 0
            guard let name = reader.string(maxLength: 16), String(decoding: name, as: UTF8.self) == curve,
                  let point = reader.string(maxLength: 256), point.count == pointSize, point.first == 0x04
            else { return false }
        }
        return reader.atEnd
    }

    private struct BlobReader {
        let bytes: [UInt8]
        var position = 0
        var atEnd: Bool { position == bytes.count }

        mutating func string(maxLength: Int) -> ArraySlice<UInt8>? {
            guard bytes.count - position >= 4 else { return nil }
            let p = position
            let n = Int(bytes[p]) << 24 | Int(bytes[p + 1]) << 16 | Int(bytes[p + 2]) << 8 | Int(bytes[p + 3])
            guard n <= maxLength, bytes.count - p - 4 >= n else { return nil }
            position = p + 4 + n
            return bytes[(p + 4)..<(p + 4 + n)]
        }
    }
}

/// `~/x` → `$HOME/x`; other paths unchanged. Paths such as `identityFile` and
/// `knownHostsFile` are on the reconciler's machine, read as its user.
public func expandHome(_ path: String) -> String {
    guard path == "~" || path.hasPrefix("~/") else { return path }
    return FileManager.default.homeDirectoryForCurrentUser.path + path.dropFirst(1)
}

extension SSHKeyText {
    /// Problems with the known_hosts file a Host names, as diagnostics at the
    /// file's own lines. The file is on the reconciler's machine; a file that
    /// does not exist is not an error here (validation often runs in CI, where
    /// the reconciler's `~/.ssh` is absent): connecting then finds no key for
    /// the host and refuses, naming the file. A file that exists but cannot be
    /// read is an error: the reconciler would read it as "no keys".
    static func knownHostsFileDiagnostics(_ path: Located<String>, limit: Int) -> [Diagnostic] {
        let expanded = expandHome(path.value)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: expanded, isDirectory: &isDirectory) else { return [] }
        // Read through a handle, not `contents(atPath:)`: `/dev/null` (a common
        // "trust nothing from known_hosts") is a device, and reads as empty.
        let handle = isDirectory.boolValue ? nil : FileHandle(forReadingAtPath: expanded)
        defer { try? handle?.close() }
        // `read` returns nil at end of file (an empty file), and throws on an error.
        let data = handle.flatMap { try? $0.read(upToCount: limit + 1) ?? Data() }
        guard let data, data.count <= limit, let text = String(data: data, encoding: .utf8) else {
            return [.error(path.location, "spec.knownHostsFile '\(path.value)' exists but cannot be read as a known_hosts file")]
        }
        return knownHostsProblems(text).map { problem in
            .error(SourceLocation(file: path.value, line: problem.line, column: 1),
                   "known_hosts line does not parse: \(problem.error.message)")
        }
    }
}
