/// The lexical rules that stop hostile input at the door. Each returns nil
/// when the value is fine, or the reason it is not.
public enum Rules {
    static let lowerAlnum = Set("abcdefghijklmnopqrstuvwxyz0123456789")

    /// DNS-label-like: `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, at most 63 characters.
    public static func checkName(_ s: String) -> String? {
        guard !s.isEmpty, s.count <= 63,
              s.allSatisfy({ lowerAlnum.contains($0) || $0 == "-" }),
              s.first != "-", s.last != "-"
        else { return "'\(s)' is not a valid name: use lower-case letters, digits and '-', start and end with a letter or digit, at most 63 characters" }
        return nil
    }

    /// Accounts a spec may never create, lock or hand an environment to:
    /// root and the usual system accounts (uid < 1000 on Debian/Ubuntu).
    /// The driver also checks the uid on the host before touching an account.
    public static let systemAccounts: Set<String> = [
        "root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp",
        "proxy", "www-data", "backup", "list", "irc", "gnats", "nobody", "nogroup", "sshd",
        "messagebus", "polkitd", "syslog", "uuidd", "tcpdump", "tss", "landscape", "pollinate",
        "lxd", "dnsmasq", "avahi", "colord", "geoclue", "postfix", "ntp", "chrony", "statd",
        "postgres", "mysql", "redis", "jupyterhub", "adm", "sudo", "wheel", "staff", "users",
    ]

    /// POSIX user name `^[a-z_][a-z0-9_-]{0,31}$`.
    public static func checkPOSIXUser(_ s: String, allowSystem: Bool = false) -> String? {
        let first = Set("abcdefghijklmnopqrstuvwxyz_")
        let rest = first.union("0123456789-")
        guard let head = s.first, first.contains(head), s.count <= 32, s.dropFirst().allSatisfy({ rest.contains($0) })
        else { return "'\(s)' is not a valid user name (^[a-z_][a-z0-9_-]{0,31}$)" }
        if !allowSystem && (systemAccounts.contains(s) || s.hasPrefix("systemd-") || s.hasPrefix("_")) {
            return "'\(s)' is root or a system account; labsync manages ordinary users only"
        }
        return nil
    }

    /// User names that come from an OAuth provider (GitLab user names, Azure AD
    /// UPNs/emails): wider than POSIX, still free of shell and path characters.
    public static func checkOAuthUser(_ s: String) -> String? {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._@+-")
        guard !s.isEmpty, s.count <= 128, s.allSatisfy({ allowed.contains($0) }), s.first != "-", s.first != "."
        else { return "'\(s)' is not a valid user name (lower-case letters, digits and . _ @ + -)" }
        return nil
    }

