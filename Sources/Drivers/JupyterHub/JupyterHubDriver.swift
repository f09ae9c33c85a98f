// The JupyterHub driver: one JupyterHub spec on one host → steps.
//
// Decisions, in the order `diff` makes them:
//  1. state: absent → `remove-hub` when anything of labsync's hub is on the host.
//  2. `ensure-proxy` (host-wide, apt) when /usr/bin/configurable-http-proxy is
//     missing (and python3-venv when the hub venv cannot be created). Where
//     the release packages no proxy (Debian 11), the hub venv gets the PyPI
//     one instead (HubProxy).
//  3. `install-hub`: the hub venv, created if missing, with every requirement
//     that is missing or unsatisfied (jupyterhub `version`, jupyterlab, the
//     authenticator, the culler, extraPackages) — one pip install. Runs in
//     parallel with the environments.
//  Then, in the hub phase (after every environment), in this order:
//  4. `add-user` / `update-user`: accounts (`users`; OAuth users too, as the
//     local spawner needs them), home mode, password hash.
//  5. `register-kernel` / `unregister-kernel`: kernel.json under the hub prefix.
//  6. `create-certificate` (selfSigned) when missing or for another hostname.
//  7. `configure-hub` when the rendered config's sha256 differs from the host's,
//     or a secret file or the unit is missing.
//  8. `restart-hub` when anything above changed the hub, it is not running, it
//     runs another config or package set than the files say, or the database's
//     admin flags differ from the spec.
//  9. `remove-user`: users the hub knows (PAM) or accounts labsync created that
//     the spec dropped: deleted from the hub, account locked or deleted.

import Remote
import Specs

public struct JupyterHubDriver: Driver {
    static let kind = "JupyterHub"
    public typealias Observed = HubObservation

    public init() {}

    public var name: String { "jupyterhub" }
    public var kinds: [String] { [Self.kind] }
    public var stepKinds: [StepKind] {
        [.ensureProxy, .installHub, .addUser, .updateUser, .registerKernel, .unregisterKernel, .createCertificate,
         .configureHub, .restartHub, .removeUser, .removeHub]
    }
    public var observeFragment: String { String(decoding: PackageResources.hub_observe_py, as: UTF8.self) }

    /// The hub on this host, if a spec puts one there.
    static func hub(_ context: HostContext) -> JupyterHubSpec? {
        context.specs.hubs.first { $0.host.value == context.host.name }
    }

    public func resources(_ context: HostContext) -> [String] {
        Self.hub(context).map { ["\(Self.kind)/\($0.name)"] } ?? []
    }

    /// The hub's fixed directories, as every hub step but ensure-proxy checks
    /// them (judged at plan time too: Driver.pathsToCheck).
    public func pathsToCheck(_ context: HostContext) -> [CheckedPath] {
        Self.hub(context) == nil ? [] : HubLayout.checkedDirectories.map { CheckedPath($0) }
    }

    public func observationRequest(_ context: HostContext) -> JSONValue? {
        guard let hub = Self.hub(context) else { return nil }
        return JSONValue(encoding: Self.observationRequest(for: hub))
    }

    /// What the observe fragment should report for this hub.
    public static func observationRequest(for hub: JupyterHubSpec) -> HubObservationRequest {
        HubObservationRequest(accounts: hub.users.map(\.name.value).sorted(),
                              certFile: HubConfig.certificatePaths(hub)?.cert, layout: HubLayout.observeLayout)
    }

    /// Every `kernels` entry, also while the hub is `state: absent` (then
    /// without registration), so removing the hub leaves its environments
    /// exactly as they were.
    public func kernelRequests(_ context: HostContext) -> [KernelRequest] {
        guard let hub = Self.hub(context) else { return [] }
        return hub.kernels.map {
            KernelRequest(environment: $0.value, requester: "\(Self.kind)/\(hub.name)", location: $0.location,
                          register: hub.state == .present)
        }
    }

    public func plan(_ context: HostContext, observed: HubObservation?, hooks: HookInputs) -> DriverResult {
        guard let hub = Self.hub(context) else { return DriverResult() }
        let wanted = Set(hub.kernels.map(\.value))
        var planner = HubPlanner(host: context.host, hub: hub, facts: context.facts,
                                 hubObserved: observed ?? HubObservation(), secrets: context.secrets)
        planner.plan(kernels: hooks.kernelOffers.filter { wanted.contains($0.environment) })
        return planner.result
    }

