// Where a labsync hub lives on a host. Everything is under labsync's own
// directories, so `state: absent` knows exactly what to remove.

public enum HubLayout {
    /// The hub's venv: jupyterhub, jupyterlab, authenticators, culler, extraPackages.
    public static let venv = "/opt/labsync/hub"
    public static var python: String { venv + "/bin/python" }
    /// Kernels registered here are seen by every user's server (it runs from this venv).
    public static var kernels: String { venv + "/share/jupyter/kernels" }
    public static let configDirectory = "/etc/labsync/hub"
    public static var config: String { configDirectory + "/jupyterhub_config.py" }
    /// 0700 root: cookie_secret, proxy_auth_token, api_token, oauth.env.
    public static var secrets: String { configDirectory + "/secrets" }
    public static var oauthEnvironment: String { secrets + "/oauth.env" }
    /// The client secret's `SecretFingerprint` line (rotation shows in a plan).
    public static var oauthFingerprint: String { secrets + "/oauth.fingerprint" }
    /// Self-signed key and certificate.
    public static var tls: String { configDirectory + "/tls" }
    public static var selfSignedCert: String { tls + "/cert.pem" }
    public static var selfSignedKey: String { tls + "/key.pem" }
    /// jupyterhub.sqlite, the identity of the running config, labsync's account list.
    public static let state = "/var/lib/labsync/hub"
    public static var database: String { state + "/jupyterhub.sqlite" }
    /// "<sha256 of config> <sha256 of the venv marker>" as of the last successful (re)start.
    public static var runningIdentity: String { state + "/running" }
    /// System accounts labsync created for this hub, one per line: the only ones it locks or deletes.
    public static var accounts: String { state + "/accounts" }
    public static let pidFile = "/run/labsync/hub.pid"
    public static let log = "/var/log/labsync/hub.log"
    public static let unitName = "labsync-hub.service"
    public static var unit: String { "/etc/systemd/system/" + unitName }
    /// The hub's own API (not proxied), for readiness and labsync's API calls.
    public static let hubAPI = "http://127.0.0.1:8081/hub/api"
    public static let proxy = "/usr/bin/configurable-http-proxy"
    /// Debian's node modules: a nodejs from elsewhere (NodeSource) does not search
    /// /usr/share/nodejs, so Debian's configurable-http-proxy cannot find its
    /// dependencies without this. Harmless with Debian's own nodejs.
    public static let nodePath = "/usr/share/nodejs:/usr/lib/nodejs"
    /// Marks kernels labsync registered (kernel.json metadata), the only ones it removes.
    public static let kernelMetadataKey = "labsync"

    /// The directories hub steps write in or remove, resolved on the host before
    /// each step (issue 11 #1): no symbolic link, foreign owner or group/other
    /// write bit on the way. What is missing is made later by the step's own
    /// `mkdir -p`, which is safe once its existing parents are.
    public static var checkedDirectories: [String] {
        [kernels, secrets, tls, state, "/run/labsync", "/var/log/labsync", "/etc/systemd/system"]
    }

    /// The variables hub scripts read (HubScripts puts them in front of each text).
    static var shellVariables: [(name: String, value: String)] {
        [("HUB_VENV", venv), ("HUB_CONFIG_DIR", configDirectory), ("HUB_CONFIG", config),
         ("HUB_SECRETS", secrets), ("HUB_OAUTH_ENV", oauthEnvironment), ("HUB_TLS", tls),
         ("HUB_TLS_CERT", selfSignedCert), ("HUB_TLS_KEY", selfSignedKey), ("HUB_STATE", state),
         ("HUB_ACCOUNTS", accounts), ("HUB_PIDFILE", pidFile), ("HUB_LOG", log),
         ("HUB_UNIT_NAME", unitName), ("HUB_UNIT", unit), ("HUB_API", hubAPI), ("HUB_PROXY", proxy),
         ("HUB_NODE_PATH", nodePath), ("HUB_KERNEL_KEY", kernelMetadataKey)]
            .sorted { $0.0 < $1.0 }
    }

    /// What the observe fragment (Scripts/hub_observe.py) reads, by the same names.
    public static var observeLayout: [String: String] {
        ["venv": venv, "configDirectory": configDirectory, "config": config, "secrets": secrets,
         "state": state, "database": database, "runningIdentity": runningIdentity, "accounts": accounts,
         "pidFile": pidFile, "unit": unit, "unitName": unitName, "kernels": kernels, "proxy": proxy,
         "kernelMetadataKey": kernelMetadataKey]
    }
}
