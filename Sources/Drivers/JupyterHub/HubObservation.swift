// What the observe script reports about labsync's hub on a host (the `hub`
// object of its JSON; see `ObserveScript.hubPython`). Plain Codable values, so
// recorded observations plan exactly like live ones.

/// Asked of the observe script when a JupyterHub spec targets the host.
public struct HubObservationRequest: Sendable, Hashable, Codable {
    /// System accounts to report (the spec's users; the script adds the ones
    /// labsync recorded as created).
    public var accounts: [String]
    /// A certificate to describe (the spec's `certificate.certFile`, or the self-signed one).
    public var certFile: String?
    /// Where the hub's files are (HubLayout.observeLayout): paths are defined once, in Swift.
    public var layout: [String: String]
    public init(accounts: [String], certFile: String?, layout: [String: String] = HubLayout.observeLayout) {
        self.accounts = accounts
        self.certFile = certFile
        self.layout = layout
    }
}

public struct HubObservation: Sendable, Hashable, Codable {
    /// The hub venv exists (`/opt/labsync/hub/pyvenv.cfg`).
    public var installed: Bool
    /// Its python (pyvenv.cfg); "" when not installed.
    public var python: String
    /// The host's default python3 (the hub venv is made from it): version,
    /// path, and whether it can make venvs (ensurepip).
    public var python3: String?
    public var python3Path: String?
    public var python3Venv: Bool
    public var distributions: [Distribution]
    /// The venv's labsync marker (what install-hub installed) and its file's sha256.
    public var marker: LabsyncMarker?
    public var markerSHA256: String?
    /// sha256 of /etc/labsync/hub/jupyterhub_config.py; nil when absent.
    public var configSHA256: String?
    /// "<config sha256> <marker sha256>" recorded by the last successful (re)start.
    public var runningIdentity: String?
    /// The service runs (pidfile names a live process, or systemd says active).
    public var running: Bool
    /// /usr/bin/configurable-http-proxy exists.
    public var proxy: Bool
    /// An `openssl` on PATH, which the self-signed certificate step runs
    /// (minimal Debian images have none). Absent from older observations and
    /// recordings: assumed there, as before this was observed.
    public var openssl: Bool = true
    /// Files present in /etc/labsync/hub/secrets.
    public var secrets: [String]
    /// The `SecretFingerprint` line of the OAuth client secret the hub has
    /// (secrets/oauth.fingerprint); nil when absent.
    public var oauthFingerprint: String?
    /// The systemd unit file exists.
    public var unit: Bool
    /// Users in the hub's database (jupyterhub.sqlite), with their admin flag.
    public var hubUsers: [HubUser]
    /// Set when the database exists but could not be read.
    public var hubUsersError: String?
    /// The requested and labsync-created system accounts that exist.
    public var accounts: [Account]
    /// Accounts labsync created for the hub (/var/lib/labsync/hub/accounts).
    public var managedAccounts: [String]
    /// Kernels under the hub's prefix.
    public var kernels: [Kernel]
    public var certificate: Certificate?
    /// Other labsync hub files found (config dir, state dir), for `state: absent`.
    public var leftovers: [String]

    public struct HubUser: Sendable, Hashable, Codable {
        public var name: String
        public var admin: Bool
        public init(name: String, admin: Bool) {
            self.name = name
            self.admin = admin
        }
    }

    public struct Account: Sendable, Hashable, Codable {
        public var name: String
        public var uid: Int
        public var home: String
        /// Permission bits of the home directory ("0700"); nil when it is missing.
        public var homeMode: String?
        /// The password field starts with "!" (usermod -L).
        public var locked: Bool
        /// sha256 of the crypt hash in /etc/shadow (never the hash itself); nil for none.
        public var passwordSHA256: String?
        public init(name: String, uid: Int, home: String, homeMode: String?, locked: Bool, passwordSHA256: String?) {
            self.name = name
            self.uid = uid
            self.home = home
            self.homeMode = homeMode
            self.locked = locked
            self.passwordSHA256 = passwordSHA256
        }
    }

    public struct Kernel: Sendable, Hashable, Codable {
        /// Directory name under the kernels directory.
        public var name: String
        public var displayName: String
        public var argv: [String]
        /// `metadata.labsync.environment`: set only on kernels labsync registered.
        public var environment: String?
        public init(name: String, displayName: String, argv: [String], environment: String?) {
            self.name = name
            self.displayName = displayName
            self.argv = argv
            self.environment = environment
        }
    }