    /// The requirements of the hub venv, in a fixed order.
    public static func requirements(_ hub: JupyterHubSpec, proxy: HubProxy = .node) -> [String] {
        var list = ["jupyterhub" + hub.version.description, "jupyterlab"]
        if proxy == .python { list.append(HubProxy.pythonRequirement) }
        if hub.authentication.type != .pam { list.append("oauthenticator>=16") }
        if hub.idleCulling != nil { list.append("jupyterhub-idle-culler") }
        return list + hub.extraPackages.map(\.value.description)
    }

    /// kernel.json for an environment: the owner's launcher line, plus labsync's metadata.
    public static func kernelJSON(_ kernel: KernelOffer) -> String {
        let argv = kernel.argv.map(jsonString).joined(separator: ", ")
        let env = kernel.env.isEmpty ? "" : """
              "env": {\(kernel.env.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)): \(jsonString($0.value))" }.joined(separator: ", "))},

            """
        let debugger = kernel.language == "python" ? "\"debugger\": true, " : ""
        return """
            {
              "argv": [\(argv)],
              "display_name": \(jsonString(kernel.displayName)),
            \(env)  "language": \(jsonString(kernel.language)),
              "metadata": {\(debugger)"\(HubLayout.kernelMetadataKey)": {"environment": \(jsonString(kernel.environment))}}
            }

            """
    }

    /// The systemd unit (used where systemd runs).
    public static func unitFile() -> String {
        """
        # Written by labsync (JupyterHub). Do not edit: labsync rewrites it.
        [Unit]
        Description=JupyterHub (labsync)
        After=network-online.target

        [Service]
        WorkingDirectory=\(HubLayout.state)
        Environment=NODE_PATH=\(HubLayout.nodePath)
        Environment=PATH=\(HubLayout.venv)/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        EnvironmentFile=-\(HubLayout.oauthEnvironment)
        ExecStart=\(HubLayout.venv)/bin/jupyterhub -f \(HubLayout.config)
        # Only the hub itself: users' servers keep running across a restart.
        KillMode=process
        Restart=on-failure

        [Install]
        WantedBy=multi-user.target

        """
    }
}

private struct HubPlanner {
    let host: HostSpec
    let hub: JupyterHubSpec
    let facts: HostObservation.Facts
    let hubObserved: HubObservation
    let secrets: SecretChecker
    let become: Become
    var result = DriverResult()

    init(host: HostSpec, hub: JupyterHubSpec, facts: HostObservation.Facts, hubObserved: HubObservation,
         secrets: SecretChecker = .unavailable) {
        self.secrets = secrets
        self.host = host
        self.hub = hub
        self.facts = facts
        self.hubObserved = hubObserved
        self.become = Become(rawValue: host.become.rawValue) ?? .none
    }

    var resource: String { "JupyterHub/\(hub.name)" }

    func sh(_ script: String, _ name: String, _ args: [String], stdin: [UInt8]? = nil) -> RemoteCommand {
        RemoteCommand("/bin/sh", ["-c", script, name] + args, stdin: stdin, become: become)
    }

    mutating func add(_ action: StepKind, packages: [String] = [], reason: String, commands: [RemoteCommand],
                      marker: LabsyncMarker? = nil, markerPath: String? = nil, environmentPath: String? = nil,
                      secrets: [String: SecretReference] = [:], resource: String? = nil) {
        result.steps.append(PlannedStep(
            host: host.name, resource: resource ?? (action.isHostWide ? "Host/\(host.name)" : self.resource),
            action: action, packages: packages, reason: reason, commands: commands, markerAfter: marker,
            markerPath: markerPath, environmentPath: environmentPath, secrets: secrets,
            // Only the proxy and venv support from ensure-proxy: a failed ensure-uv
            // or ensure-python of the pip driver does not stop the hub.
            needs: action == .ensureProxy ? [] : [StepKind.ensureProxy.name],
            checkedPaths: action == .ensureProxy ? [] : HubLayout.checkedDirectories.map { CheckedPath($0) }))
    }

    mutating func error(_ message: String) {
        result.errors.append(PlanError(host: host.name, resource: resource, message: message))
    }

