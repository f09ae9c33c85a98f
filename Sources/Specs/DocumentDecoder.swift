/// One decoded document.
enum SpecDocument {
    case host(HostSpec)
    case environment(PythonEnvironmentSpec)
    case hub(JupyterHubSpec)
    case rEnvironment(REnvironmentSpec)
    case kubernetesHub(KubernetesHubSpec)
}

/// Turns one YAML document into a typed spec, reporting every problem it
/// finds to the sink. Per-document rules live here; rules that span documents
/// (duplicate names, references) live in `CrossChecks`.
struct DocumentDecoder {
    let sink: DiagnosticSink

    func decode(_ document: YAMLNode) -> SpecDocument? {
        if document.isNull { return nil }  // an empty document (e.g. a trailing `---`)
        guard var top = FieldReader(document, path: "", sink: sink) else { return nil }
        defer { top.finish() }
        let apiVersion = top.string("apiVersion", required: true)
        if let apiVersion, apiVersion.value != "labsync/v1" {
            sink.error(apiVersion.location, "apiVersion must be labsync/v1, found '\(apiVersion.value)'")
        }
        let kind = top.choice("kind", SpecKind.self)
        if !top.has("kind") { sink.error(top.location, "kind is required") }
        let metadata = top.object("metadata", required: true) { readMetadata(&$0) }
        guard let kind, let metadata else {
            _ = top.node("spec")
            return nil
        }
        return top.object("spec", required: true) { spec -> SpecDocument? in
            switch kind.value {
            case .host: readHost(&spec, metadata).map(SpecDocument.host)
            case .pythonEnvironment: readEnvironment(&spec, metadata).map(SpecDocument.environment)
            case .jupyterHub:
                // `kubernetes` instead of `host`: a hub on a cluster, its own type (KubernetesHub.swift).
                spec.has("kubernetes") ? readKubernetesHub(&spec, metadata).map(SpecDocument.kubernetesHub)
                    : readHub(&spec, metadata).map(SpecDocument.hub)
            case .rEnvironment: readREnvironment(&spec, metadata).map(SpecDocument.rEnvironment)
            }
        } ?? nil
    }

    // MARK: metadata

    private func readMetadata(_ r: inout FieldReader) -> Metadata? {
        let name = r.string("name", required: true)
        if let name, let problem = Rules.checkName(name.value) { sink.error(name.location, problem) }
        var labels: [String: String] = [:]
        for label in r.stringMap("labels") {
            if let problem = Rules.checkLabel(key: label.value.key, value: label.value.value) {
                sink.error(label.location, problem)
            }
            labels[label.value.key] = label.value.value
        }
        guard let name else { return nil }
        return Metadata(name: name.value, labels: labels, location: name.location)
    }

    // MARK: Host

    private func readHost(_ r: inout FieldReader, _ metadata: Metadata) -> HostSpec? {
        let address = r.string("address", required: true)
        if let address, let problem = Rules.checkHostAddress(address.value) {
            sink.error(address.location, "spec.address: \(problem)")
        }
        let port = r.int("port", in: 1...65535)
        let user = r.string("user", required: true)
        if let user, let problem = Rules.checkPOSIXUser(user.value, allowSystem: true) {
            sink.error(user.location, "spec.user: \(problem)")
        }
        let identityFile = r.string("identityFile")
        let hostKeys = r.stringList("hostKeys")
        for key in hostKeys {
            // A pin that does not parse must stop the run here: dropped later,
            // it would leave the host unpinned and open to trust-on-first-use.
            if case .failure(let error) = SSHKeyText.parsePin(key.value) {
                sink.error(key.location, "spec.hostKeys: not an OpenSSH public key ('ssh-ed25519 AAAA…'): \(error.message)")
            }
        }
        let knownHostsFile = r.string("knownHostsFile")
        if let knownHostsFile {
            for d in SSHKeyText.knownHostsFileDiagnostics(knownHostsFile, limit: YAMLLimits().maxFileBytes) {
                sink.error(d.location, d.message)
            }
        }
        let become = r.choice("become", BecomeMethod.self)
        let index = r.object("index") { readIndex(&$0) }
        guard let address, let user else { return nil }
        return HostSpec(
            metadata: metadata, address: address.value, port: port?.value ?? 22, user: user.value,
            identityFile: identityFile?.value, hostKeys: hostKeys, knownHostsFile: knownHostsFile?.value,
            become: become?.value ?? .none, index: index)
    }