    /// A host name (RFC 1123 labels: letters, digits, inner hyphens, 1–63
    /// characters each, 253 in all), an IPv4 address or an IPv6 literal
    /// (without brackets; the port is a separate field). Nothing else: the
    /// address reaches ssh-style tooling and logs, and one starting with `-`
    /// could be read as an option.
    public static func checkHostAddress(_ s: String) -> String? {
        let bad = "'\(s)' is not a host name, IPv4 address or IPv6 address"
        if s.hasPrefix("-") { return "'\(s)' must not start with '-'" }
        if s.contains(":") { return isIPv6(s) ? nil : bad }
        let name = s.hasSuffix(".") ? String(s.dropLast()) : s
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard !name.isEmpty, name.utf8.count <= 253 else { return bad }
        // All-numeric dotted text is an IPv4 address or nothing: 10.0.0.300
        // must not pass as a host name.
        if labels.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) {
            return isIPv4(s) ? nil : bad
        }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
        for label in labels {
            guard (1...63).contains(label.count), label.allSatisfy({ allowed.contains($0) }),
                  label.first != "-", label.last != "-" else { return bad }
        }
        return nil
    }

    static func isIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in
            (1...3).contains(p.count) && p.allSatisfy { $0.isASCII && $0.isNumber }
                && Int(p)! <= 255 && (p.count == 1 || p.first != "0")
        }
    }

    /// RFC 4291 text form: up to 8 groups of 1–4 hex digits, one `::`, an
    /// optional trailing dotted IPv4; a zone (`%eth0`) of letters and digits.
    static func isIPv6(_ s: String) -> Bool {
        var address = Substring(s)
        if let percent = address.firstIndex(of: "%") {
            let zone = address[address.index(after: percent)...]
            guard !zone.isEmpty, zone.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-") })
            else { return false }
            address = address[..<percent]
        }
        let gaps = address.ranges(of: "::")
        guard gaps.count <= 1 else { return false }
        let halves = gaps.first.map { [address[..<$0.lowerBound], address[$0.upperBound...]] } ?? [address]
        var groups = 0
        for (h, half) in halves.enumerated() where !half.isEmpty {
            let parts = half.split(separator: ":", omittingEmptySubsequences: false)
            for (i, part) in parts.enumerated() {
                if h == halves.count - 1, i == parts.count - 1, part.contains(".") {
                    guard isIPv4(String(part)) else { return false }
                    groups += 2
                } else {
                    guard (1...4).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return false }
                    groups += 1
                }
            }
        }
        return halves.count == 2 ? groups <= 7 : groups == 8
    }

    /// Absolute, normalized: starts with '/', no empty, '.' or '..' segments,
    /// no trailing '/', no control characters.
    public static func checkAbsolutePath(_ s: String) -> String? {
        guard s.hasPrefix("/") else { return "'\(s)' must be an absolute path" }
        guard !s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            return "path contains control characters"
        }
        if s == "/" { return nil }
        let segments = s.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            return "'\(s)' is not a normalized path: no '//', '.', '..' or trailing '/'"
        }
        return nil
    }

    /// A path inside the repository: relative, no '..' escape, normalized.
    public static func checkRepositoryPath(_ s: String) -> String? {
        guard !s.isEmpty, !s.hasPrefix("/"), !s.hasPrefix("~") else {
            return "'\(s)' must be a path relative to the repository root"
        }
        guard !s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            return "path contains control characters"
        }
        let segments = s.split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.contains(where: { $0 == ".." }) else {
            return "'\(s)' is outside the repository ('..' is not allowed)"
        }
        guard !segments.contains(where: { $0.isEmpty || $0 == "." }) else {
            return "'\(s)' is not a normalized path"
        }
        return nil
    }

    /// `1h`, `10m`, `1h30m`, `90s`, `2d`, or plain seconds. Returns seconds.
    public static func parseDuration(_ s: String) -> Int? {
        if !s.isEmpty, s.allSatisfy(\.isASCII), s.allSatisfy(\.isNumber) { return Int(s) }
        var total = 0
        var digits = ""
        for ch in s {
            if ch.isASCII && ch.isNumber { digits.append(ch); continue }
            guard !digits.isEmpty, let n = Int(digits) else { return nil }
            let unit: Int
            switch ch {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            default: return nil
            }
            let (product, o1) = n.multipliedReportingOverflow(by: unit)
            let (sum, o2) = total.addingReportingOverflow(product)
            guard !o1, !o2 else { return nil }
            total = sum
            digits = ""
        }
        return digits.isEmpty && !s.isEmpty ? total : nil
    }

    /// Label keys and values, as Kubernetes: keys up to 63 characters of
    /// `[-A-Za-z0-9_./]` starting and ending alphanumeric; values the same
    /// without '/', possibly empty.
    public static func checkLabel(key: String, value: String) -> String? {
        func ok(_ s: String, slash: Bool) -> Bool {
            let alnum = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            let inner = alnum.union(slash ? "-_./" : "-_.")
            return s.count <= 63 && s.allSatisfy { inner.contains($0) }
                && (s.isEmpty || (alnum.contains(s.first!) && alnum.contains(s.last!)))
        }
        if key.isEmpty || !ok(key, slash: true) { return "'\(key)' is not a valid label key" }
        if !ok(value, slash: false) { return "'\(value)' is not a valid label value" }
        return nil
    }

    /// An environment variable name for `fromEnv`.
    public static func checkEnvironmentVariable(_ s: String) -> String? {
        let first = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
        let rest = first.union("0123456789")
        guard let h = s.first, first.contains(h), s.dropFirst().allSatisfy({ rest.contains($0) }) else {
            return "'\(s)' is not a valid environment variable name"
        }
        return nil
    }

    /// URLs for package indexes and OAuth providers: http(s)/file only, no
    /// whitespace or quotes (they end up as installer arguments and in config).
    public static func checkURL(_ s: String, schemes: [String] = ["https", "http", "file"]) -> String? {
        guard schemes.contains(where: { s.hasPrefix("\($0)://") }) else {
            return "'\(s)' must be a URL starting with \(schemes.map { "\($0)://" }.joined(separator: " or "))"
        }
        guard !s.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7f || "\"'`\\<>".unicodeScalars.contains($0) }) else {
            return "URL contains whitespace, quotes or control characters"
        }
        return nil
    }
}