    mutating func plan(kernels: [KernelOffer]) {
        if hub.state == .absent {
            if hubObserved.exists || !hubObserved.kernels.isEmpty {
                add(.removeHub, reason: "state: absent",
                    commands: [sh(HubScripts.removeHub, "labsync-remove-hub", [facts.systemd ? "1" : "0"])])
            }
            return
        }
        if hubObserved.python3 == nil && !hubObserved.installed {
            error("host '\(host.name)' has no python3 for the hub venv; add a PythonEnvironment with python: \"3\" or install python3")
            return
        }
        var changed: [String] = []   // why restart-hub

        // 2. host packages
        var apt: [String] = []
        let names = AptPackageNames(os: facts.os)
        let proxy = HubProxy(apt: names)
        if let package = names.configurableHTTPProxy, !hubObserved.proxy { apt.append(package) }
        if hub.https?.selfSigned == true && !hubObserved.openssl { apt.append(names.openssl) }
        let python3Venv = hubObserved.python3Venv
        if !hubObserved.installed && !python3Venv { apt.append(names.venv(forPython: names.python(minor: nil))) }
        if !apt.isEmpty {
            // The proxy must start under this node (see checkProxy); the PyPI
            // one is checked by the hub's restart, once install-hub put it there.
            let check = apt.contains(names.configurableHTTPProxy ?? "") ? [sh(HubScripts.checkProxy, "labsync-check-proxy", [])] : []
            add(.ensureProxy, packages: apt.sorted(), reason: "JupyterHub/\(hub.name) needs \(apt.sorted().joined(separator: ", "))",
                commands: [aptInstall(apt.sorted())] + check)
        }

        // 3. hub venv
        let wanted = JupyterHubDriver.requirements(hub, proxy: proxy)
        if planInstall(wanted) { changed.append("packages") }

        // 4. accounts: PAM users log in with them; OAuth users need one too,
        // because the local spawner starts their server as that system user.
        planAccounts()

        // 5. kernels
        planKernels(kernels)

        // 6. certificate
        if let https = hub.https {
            if https.selfSigned, let name = https.hostname {
                let cert = hubObserved.certificate
                let why: String? = if cert?.exists != true { "no certificate at \(HubLayout.selfSignedCert)" }
                    else if cert?.commonName != name || !(cert?.dnsNames.contains(name) ?? false) {
                        "the certificate is for \(cert?.commonName ?? "?"), not \(name)"
                    } else { nil }
                if let why {
                    add(.createCertificate, reason: "\(why); self-signed for \(name)",
                        commands: [sh(HubScripts.selfSigned, "labsync-self-signed", [name])])
                    changed.append("certificate")
                }
            } else if let cert = https.certFile, hubObserved.certificate?.exists == false {
                error("https.certificate.certFile \(cert) does not exist on host '\(host.name)'")
            }
        }

        // 7. configuration
        let config = HubConfig.render(hub, proxy: proxy)
        let sha = sha256Hex(Array(config.utf8))
        var configReasons: [String] = []
        if hubObserved.configSHA256 == nil { configReasons.append("no config at \(HubLayout.config)") }
        else if hubObserved.configSHA256 != sha { configReasons.append("the config differs from the spec (sha256 \(sha.prefix(12)))") }
        for secret in ["api_token", "cookie_secret", "proxy_auth_token"] where !hubObserved.secrets.contains(secret) {
            configReasons.append("no \(secret)")
        }
        let isOAuth = hub.authentication.type != .pam
        if isOAuth && !hubObserved.secrets.contains("oauth.env") { configReasons.append("no OAuth client secret file") }
        if !isOAuth && hubObserved.secrets.contains("oauth.env") { configReasons.append("a stale OAuth secret file") }
        if isOAuth, hubObserved.secrets.contains("oauth.env"), let oauth = hub.authentication.oauth {
            // A rotated secret (fromEnv/fromFile now holds another value) is a
            // change like any other; the reason names the reference, never a value.
            if let line = hubObserved.oauthFingerprint {
                if secrets.changed(oauth.clientSecret, observed: line) == true {
                    configReasons.append("the OAuth client secret (\(oauth.clientSecret)) changed")
                }
            } else {
                configReasons.append("no fingerprint of the OAuth client secret (needed to see it rotate)")
            }
        }
        if facts.systemd && !hubObserved.unit { configReasons.append("no systemd unit") }
        if !configReasons.isEmpty {
            planConfigure(config: config, reasons: configReasons)
            changed.append("config")
        }

        // 8. (re)start
        let wantedAdmins = Set(HubConfig.admins(hub))
        let adminDrift = hubObserved.hubUsers.filter { $0.admin != wantedAdmins.contains($0.name) }
        var restart: [String] = []
        if !changed.isEmpty { restart.append("\(changed.joined(separator: ", ")) changed") }
        else if !hubObserved.running { restart.append("the hub is not running") }
        else if let identity = hubObserved.runningIdentity,
                identity == "\(hubObserved.configSHA256 ?? "") \(hubObserved.markerSHA256 ?? "")" {
            // Runs what the files say.
        } else { restart.append("the running hub was started with another config or packages") }
        if !adminDrift.isEmpty {
            let names = adminDrift.map { "\($0.name) (\($0.admin ? "admin, not in admins" : "in admins, not admin"))" }
            restart.append("admin flags differ: \(names.joined(separator: ", ")); a restart makes the admin role exact")
        }
        if !restart.isEmpty {
            add(.restartHub, reason: restart.joined(separator: "; "),
                commands: [sh(HubScripts.restart, "labsync-restart-hub",
                              [facts.systemd ? "1" : "0", HubConfig.localURL(hub)])])
        }

        // 9. removed users
        planRemovedUsers()
    }