    private func readIndex(_ r: inout FieldReader) -> IndexSettings? {
        let url = r.string("url")
        let extra = r.stringList("extraUrls")
        let findLinks = r.stringList("findLinks")
        for u in [url].compactMap({ $0 }) + extra {
            if let problem = Rules.checkURL(u.value) { sink.error(u.location, problem) }
        }
        for f in findLinks {
            let problem = f.value.hasPrefix("/") ? Rules.checkAbsolutePath(f.value) : Rules.checkURL(f.value)
            if let problem { sink.error(f.location, problem) }
        }
        let noIndex = r.bool("noIndex")
        return IndexSettings(
            url: url?.value, extraUrls: extra.map(\.value), findLinks: findLinks.map(\.value),
            noIndex: noIndex?.value ?? false)
    }

    // MARK: PythonEnvironment

    private func readEnvironment(_ r: inout FieldReader, _ metadata: Metadata) -> PythonEnvironmentSpec? {
        let target = readHostTarget(&r)
        var python = PythonRequest.any3
        if let text = r.string("python") {
            if let parsed = Self.parsePython(text.value) { python = parsed } else {
                sink.error(text.location, "spec.python must be \"3\", \"3.X\" or latest, found '\(text.value)'")
            }
        }
        let root = readRoot(&r, default: PythonEnvironmentSpec.defaultRoot)
        let owner = r.string("owner")
        if let owner, let problem = Rules.checkPOSIXUser(owner.value) { sink.error(owner.location, "spec.owner: \(problem)") }
        let requirements = readRequirements(r.stringList("packages"), field: "spec.packages")
        let requirementsFile = r.string("requirementsFile")
        if let file = requirementsFile, let problem = Rules.checkRepositoryPath(file.value) {
            sink.error(file.location, "spec.requirementsFile: \(problem)")
        }
        let index = r.object("index") { readIndex(&$0) }
        let installer = r.choice("installer", Installer.self)
        let unmanaged = r.choice("unmanaged", UnmanagedPolicy.self)
        let kernel: KernelSettings? = r.object("kernel") { k in
            k.removed("enabled", because: "was removed: it did nothing on its own. An environment becomes a kernel "
                      + "when a JupyterHub on its host lists it in spec.kernels; kernel.displayName names it there")
            return KernelSettings(displayName: k.string("displayName")?.value)
        }
        let state = r.choice("state", DesiredState.self)
        guard let target else { return nil }
        return PythonEnvironmentSpec(
            metadata: metadata, target: target, python: python, root: root, owner: owner?.value,
            requirements: requirements, requirementsFile: requirementsFile, index: index,
            installer: installer?.value ?? .pip, unmanaged: unmanaged?.value ?? .report,
            kernel: kernel, state: state?.value ?? .present)
    }

    /// `host` or `hostSelector`, exactly one: shared by every host-targeted kind.
    private func readHostTarget(_ r: inout FieldReader) -> Located<HostTarget>? {
        let host = r.string("host")
        let selector: Located<HostTarget>? = r.object("hostSelector") { s in
            let labels = s.stringMap("matchLabels")
            if labels.isEmpty { sink.error(s.location, "spec.hostSelector.matchLabels must name at least one label") }
            return Located(.selector(matchLabels: Dictionary(labels.map { ($0.value.key, $0.value.value) }) { a, _ in a }),
                           at: s.location)
        }
        switch (host, selector) {
        case (let h?, nil):
            if let problem = Rules.checkName(h.value) { sink.error(h.location, "spec.host: \(problem)") }
            return Located(.host(h.value), at: h.location)
        case (nil, let s?): return s
        case (_?, let s?): sink.error(s.location, "spec.host and spec.hostSelector are exclusive: give one")
        case (nil, nil): sink.error(r.location, "spec.host or spec.hostSelector is required")
        }
        return nil
    }

