// jupyterhub_config.py, rendered from a JupyterHub spec. Deterministic (same
// spec, same bytes: the observe script's sha256 of the file on the host is how
// labsync knows whether to rewrite it) and safe: every spec value goes through
// `PythonLiteral`; the only text spliced as code is `extraConfig`, appended
// verbatim at the end as the documented escape hatch.
//
// Secrets are never in this file: it reads the cookie secret, the proxy token
// and labsync's API token from root-only files generated on the host, and the
// OAuth client secret comes from OAUTH_CLIENT_SECRET in the service's
// environment (oauthenticator's documented default source).
//
// Upstream references (JupyterHub 5.5, oauthenticator 17): `Authenticator.allow_all`
// defaults to False in JupyterHub 5; `admin_users` can only grant admin, so
// the admin *role* is listed in `load_roles`, which makes membership exact
// (JupyterHub's init_role_assignment revokes admin from anyone not listed);
// `allow_existing_users` is set False so a user deleted from the spec cannot
// log in just because the hub's database still knows them.

import Specs

public enum HubConfig {
    /// The service labsync's own API calls use (delete removed users).
    public static let labsyncService = "labsync"
    public static let cullerService = "idle-culler"

    /// The port the public proxy listens on: `https.port` with HTTPS, else `port`.
    public static func publicPort(_ hub: JupyterHubSpec) -> Int { hub.https?.port ?? hub.port }

    /// `https://…` or `http://…` on every interface.
    public static func bindURL(_ hub: JupyterHubSpec) -> String {
        "\(hub.https == nil ? "http" : "https")://:\(publicPort(hub))"
    }

    /// The URL labsync's readiness check fetches on the host itself.
    public static func localURL(_ hub: JupyterHubSpec) -> String {
        "\(hub.https == nil ? "http" : "https")://127.0.0.1:\(publicPort(hub))"
    }

    public static func certificatePaths(_ hub: JupyterHubSpec) -> (cert: String, key: String)? {
        guard let https = hub.https else { return nil }
        if https.selfSigned { return (HubLayout.selfSignedCert, HubLayout.selfSignedKey) }
        guard let cert = https.certFile, let key = https.keyFile else { return nil }
        return (cert, key)
    }

    /// Admins: `authentication.admins` plus `users[].admin`, sorted, once each.
    public static func admins(_ hub: JupyterHubSpec) -> [String] {
        Set((hub.authentication.admins.map(\.value) + hub.users.filter(\.admin).map(\.name.value))
                .map { hubUserName(hub, $0) }).sorted()
    }

    /// Who may log in: `allowedUsers`, the admins and (PAM) the listed users.
    public static func allowedUsers(_ hub: JupyterHubSpec) -> [String] {
        var names = Set(hub.authentication.allowedUsers.map { hubUserName(hub, $0.value) }).union(admins(hub))
        if hub.authentication.type == .pam { names.formUnion(hub.users.map(\.name.value)) }
        return names.sorted()
    }

    /// The hub's name for a user the spec names: on an Azure AD hub the
    /// POSIX-safe form the rendered `normalize_username` gives the same claim
    /// (`HubUserName`), so `admins`/`allowedUsers` may name people by their
    /// `oid`, `preferred_username` or `upn`; elsewhere the name itself.
    public static func hubUserName(_ hub: JupyterHubSpec, _ name: String) -> String {
        hub.authentication.type == .azuread ? HubUserName.posix(name) : name
    }

    public static func authenticatorClass(_ type: AuthenticationType) -> String {
        switch type {
        case .pam: "jupyterhub.auth.PAMAuthenticator"
        case .gitlab: "oauthenticator.gitlab.GitLabOAuthenticator"
        case .azuread: "oauthenticator.azuread.AzureAdOAuthenticator"
        }
    }

    /// The Azure AD claim that becomes the user name when the spec names none:
    /// the object id, which never changes (a display name or UPN can).
    public static let defaultAzureUsernameClaim = "oid"

