// The shell scripts hub steps run on the host, from Scripts/*.sh (embedded at
// build time, linted by `make lint`). Each is a fixed POSIX sh text passed as
// `sh -c SCRIPT NAME ARG…`: values arrive as positional parameters (quoted
// once, by ShellQuote), never spliced into the script, and anything secret
// arrives on stdin. The paths they use are HubLayout's, put in front of the
// text as variable assignments (only those the script mentions), so each path
// is written once, in Swift.

import Remote

enum HubScripts {
    /// Shared by restart and remove-hub: stop_hub, start_hub, wait_ready,
    /// identity, show_log.
    static let functions = load(PackageResources.hub_functions_sh)

    /// restart-hub: `$1` systemd (1|0), `$2` the public URL. On failure puts the
    /// previous config back (kept by configure-hub), restarts it, says DEGRADED.
    static let restart = withFunctions(PackageResources.hub_restart_sh)
    /// configure-hub, first command: directories, and the secrets generated on
    /// this host once (never sent, never shown). `$1` = "oauth" to keep an OAuth
    /// environment file, else any stale one is removed.
    static let prepare = load(PackageResources.hub_prepare_sh)
    /// configure-hub: the OAuth environment file from stdin (the secret is put
    /// there by the executor at apply time), 0600 root.
    static let writeSecretFile = load(PackageResources.hub_write_secret_file_sh)
    /// configure-hub: the config from stdin → `.new`; loaded by JupyterHub's own
    /// config loader before it replaces the current one, kept as `.prev` for
    /// restart-hub's rollback.
    static let installConfig = load(PackageResources.hub_install_config_sh)
    /// configure-hub under systemd: the unit file from stdin.
    static let installUnit = load(PackageResources.hub_install_unit_sh)
    /// create-certificate: `$1` hostname. Key 0600; CN and SAN = hostname.
    static let selfSigned = load(PackageResources.hub_self_signed_sh)
    /// add-user / update-user: `$1` name, `$2` home mode, `$3` "hash" when a
    /// `name:hash` line for `chpasswd -e` comes on stdin. Never touches uid < 1000.
    static let ensureAccount = load(PackageResources.hub_ensure_account_sh)
    /// remove-user: `$1` name, `$2` "1" to delete them from the hub (REST API,
    /// labsync's service token, read there from its 0600 file), `$3`
    /// lock|delete|none for the system account (only one labsync created, uid ≥ 1000).
    static let removeUser = load(PackageResources.hub_remove_user_sh)
    /// register-kernel: `$1` the kernel directory; kernel.json on stdin.
    static let registerKernel = load(PackageResources.hub_register_kernel_sh)
    /// unregister-kernel: `$1` the kernel directory, removed only while its
    /// kernel.json says labsync registered it.
    static let unregisterKernel = load(PackageResources.hub_unregister_kernel_sh)
    /// remove-hub (`state: absent`): `$1` systemd. Stops the hub and whatever
    /// still runs from its venv, removes venv, config, secrets, TLS files,
    /// state, unit and pidfile. Environments, Python and accounts stay.
    static let removeHub = withFunctions(PackageResources.hub_remove_hub_sh)
    /// ensure-proxy, after apt: the proxy must actually start under this node.
    static let checkProxy = load(PackageResources.hub_check_proxy_sh)

    /// The file's text with the assignments of the HubLayout variables it uses.
    static func load(_ bytes: [UInt8]) -> String {
        withLayout(embeddedScript(bytes))
    }

    /// A script that sources hub_functions.sh (for shellcheck): the functions
    /// are put in its place, so the host gets one self-contained text.
    static func withFunctions(_ bytes: [UInt8]) -> String {
        let body = embeddedScript(bytes).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("# shellcheck source=") && !$0.hasPrefix(". ./hub_functions.sh") }
            .joined(separator: "\n")
        return withLayout(embeddedScript(PackageResources.hub_functions_sh) + "\n" + body)
    }

    static func withLayout(_ text: String) -> String {
        let used = HubLayout.shellVariables.filter { text.contains("$" + $0.name) || text.contains("${" + $0.name) }
        guard !used.isEmpty else { return text }
        return used.map { "\($0.name)=\(ShellQuote.quote($0.value))" }.joined(separator: "\n") + "\n" + text
    }
}