    /// `spec.root`: absolute, normalized, not `/`.
    private func readRoot(_ r: inout FieldReader, default defaultRoot: String) -> String {
        guard let given = r.string("root") else { return defaultRoot }
        if let problem = Rules.checkAbsolutePath(given.value) { sink.error(given.location, "spec.root: \(problem)") }
        else if given.value == "/" { sink.error(given.location, "spec.root must not be /") }
        else { return given.value }
        return defaultRoot
    }

    static func parsePython(_ s: String) -> PythonRequest? {
        if s == "3" { return .any3 }
        if s == "latest" { return .latest }
        if s.hasPrefix("3."), let minor = Int(s.dropFirst(2)), minor >= 0, minor < 100,
           s.dropFirst(2).allSatisfy(\.isNumber) { return .minor(minor) }
        return nil
    }

    func readRequirements(_ items: [Located<String>], field: String) -> [Located<Requirement>] {
        items.compactMap { item in
            do throws(PackagingError) {
                return Located(try Requirement(parsing: item.value), at: item.location)
            } catch {
                sink.error(item.location, "\(field): \(error.message)")
                return nil
            }
        }
    }

    // MARK: REnvironment

    private func readREnvironment(_ r: inout FieldReader, _ metadata: Metadata) -> REnvironmentSpec? {
        let target = readHostTarget(&r)
        let rChoice = r.choice("r", RRequest.self)
        let root = readRoot(&r, default: REnvironmentSpec.defaultRoot)
        // Required and non-empty: without a repository R has nowhere to install from.
        let reposNode = r.node("repos", required: true)
        let repos = r.stringList("repos")
        if case .sequence(let items, _)? = reposNode, items.isEmpty, let node = reposNode {
            sink.error(node.location, "spec.repos must list at least one CRAN-like repository URL")
        }
        for url in repos {
            if let problem = Rules.checkURL(url.value) { sink.error(url.location, "spec.repos: \(problem)") }
        }
        let packages: [Located<RRequirement>] = r.stringList("packages").compactMap { item in
            do throws(RPackagingError) {
                return Located(try RRequirement(parsing: item.value), at: item.location)
            } catch {
                sink.error(item.location, "spec.packages: \(error.message)")
                return nil
            }
        }
        let unmanaged = r.choice("unmanaged", UnmanagedPolicy.self)
        let kernel: RKernelSettings? = r.object("kernel") { k in RKernelSettings(displayName: k.string("displayName")?.value) }
        let state = r.choice("state", DesiredState.self)
        guard let target else { return nil }
        return REnvironmentSpec(
            metadata: metadata, target: target, r: rChoice?.value ?? .system, root: root, repos: repos,
            packages: packages, unmanaged: unmanaged?.value ?? .report, kernel: kernel, state: state?.value ?? .present)
    }

    // MARK: JupyterHub