    // MARK: install

    /// true when an install-hub step was planned.
    mutating func planInstall(_ wanted: [String]) -> Bool {
        let requirements = wanted.compactMap { try? Requirement(parsing: $0) }
        let installed = Dictionary(hubObserved.distributions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var missing: [String] = []
        var unsatisfied: [String] = []
        for req in requirements {
            if req.marker != nil { continue }
            guard let dist = installed[req.normalizedName] else { missing.append(req.description); continue }
            if !req.specifier.isEmpty,
               !((try? Version(dist.version)).map { req.specifier.contains($0, prereleases: true) } ?? false) {
                unsatisfied.append("\(dist.name) \(dist.version) does not satisfy \(req.specifier)")
                missing.append(req.description)
            }
        }
        let markerMatches = hubObserved.marker?.packages == wanted
        guard !hubObserved.installed || !missing.isEmpty || !markerMatches else { return false }
        let python = hubObserved.python3Path ?? "/usr/bin/python3"
        var commands: [RemoteCommand] = []
        var reason: String
        if !hubObserved.installed {
            commands += [RemoteCommand("mkdir", ["-p", "--", "/opt/labsync"], become: become),
                         RemoteCommand(python, ["-m", "venv", HubLayout.venv], become: become)]
            reason = "no hub venv at \(HubLayout.venv)"
        } else if !missing.isEmpty {
            let names = missing.filter { m in !unsatisfied.contains { $0.hasPrefix(m) } }
            reason = (unsatisfied + (names.isEmpty ? [] : ["missing: \(names.joined(separator: ", "))"])).joined(separator: "; ")
        } else {
            reason = "the hub's requirements changed"
        }
        // Everything wanted, every time: pip keeps what already satisfies it.
        commands.append(RemoteCommand(HubLayout.python,
                                      ["-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
                                          + indexArguments(host.index) + wanted, become: become))
        add(.installHub, packages: hubObserved.installed ? (missing.isEmpty ? wanted : missing) : wanted,
            reason: reason, commands: commands,
            marker: LabsyncMarker(spec: hub.name, packages: wanted,
                                  python: hubObserved.installed ? hubObserved.python : (hubObserved.python3 ?? "3")),
            markerPath: HubLayout.venv + "/" + LabsyncMarker.fileName, environmentPath: HubLayout.venv)
        return true
    }

    // MARK: accounts

    mutating func planAccounts() {
        for user in hub.users.sorted(by: { $0.name.value < $1.name.value }) {
            let name = user.name.value
            let hashInput: [UInt8]? = user.passwordHash.map { Array("\(name):\($0)\n".utf8) }
            let args = [name, hub.homeDirectoryMode, user.passwordHash == nil ? "nohash" : "hash"]
            guard let account = hubObserved.account(name) else {
                add(.addUser, packages: [name], reason: "no system account \(name); home \(hub.homeDirectoryMode)"
                        + (user.passwordHash == nil ? ", no password until one is set" : ", password hash from the spec"),
                    commands: [sh(HubScripts.ensureAccount, "labsync-add-user", args, stdin: hashInput ?? [])])
                continue
            }
            if account.uid < 1000 {
                error("user \(name) is a system account (uid \(account.uid)); labsync never touches accounts below uid 1000")
                continue
            }
            var why: [String] = []
            if account.homeMode != hub.homeDirectoryMode {
                why.append("home \(account.home) is \(account.homeMode ?? "missing"), not \(hub.homeDirectoryMode)")
            }
            if let hash = user.passwordHash {
                if account.passwordSHA256 != sha256Hex(Array(hash.utf8)) { why.append("password hash differs from the spec") }
                else if account.locked { why.append("account is locked") }
            }
            if !why.isEmpty {
                add(.updateUser, packages: [name], reason: why.joined(separator: "; "),
                    commands: [sh(HubScripts.ensureAccount, "labsync-update-user", args, stdin: hashInput ?? [])])
            }
        }
    }

    mutating func planRemovedUsers() {
        let allowed = Set(HubConfig.allowedUsers(hub))
        let specAccounts = Set(hub.users.map(\.name.value))
        let auth = hub.authentication
        // Only a hub whose allow list is exact can tell a removed user from an allowed one.
        let exact = !auth.allowAll && (auth.oauth?.allowedGroups ?? []).isEmpty
        var fromHub = Set<String>()
        if exact { fromHub = Set(hubObserved.hubUsers.map(\.name).filter { !allowed.contains($0) }) }
        var accounts: [String: HubObservation.Account] = [:]
        // A hub whose allow list is not exact (groups) still knows the users
        // labsync made accounts for: one dropped from the spec leaves the hub too.
        let inHub = Set(hubObserved.hubUsers.map(\.name))
        for name in hubObserved.managedAccounts where !specAccounts.contains(name) && !allowed.contains(name) {
            if inHub.contains(name) { fromHub.insert(name) }
        }
        for name in hubObserved.managedAccounts where !specAccounts.contains(name) {
            guard let account = hubObserved.account(name), account.uid >= 1000 else { continue }
            if hub.removedUsers == .lock && account.locked && !fromHub.contains(name) { continue }
            accounts[name] = account
        }
        for name in fromHub.union(accounts.keys).sorted() {
            let accountAction = accounts[name] == nil ? "none" : hub.removedUsers.rawValue
            var parts: [String] = []
            if fromHub.contains(name) { parts.append("deleted from the hub") }
            if accountAction != "none" {
                parts.append(hub.removedUsers == .lock ? "account locked (files kept)" : "account and home deleted")
            }
            add(.removeUser, packages: [name], reason: "\(name) is no longer in the spec: \(parts.joined(separator: ", "))",
                commands: [sh(HubScripts.removeUser, "labsync-remove-user",
                              [name, fromHub.contains(name) ? "1" : "0", accountAction])])
        }
    }

    // MARK: kernels

    mutating func planKernels(_ kernels: [KernelOffer]) {
        let observedKernels = Dictionary(hubObserved.kernels.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for kernel in kernels.sorted(by: { $0.environment < $1.environment }) {
            let dir = HubLayout.kernels + "/" + kernel.environment
            let current = observedKernels[kernel.environment]
            let why: String? = if let current {
                if current.environment == nil && current.argv.first != (kernel.argv.first ?? "") {
                    nil  // someone else's kernel of that name: reported below
                } else if current.displayName != kernel.displayName { "display name is \"\(current.displayName)\", not \"\(kernel.displayName)\"" }
                else if current.argv.first != (kernel.argv.first ?? "") { "kernel runs \(current.argv.first ?? "?"), not \((kernel.argv.first ?? ""))" }
                else if current.environment == nil { "registered by hand; labsync takes it over" }
                else { nil }
            } else { "not registered" }
            if let current, current.environment == nil, current.argv.first != (kernel.argv.first ?? "") {
                error("a kernel named \(kernel.environment) that labsync did not register exists in \(HubLayout.kernels); remove it or rename the environment")
                continue
            }
            if let why {
                add(.registerKernel, packages: [kernel.environment], reason: "\(why); shown as \"\(kernel.displayName)\"",
                    commands: [sh(HubScripts.registerKernel, "labsync-register-kernel", [dir],
                                  stdin: Array(JupyterHubDriver.kernelJSON(kernel).utf8))])
            }
        }
        let wanted = Set(kernels.map(\.environment))
        for kernel in hubObserved.kernels.sorted(by: { $0.name < $1.name })
        where kernel.environment != nil && !wanted.contains(kernel.name) {
            add(.unregisterKernel, packages: [kernel.name],
                reason: "\(kernel.name) is no longer in kernels (or its environment is gone)",
                commands: [sh(HubScripts.unregisterKernel, "labsync-unregister-kernel", [HubLayout.kernels + "/" + kernel.name])])
        }
    }

    // MARK: configuration

    mutating func planConfigure(config: String, reasons: [String]) {
        let isOAuth = hub.authentication.type != .pam
        var commands = [sh(HubScripts.prepare, "labsync-hub-secrets", [isOAuth ? "oauth" : "pam"])]
        var secrets: [String: SecretReference] = [:]
        if isOAuth, let oauth = hub.authentication.oauth {
            let name = "OAUTH_CLIENT_SECRET"
            secrets[name] = oauth.clientSecret
            // The executor replaces the placeholder with the value (single-quoted:
            // the value is checked to hold no quote, whitespace or backslash).
            let line = "OAUTH_CLIENT_SECRET='\(SecretToken.token(name))'\n"
            commands.append(sh(HubScripts.writeSecretFile, "labsync-hub-oauth-secret", [HubLayout.oauthEnvironment],
                               stdin: Array(line.utf8)))
            commands.append(sh(HubScripts.writeSecretFile, "labsync-hub-oauth-fingerprint", [HubLayout.oauthFingerprint],
                               stdin: Array((SecretToken.fingerprintToken(name) + "\n").utf8)))
        }
        if facts.systemd {
            commands.append(sh(HubScripts.installUnit, "labsync-hub-unit", [HubLayout.unit],
                               stdin: Array(JupyterHubDriver.unitFile().utf8)))
        }
        commands.append(sh(HubScripts.installConfig, "labsync-hub-config", [], stdin: Array(config.utf8)))
        var why = reasons
        if let oauth = hub.authentication.oauth { why.append("client secret \(oauth.clientSecret): (sensitive)") }
        add(.configureHub, reason: why.joined(separator: "; "), commands: commands, secrets: secrets)
    }

    /// `apt-get install`, with one `apt-get update` and a retry when it fails.
    func aptInstall(_ packages: [String]) -> RemoteCommand {
        sh(CoreScripts.aptInstall, "labsync-apt-install", packages)
    }
}

/// A JSON string literal (for kernel.json).
func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

extension StepKind {
    /// Host-wide: configurable-http-proxy from APT (and python3-venv for the hub venv).
    public static let ensureProxy = StepKind("ensure-proxy", driver: "jupyterhub", symbol: .add, phase: .hostWide, order: 7)
    /// The hub venv: created and/or jupyterhub & co installed. Runs like an
    /// environment (its own group), in parallel with the environments.
    public static let installHub = StepKind("install-hub", driver: "jupyterhub", symbol: .change, phase: .resources, order: 8)
    // Every other hub step runs after all environments (kernels need their
    // environment and ipykernel), one after another, in this order.
    /// A PAM user's system account: created (home directory mode), password hash set.
    public static let addUser = StepKind("add-user", driver: "jupyterhub", symbol: .add, phase: .afterResources, order: 9)
    /// An existing account's password hash or lock state differs from the spec.
    public static let updateUser = StepKind("update-user", driver: "jupyterhub", symbol: .change, phase: .afterResources, order: 10)
    public static let registerKernel = StepKind("register-kernel", driver: "jupyterhub", symbol: .add, phase: .afterResources, order: 11)
    public static let unregisterKernel = StepKind("unregister-kernel", driver: "jupyterhub", symbol: .remove, phase: .afterResources, order: 12)
    /// Self-signed key and certificate generated on the host.
    public static let createCertificate = StepKind("create-certificate", driver: "jupyterhub", symbol: .add, phase: .afterResources, order: 13)
    /// Secrets generated on the host if missing; config rendered, checked, moved in place.
    public static let configureHub = StepKind("configure-hub", driver: "jupyterhub", symbol: .change, phase: .afterResources, order: 14)
    /// Start or restart the service; wait for /hub/api; roll back on failure.
    public static let restartHub = StepKind("restart-hub", driver: "jupyterhub", symbol: .change, phase: .afterResources, order: 15)
    /// Deleted from the hub (REST API), system account locked or deleted.
    public static let removeUser = StepKind("remove-user", driver: "jupyterhub", symbol: .remove, phase: .afterResources, order: 16)
    /// state: absent: service, venv, config, secrets, unit, kernels, state.
    public static let removeHub = StepKind("remove-hub", driver: "jupyterhub", symbol: .remove, phase: .afterResources, order: 17)
}