    public static func render(_ hub: JupyterHubSpec, proxy: HubProxy = .node) -> String {
        var lines: [String] = []
        func set(_ name: String, _ value: PythonLiteral) { lines.append("c.\(name) = \(value.rendered)") }
        func comment(_ text: String) { lines.append("# " + text) }
        func blank() { lines.append("") }

        lines += [
            "# jupyterhub_config.py for JupyterHub/\(hub.name), rendered by labsync.",
            "# Do not edit: labsync rewrites this file when it differs from the spec.",
            "# Every value below comes from the spec as a Python literal; extraConfig",
            "# (at the end, if any) is appended verbatim.",
            "import os",
            "",
            "",
            "def _labsync_secret(name):",
            "    # Generated on this host by labsync (0600, root); never in this file.",
            "    with open(os.path.join(\(PythonLiteral.quote(HubLayout.secrets)), name)) as f:",
            "        return f.read().strip()",
            "",
            "",
            "c = get_config()  # noqa: F821",
            "",
        ]
        comment("Network and TLS: the public proxy is the only listener on other interfaces.")
        set("JupyterHub.bind_url", .string(bindURL(hub)))
        if let paths = certificatePaths(hub) {
            set("JupyterHub.ssl_cert", .string(paths.cert))
            set("JupyterHub.ssl_key", .string(paths.key))
        }
        set("JupyterHub.hub_bind_url", .string("http://127.0.0.1:8081"))
        lines += loopbackConnect
        set("JupyterHub.db_url", .string("sqlite:///" + HubLayout.database))
        set("JupyterHub.cookie_secret_file", .string(HubLayout.secrets + "/cookie_secret"))
        set("JupyterHub.pid_file", .string(HubLayout.state + "/jupyterhub.pid"))
        comment("Restarting the hub (a config change) must not stop students' servers.")
        set("JupyterHub.cleanup_servers", .bool(false))
        if proxy == .python {
            comment("This release packages no configurable-http-proxy: the pure-Python one from the hub")
            comment("venv, through labsync's launcher, which adds the TLS it lacks.")
        }
        set("ConfigurableHTTPProxy.command", .list(proxy.command.map(PythonLiteral.string)))
        set("ConfigurableHTTPProxy.pid_file", .string(HubLayout.state + "/proxy.pid"))
        lines.append("c.ConfigurableHTTPProxy.auth_token = _labsync_secret(\"proxy_auth_token\")")
        blank()

        let auth = hub.authentication
        comment("Authentication (\(auth.type.rawValue)).")
        set("JupyterHub.authenticator_class", .string(authenticatorClass(auth.type)))
        set("Authenticator.allowed_users", .set(allowedUsers(hub)))
        set("Authenticator.allow_all", .bool(auth.allowAll))
        set("Authenticator.allow_existing_users", .bool(false))
        switch auth.type {
        case .pam:
            set("PAMAuthenticator.open_sessions", .bool(false))
        case .gitlab:
            if let oauth = auth.oauth {
                set("GitLabOAuthenticator.gitlab_url", .string(oauth.url ?? ""))
                set("GitLabOAuthenticator.client_id", .string(oauth.clientId))
                set("GitLabOAuthenticator.oauth_callback_url", .string(callbackURL(hub, oauth)))
                set("GitLabOAuthenticator.allowed_gitlab_groups", .set(oauth.allowedGroups))
                comment("client_secret: OAUTH_CLIENT_SECRET from \(HubLayout.oauthEnvironment).")
            }
        case .azuread:
            if let oauth = auth.oauth {
                set("AzureAdOAuthenticator.tenant_id", .string(oauth.tenantId ?? ""))
                let endpoints = azureEndpoints(oauth)
                comment("Microsoft identity platform v2.0 endpoints (oauthenticator's default is v1.0, whose")
                comment("id_token has no preferred_username); the authority is the cloud's login host.")
                set("AzureAdOAuthenticator.graph_url", .string(endpoints.authority))
                set("AzureAdOAuthenticator.authorize_url", .string(endpoints.authorize))
                set("AzureAdOAuthenticator.token_url", .string(endpoints.token))
                set("AzureAdOAuthenticator.scope", .list(azureScopes.map(PythonLiteral.string)))
                set("AzureAdOAuthenticator.client_id", .string(oauth.clientId))
                set("AzureAdOAuthenticator.oauth_callback_url", .string(callbackURL(hub, oauth)))
                set("AzureAdOAuthenticator.username_claim",
                    .string(oauth.usernameClaim ?? defaultAzureUsernameClaim))
                comment("The claim becomes a POSIX-safe name (an oid is 36 characters, a UPN holds @):")
                comment("the local spawner runs the user's server as the account of that name.")
                lines += [""] + HubUserName.python
                if !oauth.allowedGroups.isEmpty {
                    set("AzureAdOAuthenticator.manage_groups", .bool(true))
                    set("AzureAdOAuthenticator.auth_state_groups_key", .string("user.groups"))
                    set("AzureAdOAuthenticator.allowed_groups", .set(oauth.allowedGroups))
                }
                comment("client_secret: OAUTH_CLIENT_SECRET from \(HubLayout.oauthEnvironment).")
            }
        }
        blank()

        comment("Roles: the admin role's user list is exact (removing a name revokes admin).")
        var roles: [PythonLiteral] = [
            .dict([("name", .string("admin")), ("users", .list(admins(hub).map(PythonLiteral.string)))]),
            .dict([("name", .string("labsync")),
                   ("description", .string("labsync removes users the spec dropped")),
                   ("scopes", .list(["list:users", "read:users", "read:servers", "delete:users"].map(PythonLiteral.string))),
                   ("services", .list([.string(labsyncService)]))]),
        ]
        if hub.idleCulling != nil {
            roles.append(.dict([
                ("name", .string(cullerService)),
                ("scopes", .list(["list:users", "read:users:activity", "read:servers", "delete:servers"]
                                    .map(PythonLiteral.string))),
                ("services", .list([.string(cullerService)])),
            ]))
        }
        set("JupyterHub.load_roles", .list(roles))
        lines.append("c.JupyterHub.services = [")
        lines.append("    {\"name\": \(PythonLiteral.quote(labsyncService)), \"api_token\": _labsync_secret(\"api_token\")},")
        if let culling = hub.idleCulling {
            var command: [PythonLiteral] = [.string(HubLayout.python), .string("-m"), .string("jupyterhub_idle_culler"),
                                            .string("--timeout=\(culling.timeoutSeconds)")]
            if let every = culling.everySeconds { command.append(.string("--cull-every=\(every)")) }
            if let age = culling.maxAgeSeconds { command.append(.string("--max-age=\(age)")) }
            lines.append("    " + PythonLiteral.dict([("name", .string(cullerService)), ("command", .list(command))]).rendered + ",")
        }
        lines.append("]")
        blank()

        comment("Single-user servers: run from the hub venv, so kernels under its prefix are everyone's.")
        set("Spawner.cmd", .list([.string(HubLayout.venv + "/bin/jupyterhub-singleuser")]))
        set("Spawner.default_url", .string("/lab"))
        if let limits = hub.limits {
            comment("Limits are enforced only by spawners that can (systemd); recorded for them.")
            if let memory = limits.memory { set("Spawner.mem_limit", .string(memory)) }
            if let cpu = limits.cpu { lines.append("c.Spawner.cpu_limit = float(\(PythonLiteral.quote(cpu)))") }
        }
        if let extra = hub.extraConfig {
            blank()
            comment("extraConfig from the spec, verbatim:")
            lines.append(extra.hasSuffix("\n") ? String(extra.dropLast()) : extra)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// JupyterHub connects to a server bound to every interface (the public
    /// proxy: `bind_url` is `http://:PORT`) at `socket.gethostname()`
    /// (`jupyterhub.objects.Server._connect_ip`, JupyterHub 5.5), so a host
    /// whose own name does not resolve never got past "Failed to start proxy"
    /// (issue 11 #21). No trait sets the public server's connect address,
    /// hence this patch of that one property, inside a function so the
    /// config's namespace keeps only `c` and `os`.
    static let loopbackConnect = [
        "",
        "",
        "def _labsync_connect_at_loopback():",
        "    # Everything this hub binds runs on this host: connect to a server bound",
        "    # to every interface at loopback, as jupyterhub.utils.wait_for_server",
        "    # itself does for these addresses, never at gethostname(), which need",
        "    # not resolve (then the proxy never seems to start).",
        "    from jupyterhub import objects",
        "",
        "    upstream = objects.Server.__dict__.get(\"_connect_ip\")",
        "    if not isinstance(upstream, property):",
        "        return",
        "    loopback = {\"\": \"127.0.0.1\", \"0.0.0.0\": \"127.0.0.1\", \"::\": \"::1\"}",
        "",
        "    def connect_ip(server):",
        "        if not server.connect_ip and server.ip in loopback:",
        "            return loopback[server.ip]",
        "        return upstream.fget(server)",
        "",
        "    objects.Server._connect_ip = property(connect_ip)",
        "",
        "",
        "_labsync_connect_at_loopback()",
        "",
    ]

    /// v2.0 needs `openid` for an id_token at all; `profile` brings `oid` and
    /// `preferred_username`, `email` the address.
    public static let azureScopes = ["openid", "profile", "email"]

    /// The v2.0 authorize and token URLs under the spec's authority and tenant.
    public static func azureEndpoints(_ oauth: OAuthProvider) -> (authority: String, authorize: String, token: String) {
        let authority = oauth.authority ?? OAuthProvider.defaultAzureAuthority
        let base = "\(authority)/\(oauth.tenantId ?? "common")/oauth2/v2.0"
        return (authority, base + "/authorize", base + "/token")
    }

    /// `callbackUrl`, else the hub's own `https://hostname[:port]/hub/oauth_callback`.
    static func callbackURL(_ hub: JupyterHubSpec, _ oauth: OAuthProvider) -> String {
        if let url = oauth.callbackUrl { return url }
        let scheme = hub.https == nil ? "http" : "https"
        let host = hub.https?.hostname ?? "localhost"
        let port = publicPort(hub)
        let defaultPort = scheme == "https" ? 443 : 80
        return "\(scheme)://\(host)\(port == defaultPort ? "" : ":\(port)")/hub/oauth_callback"
    }
}