    private func readHub(_ r: inout FieldReader, _ metadata: Metadata) -> JupyterHubSpec? {
        let host = r.string("host", required: true)
        var version = (try? SpecifierSet(JupyterHubSpec.defaultVersion))!
        if let text = r.string("version") {
            do throws(PackagingError) { version = try SpecifierSet(text.value) } catch {
                sink.error(text.location, "spec.version: \(error.message)")
            }
        }
        let port = r.int("port", in: 1...65535)
        let auth = r.object("authentication", required: true) { readAuthentication(&$0) }
        let users: [HubUser] = r.list("users") { u in
            let name = u.string("name", required: true)
            if let name, let problem = Rules.checkPOSIXUser(name.value) { sink.error(name.location, problem) }
            let hash = u.string("passwordHash")
            if let hash, !Self.isCryptHash(hash.value) {
                sink.error(hash.location, "passwordHash must be a crypt(3) hash such as $6$salt$hash (see `openssl passwd -6`)")
            }
            let admin = u.bool("admin")
            guard let name else { return nil }
            return HubUser(name: name, passwordHash: hash?.value, admin: admin?.value ?? false)
        }
        let removedUsers = r.choice("removedUsers", RemovedUserPolicy.self)
        let kernels = r.stringList("kernels")
        for k in kernels { if let problem = Rules.checkName(k.value) { sink.error(k.location, "spec.kernels: \(problem)") } }
        let culling: IdleCulling? = r.object("idleCulling") { readIdleCulling(&$0) }
        let https: HTTPSSettings? = r.object("https") { h in readHTTPS(&h) }
        var mode = "0700"
        if let given = r.string("homeDirectoryMode") {
            let digits = given.value.hasPrefix("0") && given.value.count == 4 ? String(given.value.dropFirst()) : given.value
            if digits.count == 3, digits.allSatisfy({ ("0"..."7").contains($0) }) { mode = "0" + digits } else {
                sink.error(given.location, "spec.homeDirectoryMode must be an octal mode such as \"0700\", found '\(given.value)'")
            }
        }
        let limits: ResourceLimits? = r.object("limits") { readLimits(&$0) }
        let extraPackages = readRequirements(r.stringList("extraPackages"), field: "spec.extraPackages")
        let extraConfig = r.string("extraConfig")
        let state = r.choice("state", DesiredState.self)
        guard let host, let auth else { return nil }
        if let problem = Rules.checkName(host.value) { sink.error(host.location, "spec.host: \(problem)") }
        // OAuth with allowAll: false and no allow rule would be a hub nobody can
        // use, and a reader might take the missing rule for "anyone" (everyone
        // with an account at the provider): refuse it either way. (PAM hubs
        // list their users; one with none is being set up.)
        let allowsSomeone = auth.allowAll || !auth.allowedUsers.isEmpty || !auth.admins.isEmpty
            || !(auth.oauth?.allowedGroups ?? []).isEmpty || users.contains(where: \.admin)
        if !allowsSomeone && auth.oauth != nil {
            sink.error(r.keyLocation("authentication") ?? r.location,
                       "spec.authentication allows nobody: allowAll is false and there are no allowedUsers, admins or allowedGroups")
        }
        return JupyterHubSpec(
            metadata: metadata, host: host, version: version, port: port?.value ?? 8000, authentication: auth,
            users: users, removedUsers: removedUsers?.value ?? .lock, kernels: kernels, idleCulling: culling,
            https: https, homeDirectoryMode: mode, limits: limits, extraPackages: extraPackages,
            extraConfig: extraConfig?.value, state: state?.value ?? .present)
    }

    func readIdleCulling(_ c: inout FieldReader) -> IdleCulling? {
        let timeout = readDuration(&c, "timeout", required: true)
        let every = readDuration(&c, "every")
        let maxAge = readDuration(&c, "maxAge")
        return timeout.map { IdleCulling(timeoutSeconds: $0, everySeconds: every, maxAgeSeconds: maxAge) }
    }

    func readLimits(_ l: inout FieldReader) -> ResourceLimits? {
        let memory = l.string("memory")
        if let m = memory, !Self.isMemory(m.value) { sink.error(m.location, "spec.limits.memory must look like 512M or 2G") }
        let cpu = l.string("cpu")
        if let c = cpu, Double(c.value) == nil || c.value.contains(where: { !$0.isNumber && $0 != "." }) {
            sink.error(c.location, "spec.limits.cpu must be a number such as 1 or 0.5")
        }
        return ResourceLimits(memory: memory?.value, cpu: cpu?.value)
    }

    /// crypt(3) format `$id$salt$hash` (or `$id$rounds=N$salt$hash`); no
    /// whitespace or ':' (it is written into /etc/shadow through chpasswd -e).
    private static func isCryptHash(_ s: String) -> Bool {
        s.hasPrefix("$") && s.dropFirst().contains("$") && s.count <= 512
            && !s.contains { $0.isWhitespace || $0 == ":" || !$0.isASCII }
    }