    public struct Certificate: Sendable, Hashable, Codable {
        public var path: String
        public var exists: Bool
        /// subject commonName and DNS subjectAltNames, when readable.
        public var commonName: String?
        public var dnsNames: [String]
        public var notAfter: String?
        public init(path: String, exists: Bool, commonName: String? = nil, dnsNames: [String] = [], notAfter: String? = nil) {
            self.path = path
            self.exists = exists
            self.commonName = commonName
            self.dnsNames = dnsNames
            self.notAfter = notAfter
        }
    }

    public init(installed: Bool = false, python: String = "", python3: String? = nil, python3Path: String? = nil,
                python3Venv: Bool = false, distributions: [Distribution] = [],
                marker: LabsyncMarker? = nil, markerSHA256: String? = nil, configSHA256: String? = nil,
                runningIdentity: String? = nil, running: Bool = false, proxy: Bool = false, secrets: [String] = [],
                unit: Bool = false, hubUsers: [HubUser] = [], hubUsersError: String? = nil, accounts: [Account] = [],
                managedAccounts: [String] = [], kernels: [Kernel] = [], certificate: Certificate? = nil,
                leftovers: [String] = [], oauthFingerprint: String? = nil) {
        self.oauthFingerprint = oauthFingerprint
        self.installed = installed
        self.python = python
        self.python3 = python3
        self.python3Path = python3Path
        self.python3Venv = python3Venv
        self.distributions = distributions
        self.marker = marker
        self.markerSHA256 = markerSHA256
        self.configSHA256 = configSHA256
        self.runningIdentity = runningIdentity
        self.running = running
        self.proxy = proxy
        self.secrets = secrets
        self.unit = unit
        self.hubUsers = hubUsers
        self.hubUsersError = hubUsersError
        self.accounts = accounts
        self.managedAccounts = managedAccounts
        self.kernels = kernels
        self.certificate = certificate
        self.leftovers = leftovers
    }

    enum CodingKeys: String, CodingKey {
        case installed, python, python3, python3Path, python3Venv, distributions, marker, markerSHA256, configSHA256, runningIdentity, running, proxy, openssl
        case secrets, oauthFingerprint, unit, hubUsers, hubUsersError, accounts, managedAccounts, kernels, certificate, leftovers
    }

    /// Lenient: a missing key is its empty value, so recorded observations stay
    /// short and an older observe script still decodes.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        installed = try c.decodeIfPresent(Bool.self, forKey: .installed) ?? false
        python = try c.decodeIfPresent(String.self, forKey: .python) ?? ""
        python3 = try c.decodeIfPresent(String.self, forKey: .python3)
        python3Path = try c.decodeIfPresent(String.self, forKey: .python3Path)
        python3Venv = try c.decodeIfPresent(Bool.self, forKey: .python3Venv) ?? false
        distributions = try c.decodeIfPresent([Distribution].self, forKey: .distributions) ?? []
        marker = try c.decodeIfPresent(LabsyncMarker.self, forKey: .marker)
        markerSHA256 = try c.decodeIfPresent(String.self, forKey: .markerSHA256)
        configSHA256 = try c.decodeIfPresent(String.self, forKey: .configSHA256)
        runningIdentity = try c.decodeIfPresent(String.self, forKey: .runningIdentity)
        running = try c.decodeIfPresent(Bool.self, forKey: .running) ?? false
        proxy = try c.decodeIfPresent(Bool.self, forKey: .proxy) ?? false
        openssl = try c.decodeIfPresent(Bool.self, forKey: .openssl) ?? true
        secrets = try c.decodeIfPresent([String].self, forKey: .secrets) ?? []
        oauthFingerprint = try c.decodeIfPresent(String.self, forKey: .oauthFingerprint)
        unit = try c.decodeIfPresent(Bool.self, forKey: .unit) ?? false
        hubUsers = try c.decodeIfPresent([HubUser].self, forKey: .hubUsers) ?? []
        hubUsersError = try c.decodeIfPresent(String.self, forKey: .hubUsersError)
        accounts = try c.decodeIfPresent([Account].self, forKey: .accounts) ?? []
        managedAccounts = try c.decodeIfPresent([String].self, forKey: .managedAccounts) ?? []
        kernels = try c.decodeIfPresent([Kernel].self, forKey: .kernels) ?? []
        certificate = try c.decodeIfPresent(Certificate.self, forKey: .certificate)
        leftovers = try c.decodeIfPresent([String].self, forKey: .leftovers) ?? []
    }

    /// Anything of a labsync hub on the host.
    public var exists: Bool { installed || running || configSHA256 != nil || unit || !leftovers.isEmpty }

    public func account(_ name: String) -> Account? { accounts.first { $0.name == name } }
}
