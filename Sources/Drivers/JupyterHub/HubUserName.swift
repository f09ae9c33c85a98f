// POSIX-safe hub user names for Azure AD hubs on a host (issue 15).
//
// With the local spawner a user's server runs as the system account of the
// hub user's name, and Azure AD's unique claims are no account names: an
// `oid` is 36 characters (Linux allows 32) and starts with a digit,
// `preferred_username`/`upn` hold `@` and `.`. The Littlest JupyterHub meets
// the same problem (tljh/normalize.py `generate_system_username`: a name too
// long is cut and given a hash of the whole name); labsync does it in the hub
// itself, so the hub user, its account and the spec agree on one name:
//
// - the claim is lower-cased (JupyterHub does so too);
// - a name that already is `^[a-z][a-z0-9_-]{0,31}$` stays as it is;
// - otherwise every character outside `[a-z0-9_-]` becomes `-`, a `u` goes in
//   front unless it starts with a letter, it is cut to 23 characters, and
//   `-` plus the first 8 hex digits of the SHA-256 of the lower-cased claim
//   (UTF-8) follow: at most 32 characters, and two different claims that
//   look alike once cut (two `oid`s sharing a prefix) stay two names.
//
// The rule is applied twice, kept in step by a test that runs the Python
// copy on the same claims: here (for `admins`, `allowedUsers` and the plan's
// view of hub users) and as `normalize_username` in the rendered config (for
// the name the hub gives a user at login). It is idempotent: its output is a
// valid name, so normalizing again changes nothing.

import Remote

public enum HubUserName {
    static let maxLength = 32
    static let hashDigits = 8
    static let letters = Set("abcdefghijklmnopqrstuvwxyz".unicodeScalars)
    static let allowed = letters.union("0123456789_-".unicodeScalars)

    /// The POSIX-safe hub user name for `claim`.
    public static func posix(_ claim: String) -> String {
        let name = claim.lowercased()
        let scalars = Array(name.unicodeScalars)
        if let first = scalars.first, letters.contains(first), scalars.count <= maxLength,
           scalars.allSatisfy(allowed.contains) {
            return name
        }
        var safe = String(String.UnicodeScalarView(scalars.map { allowed.contains($0) ? $0 : "-" }))
        if !(safe.unicodeScalars.first.map(letters.contains) ?? false) { safe = "u" + safe }
        let keep = maxLength - 1 - hashDigits
        return String(safe.prefix(keep)) + "-" + String(sha256Hex(Array(name.utf8)).prefix(hashDigits))
    }

    /// The same rule in Python, rendered into jupyterhub_config.py (names
    /// prefixed `_labsync_` keep the config's namespace to `c` and `os`).
    static let python = [
        "def _labsync_posix_username(name):",
        "    # POSIX-safe, deterministic hub user names (labsync's HubUserName.posix):",
        "    # the local spawner runs a user's server as the account of this name.",
        "    import hashlib",
        "    import re",
        "",
        "    name = name.lower()",
        "    if re.fullmatch(r\"[a-z][a-z0-9_-]{0,31}\", name):",
        "        return name",
        "    safe = re.sub(r\"[^a-z0-9_-]\", \"-\", name)",
        "    if not re.match(r\"[a-z]\", safe):",
        "        safe = \"u\" + safe",
        "    digest = hashlib.sha256(name.encode(\"utf-8\")).hexdigest()",
        "    return safe[:\(maxLength - 1 - hashDigits)] + \"-\" + digest[:\(hashDigits)]",
        "",
        "",
        "def _labsync_posix_usernames():",
        "    # The hub normalizes every name it meets (the claim at login, allowed_users,",
        "    # admin role members) through normalize_username: upstream's (lower-case,",
        "    # username_map) first, then the POSIX rule.",
        "    from oauthenticator.azuread import AzureAdOAuthenticator",
        "",
        "    upstream = AzureAdOAuthenticator.normalize_username",
        "",
        "    def normalize_username(self, username):",
        "        return _labsync_posix_username(upstream(self, username))",
        "",
        "    AzureAdOAuthenticator.normalize_username = normalize_username",
        "",
        "",
        "_labsync_posix_usernames()",
        "",
    ]
}