    private static func isMemory(_ s: String) -> Bool {
        var digits = Substring(s)
        if let last = digits.last, "KMGT".contains(last) { digits = digits.dropLast() }
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    private func readDuration(_ r: inout FieldReader, _ key: String, required: Bool = false) -> Int? {
        guard let text = r.string(key, required: required) else { return nil }
        guard let seconds = Rules.parseDuration(text.value), seconds > 0 else {
            sink.error(text.location, "\(r.path).\(key) must be a duration such as 30m, 1h or 1h30m, found '\(text.value)'")
            return nil
        }
        return seconds
    }

    private func readHTTPS(_ h: inout FieldReader) -> HTTPSSettings? {
        for field in ["letsencrypt", "secretName"] where h.has(field) {
            _ = h.node(field)
            sink.error(h.keyLocation(field) ?? h.location,
                       "spec.https.\(field) is for hubs on Kubernetes (spec.kubernetes); on a host use selfSigned or certificate")
        }
        let selfSigned = h.bool("selfSigned")
        let hostname = h.string("hostname")
        if let n = hostname, n.value.isEmpty || !n.value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }) {
            sink.error(n.location, "spec.https.hostname must be a DNS name")
        }
        let port = h.int("port", in: 1...65535)
        let certificate: (String, String)? = h.object("certificate") { c in
            let cert = c.string("certFile", required: true)
            let key = c.string("keyFile", required: true)
            for p in [cert, key].compactMap({ $0 }) {
                if let problem = Rules.checkAbsolutePath(p.value) { sink.error(p.location, problem) }
            }
            guard let cert, let key else { return nil }
            return (cert.value, key.value)
        }
        let isSelfSigned = selfSigned?.value ?? false
        if isSelfSigned == (certificate != nil) && !h.has("letsencrypt") && !h.has("secretName") {
            sink.error(h.location, "spec.https needs exactly one of selfSigned: true or certificate")
        }
        if isSelfSigned && hostname == nil { sink.error(h.location, "spec.https.hostname is required with selfSigned: true") }
        return HTTPSSettings(
            selfSigned: isSelfSigned, hostname: hostname?.value, port: port?.value ?? 443,
            certFile: certificate?.0, keyFile: certificate?.1)
    }

    func readAuthentication(_ a: inout FieldReader) -> Authentication? {
        let type = a.choice("type", AuthenticationType.self)
        if !a.has("type") { sink.error(a.location, "spec.authentication.type is required") }
        let isPAM = type?.value == .pam
        let check = { (name: String) -> String? in
            isPAM ? Rules.checkPOSIXUser(name) : Rules.checkOAuthUser(name)
        }
        let admins = a.stringList("admins")
        let allowed = a.stringList("allowedUsers")
        for u in admins + allowed { if let problem = check(u.value) { sink.error(u.location, problem) } }
        let allowAll = a.bool("allowAll")?.value ?? false
        var oauth: OAuthProvider?
        for provider in [AuthenticationType.gitlab, .azuread] {
            let present = a.has(provider.rawValue)
            if present && type?.value != provider {
                _ = a.node(provider.rawValue)
                sink.error(a.location, "spec.authentication.\(provider.rawValue) is only allowed with type: \(provider.rawValue)")
            } else if type?.value == provider {
                oauth = a.object(provider.rawValue, required: true) { readOAuth(&$0, provider) }
            }
        }
        guard let type else { return nil }
        // A broken provider block was reported; keep the hub so that the
        // cross-document checks (host, kernels) still run on it.
        return Authentication(type: type.value, admins: admins, allowedUsers: allowed, allowAll: allowAll, oauth: oauth)
    }

    private func readOAuth(_ o: inout FieldReader, _ provider: AuthenticationType) -> OAuthProvider? {
        var url: Located<String>?
        var tenant: Located<String>?
        var claim: Located<String>?
        var authority: Located<String>?
        if provider == .gitlab {
            url = o.string("url", required: true)
            if let u = url, let problem = Rules.checkURL(u.value, schemes: ["https", "http"]) { sink.error(u.location, problem) }
        } else {
            tenant = o.string("tenantId", required: true)
            if let t = tenant, !t.value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }) {
                sink.error(t.location, "tenantId must be a tenant GUID or domain")
            }
            claim = o.string("usernameClaim")
            // Only claims that identify one account for good: Azure AD's `name`
            // (oauthenticator's default) is a display name two students can share.
            if let c = claim, !OAuthProvider.azureUsernameClaims.contains(c.value) {
                sink.error(c.location, "usernameClaim must be one of \(OAuthProvider.azureUsernameClaims.joined(separator: ", ")) (a unique claim), not '\(c.value)'")
            }
            // A sovereign cloud (or a test's local provider) has another login host.
            authority = o.string("authority")
            if let a = authority, let problem = Rules.checkURL(a.value, schemes: ["https"]) { sink.error(a.location, problem) }
            else if let a = authority, a.value.hasSuffix("/") || a.value.contains("?") || a.value.contains("#") {
                sink.error(a.location, "authority must be a base URL such as https://login.microsoftonline.us, without a trailing /, query or fragment")
            }
        }
        let clientId = o.string("clientId", required: true)
        if let c = clientId, c.value.isEmpty || c.value.contains(where: { $0.isWhitespace || $0 == "'" || $0 == "\"" || $0 == "\\" }) {
            sink.error(c.location, "clientId must not contain whitespace or quotes")
        }
        let secret = readSecret(&o, "clientSecret")
        let groups = o.stringList("allowedGroups")
        // oauthenticator (17.x) URL-escapes a group path twice before asking
        // GitLab for membership (jupyterhub/oauthenticator#423), so GitLab never
        // finds `parent/child` and every member is refused. A numeric ID works.
        if provider == .gitlab {
            for group in groups where group.value.contains("/") {
                sink.error(group.location, "allowedGroups: the subgroup path '\(group.value)' is never matched by oauthenticator (it escapes the / twice, jupyterhub/oauthenticator#423); use the subgroup's numeric ID, or a top-level group")
            }
        }
        let callback = o.string("callbackUrl")
        if let c = callback, let problem = Rules.checkURL(c.value, schemes: ["https", "http"]) { sink.error(c.location, problem) }
        guard let clientId, let secret else { return nil }
        return OAuthProvider(
            url: url?.value, tenantId: tenant?.value, clientId: clientId.value, clientSecret: secret,
            allowedGroups: groups.map(\.value), callbackUrl: callback?.value, usernameClaim: claim?.value,
            authority: authority?.value)
    }

    /// Secrets are references, never literals: a literal would end up in git,
    /// in plans and in CI logs.
    private func readSecret(_ o: inout FieldReader, _ key: String) -> SecretReference? {
        guard let node = o.node(key, required: true) else { return nil }
        let path = "\(o.path).\(key)"
        if case .scalar = node {
            // Never echo the value: it is probably the secret itself.
            sink.error(node.location, "\(path) must be a reference ({fromEnv: VAR} or {fromFile: /path}), not a literal secret")
            return nil
        }
        guard var r = FieldReader(node, path: path, sink: sink) else { return nil }
        defer { r.finish() }
        let env = r.string("fromEnv")
        let file = r.string("fromFile")
        switch (env, file) {
        case (let e?, nil):
            if let problem = Rules.checkEnvironmentVariable(e.value) { sink.error(e.location, problem); return nil }
            return .fromEnv(e.value)
        case (nil, let f?):
            if let problem = Rules.checkAbsolutePath(f.value) { sink.error(f.location, problem); return nil }
            return .fromFile(f.value)
        default:
            sink.error(r.location, "\(path) needs exactly one of fromEnv or fromFile")
            return nil
        }
    }
}
