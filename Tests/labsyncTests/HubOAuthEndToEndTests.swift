// OAuth logins end to end: the REAL labsync binary installs the hub (real
// JupyterHub and oauthenticator from the wheelhouse) over a REAL loopback sshd,
// pointed through the spec's own fields (gitlab.url; azuread.authority and
// tenantId) at a local identity provider (Tests/Fixtures/identity-provider/
// idp.py: GitLab's and Azure AD v2.0's endpoints over HTTPS with a CA made for
// the run and put in the system store, which the hub's HTTP client uses).
// Logins are driven like a browser: curl with a cookie jar follows the hub's
// redirect to the provider, the provider's automatic consent for the user
// signed in there, the callback and the spawn.
//
// Like HubEndToEndTests, the host is this machine: the hub lands in the real
// /opt/labsync/hub and /etc/labsync/hub (the machine lock keeps two runs
// apart), the test's accounts (ls-gl-*) are real and deleted at the end, and
// the CA leaves the system store again.

import Foundation
import LabsyncTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension PipScenarios {
    @Suite(.serialized, .endToEnd) struct HubOAuthEndToEnd {
        @Test(.timeLimit(.minutes(30))) func gitLabLoginsFollowTheSpec() throws {
            let lock = try MachineLock(path: "/var/lock/labsync-hub-e2e.lock", timeout: 900)
            defer { lock.release() }
            let world = try OAuthWorld(provider: .gitlab)
            defer { world.cleanUp() }
            try world.runGitLab()
        }

        @Test(.timeLimit(.minutes(30))) func azureADUsernamesComeFromAUniqueClaim() throws {
            let lock = try MachineLock(path: "/var/lock/labsync-hub-e2e.lock", timeout: 900)
            defer { lock.release() }
            let world = try OAuthWorld(provider: .azuread)
            defer { world.cleanUp() }
            try world.runAzureAD()
        }
    }
}

private struct OAuthWorld {
    enum Provider: String { case gitlab, azuread }
    let provider: Provider
    let server: SSHServer
    let directory: String
    let port: Int
    let wheelhouse: String
    let idp: BackgroundProcess
    let idpPort: Int
    static let clientId = "labsync-e2e-oauth"
    static let tenant = "labsync-test-tenant"
    static let caName = "labsync-e2e-idp.crt"
    /// Accounts the GitLab scenario gives its users (the spawner needs them).
    static let accounts = ["ls-gl-ann", "ls-gl-cat", "ls-gl-dan"]
    var repo: String { directory + "/repo" }
    var state: String { directory + "/state" }
    var secretFile: String { directory + "/client-secret" }
    var base: String { "https://127.0.0.1:\(port)" }
    var idpBase: String { "https://127.0.0.1:\(idpPort)" }
    var callback: String { "\(base)/hub/oauth_callback" }

    init(provider: Provider) throws {
        self.provider = provider
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        wheelhouse = root.appendingPathComponent(".cache/wheelhouse/hub").path
        let python = root.appendingPathComponent(".tools/venv/bin/python").path
        guard FileManager.default.fileExists(atPath: wheelhouse + "/.done"),
              (try? Spawn.run([python, "-c", "import authlib, trustme"]).status) == 0 else {
            throw SpawnError("no wheelhouse or no authlib/trustme in .tools/venv: run `make deps` first")
        }
        server = try SSHServer()
        directory = try Spawn.makeTempDirectory(prefix: "hub-oauth-e2e").replacing("//", with: "/")
        chmod(directory, 0o755)
        port = try SSHServer.freePort()
        try FileManager.default.createDirectory(atPath: directory + "/repo", withIntermediateDirectories: true)
        try Self.canary().write(toFile: directory + "/client-secret", atomically: true, encoding: .utf8)
        let portFile = directory + "/idp.port"
        idp = try Spawn.start(
            [python, root.appendingPathComponent("Tests/Fixtures/identity-provider/idp.py").path,
             "--client-id", Self.clientId, "--client-secret-file", directory + "/client-secret",
             "--redirect-uri", "https://127.0.0.1:\(port)/hub/oauth_callback", "--tenant", Self.tenant,
             "--ca-file", directory + "/idp-ca.pem", "--port-file", portFile, "--log", directory + "/idp.log"],
            stdoutPath: directory + "/idp.log", stderrPath: directory + "/idp.log")
        var found: Int?
        let deadline = Date().addingTimeInterval(30)
        while found == nil && Date() < deadline && idp.isRunning {
            found = (try? String(contentsOfFile: portFile, encoding: .utf8))
                .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if found == nil { usleep(100_000) }
        }
        guard let found else {
            idp.stop()
            throw SpawnError("the identity provider did not start: \((try? String(contentsOfFile: directory + "/idp.log", encoding: .utf8)) ?? "")")
        }
        idpPort = found
        // The hub's HTTP client (tornado) trusts the system store: the CA goes
        // there before the hub starts, and leaves in cleanUp.
        try FileManager.default.createDirectory(atPath: "/usr/local/share/ca-certificates", withIntermediateDirectories: true)
        _ = try Spawn.check(["cp", directory + "/idp-ca.pem", "/usr/local/share/ca-certificates/" + Self.caName])
        _ = try Spawn.check(["update-ca-certificates"])
    }

    /// The Azure AD fixture's object ids (Tests/Fixtures/identity-provider/users.json).
    static let azureObjectIds = ["0f3a1c52-7d4e-4b9a-9c1e-2a6b8d0e4f11", "0f3a1c52-7d4e-4b9a-9c1e-2a6b8d0e4f22"]

    /// The hub name README's rule gives a claim that is not a POSIX name
    /// already, computed here independently of labsync (sha256sum): `u` in
    /// front unless it starts with a letter, characters outside [a-z0-9_-]
    /// as `-`, cut to 23, `-` and 8 hex digits of the lower-cased claim's SHA-256.
    static func expectedHubName(_ claim: String) throws -> String {
        let lower = claim.lowercased()
        let sum = try Spawn.check(["sha256sum"], stdin: Array(lower.utf8)).prefix(8)
        var safe = String(lower.map { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_" || $0 == "-") ? $0 : "-" })
        if !(safe.first.map { $0.isASCII && $0.isLowercase } ?? false) { safe = "u" + safe }
        return String(safe.prefix(23)) + "-" + sum
    }

    /// A secret no other text contains: found anywhere but the env file, it leaked.
    static func canary() -> String { "canary-\(UInt64.random(in: 100_000_000...999_999_999))-oauth-secret" }

    func cleanUp() {
        // The hub (and everything of it) goes with state: absent, over the
        // test's sshd (stopped only afterwards), so the next test starts from nothing.
        if (try? write("hub.yaml", hubSpec(absent: true))) != nil {
            let removed = try? labsync("apply", ["--yes"])
            if removed?.status != 0 { print("hub oauth e2e: removing the hub failed: \(removed?.stdoutText ?? "")\(removed?.stderrText ?? "")") }
        }
        idp.stop()
        server.stop()
        try? FileManager.default.removeItem(atPath: "/usr/local/share/ca-certificates/" + Self.caName)
        // update-ca-certificates rebuilds the bundle without it but leaves the
        // link (and its hash link, which `update-ca-certificates` then drops).
        try? FileManager.default.removeItem(atPath: "/etc/ssl/certs/" + Self.caName.replacing(".crt", with: ".pem"))
        _ = try? Spawn.run(["update-ca-certificates"])
        let azureAccounts = provider == .azuread ? Self.azureObjectIds.compactMap { try? Self.expectedHubName($0) } : []
        for name in Self.accounts + azureAccounts {
            _ = try? Spawn.run(["pkill", "-KILL", "-u", name])
            _ = try? Spawn.run(["userdel", "--remove", name])
        }
        GitFixture.removeTree(URL(fileURLWithPath: directory))
    }

    func write(_ path: String, _ text: String) throws {
        try text.write(toFile: repo + "/" + path, atomically: true, encoding: .utf8)
    }

    // MARK: specs

    func hostSpec() -> String {
        let keys = server.hostKeyLines.map { "\"\($0)\"" }.joined(separator: ", ")
        return """
            apiVersion: labsync/v1
            kind: Host
            metadata: {name: teaching-vm}
            spec:
              address: 127.0.0.1
              port: \(server.port)
              user: \(SSHServer.user)
              become: sudo
              identityFile: \(server.clientKeys.ed25519)
              hostKeys: [\(keys)]
              index: {noIndex: true, findLinks: [\(wheelhouse)]}

            """
    }

    /// GitLab: ann is in the allowed group, cat is an allowed user, dan an
    /// admin; ben is in neither. Azure AD: both twins allowed by group.
    func hubSpec(admins: [String] = ["ls-gl-dan"], allowed: [String] = ["ls-gl-cat"],
                 accounts: [String] = OAuthWorld.accounts, claim: String = "oid", azureAccounts: [String] = [],
                 absent: Bool = false) -> String {
        var text = """
            apiVersion: labsync/v1
            kind: JupyterHub
            metadata: {name: oauth-hub}
            spec:
              host: teaching-vm
              https: {selfSigned: true, hostname: localhost, port: \(port)}
              removedUsers: delete

            """
        switch provider {
        case .gitlab:
            text += """
                  authentication:
                    type: gitlab
                    admins: [\(admins.joined(separator: ", "))]
                    allowedUsers: [\(allowed.joined(separator: ", "))]
                    gitlab:
                      url: \(idpBase)
                      clientId: \(Self.clientId)
                      clientSecret: {fromFile: \(secretFile)}
                      allowedGroups: [ml101-staff]
                      callbackUrl: \(callback)
                  users:
                \(accounts.map { "    - name: \($0)\n" }.joined())
                """
        case .azuread:
            text += """
                  authentication:
                    type: azuread
                    azuread:
                      authority: \(idpBase)
                      tenantId: \(Self.tenant)
                      clientId: \(Self.clientId)
                      clientSecret: {fromEnv: LABSYNC_E2E_AAD_SECRET}
                      usernameClaim: \(claim)
                      allowedGroups: [course-ml101]
                      callbackUrl: \(callback)

                """
            if !azureAccounts.isEmpty {
                text += "  users:\n" + azureAccounts.map { "    - name: \($0)\n" }.joined()
            }
        }
        if absent { text += "  state: absent\n" }
        return text
    }

    // MARK: commands

    @discardableResult
    func labsync(_ command: String, _ arguments: [String] = [], timeout: Double = 400) throws -> SpawnResult {
        let secret = (try? String(contentsOfFile: secretFile, encoding: .utf8)) ?? ""
        return try LabsyncBinary.run([command, "--repo", repo, "--state-dir", state] + arguments,
                                     env: ["LABSYNC_E2E_AAD_SECRET": secret], timeout: timeout)
    }

    @discardableResult
    func apply(_ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        var result = try labsync("apply", ["--yes"])
        // This machine is also the host of other test runs (their applies take
        // the same host lock): one that changed it between our plan and our lock
        // makes labsync refuse to act on a stale plan. Plan again, once.
        if (result.stdoutText + result.stderrText).contains("another run changed the host after this plan was made") {
            result = try labsync("apply", ["--yes"])
        }
        let output = result.stdoutText + result.stderrText
        #expect(result.status == 0, "apply (\(what)) failed:\n\(output)\nhub log:\n\(tail(hubLog))",
                sourceLocation: sourceLocation)
        return output
    }

    /// A second plan after a scenario has nothing to do.
    func expectConverged(_ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let plan = try labsync("plan", ["--detailed-exitcode"])
        #expect(plan.status == 0, "plan after \(what):\n\(plan.stdoutText)\(plan.stderrText)", sourceLocation: sourceLocation)
    }

    var hubLog: String { (try? String(contentsOfFile: "/var/log/labsync/hub.log", encoding: .utf8)) ?? "" }
    func tail(_ text: String) -> String { text.split(separator: "\n").suffix(40).joined(separator: "\n") }

    func curl(_ arguments: [String], jar: String) throws -> SpawnResult {
        // -k for the hub's self-signed certificate; the provider's is checked
        // the same way the hub checks it only by the hub.
        try Spawn.run(["curl", "-sk", "--max-time", "90", "-c", jar, "-b", jar] + arguments, timeout: 120)
    }

    /// Signs `login` in at the provider, then follows the hub's login the way a
    /// browser does. Returns the last status code and URL.
    func logIn(_ login: String, jar: String) throws -> (code: Int, url: String) {
        let signIn = try curl(["-o", "/dev/null", "-w", "%{http_code}",
                               "\(idpBase)/login?provider=\(provider.rawValue)&user=\(login)"], jar: jar)
        #expect(signIn.stdoutText == "200", "no \(login) at the provider")
        let r = try curl(["-L", "--max-redirs", "10", "-o", directory + "/last-page.html", "-w", "%{http_code} %{url_effective}",
                          "\(base)/hub/oauth_login?next=%2Fhub%2Fhome"], jar: jar)
        let parts = r.stdoutText.split(separator: " ", maxSplits: 1)
        return (Int(parts.first ?? "") ?? 0, parts.count > 1 ? String(parts[1]) : "")
    }

    /// GET with the user's cookies, without following redirects.
    func status(_ path: String, jar: String) throws -> Int {
        Int(try curl(["-o", "/dev/null", "-w", "%{http_code}", base + path], jar: jar).stdoutText) ?? 0
    }

    func apiUser(_ name: String) throws -> [String: Any]? {
        let token = try String(contentsOfFile: "/etc/labsync/hub/secrets/api_token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let result = try Spawn.run(["curl", "-s", "--max-time", "30", "-K", "-"],
                                   stdin: Array("url = \"http://127.0.0.1:8081/hub/api/users/\(name)\"\nheader = \"Authorization: token \(token)\"\n".utf8))
        return try? JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any]
    }

    /// Where the client secret must not be: plans, logs, journal, config,
    /// argv. Only the 0600 env file (and the test's own source file) hold it.
    func expectSecretOnlyInEnvFile(_ secret: String, outputs: [String]) throws {
        var info = stat()
        #expect(stat("/etc/labsync/hub/secrets/oauth.env", &info) == 0 && info.st_mode & 0o777 == 0o600 && info.st_uid == 0)
        let grep = try Spawn.run(["grep", "-rlF", "--exclude=client-secret", "--", secret, "/etc/labsync", "/var/lib/labsync",
                                  "/var/log/labsync", "/opt/labsync/hub", directory])
        #expect(grep.stdoutText.split(separator: "\n") == ["/etc/labsync/hub/secrets/oauth.env"], "\(grep.stdoutText)")
        for output in outputs { #expect(!output.contains(secret)) }
        let argvs = try Spawn.run(["/bin/sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '"])
        #expect(!argvs.stdoutText.contains(secret), "the secret is in a process's argv")
        let journal = try Spawn.run(["/bin/sh", "-c", "journalctl --no-pager -q 2>/dev/null | tail -n 20000"])
        #expect(!journal.stdoutText.contains(secret), "the secret is in the system journal")
    }

    // MARK: GitLab

    func runGitLab() throws {
        try write("host.yaml", hostSpec())
        try write("hub.yaml", hubSpec())
        let validate = try labsync("validate")
        try #require(validate.status == 0, "\(validate.stdoutText)\(validate.stderrText)")
        var outputs: [String] = []
        for format in ["text", "markdown", "json"] {
            let plan = try labsync("plan", ["--format", format])
            outputs.append(plan.stdoutText + plan.stderrText)
        }
        outputs.append(try apply("gitlab hub"))
        try expectConverged("install")

        // A member of the allowed group logs in and reaches their server.
        let annJar = directory + "/ann.jar"
        let ann = try logIn("ls-gl-ann", jar: annJar)
        #expect(ann.code == 200 && ann.url.hasSuffix("/hub/home"), "ann: \(ann)\n\(tail(hubLog))")
        let spawn = try curl(["-L", "-o", "/dev/null", "-w", "%{http_code} %{url_effective}", "\(base)/hub/spawn"], jar: annJar)
        #expect(spawn.stdoutText.hasPrefix("200"), "spawn: \(spawn.stdoutText)\n\(tail(hubLog))")
        let started = waitUntil(timeout: 90) {
            ((try? apiUser("ls-gl-ann"))?["servers"] as? [String: Any])?[""].map { ($0 as? [String: Any])?["ready"] as? Bool == true } ?? false
        }
        #expect(started, "ann's server did not start\n\(tail(hubLog))")
        #expect(try status("/user/ls-gl-ann/api/status", jar: annJar) != 404)

        // Someone in no allowed group and on no list is refused, and never
        // becomes a hub user.
        let ben = try logIn("ls-gl-ben", jar: directory + "/ben.jar")
        #expect(ben.code == 403, "ben: \(ben)")
        #expect(try apiUser("ls-gl-ben")?["name"] == nil)

        // An admin gets the admin panel; removed from admins, they lose it at
        // their next request (same cookie).
        let danJar = directory + "/dan.jar"
        let dan = try logIn("ls-gl-dan", jar: danJar)
        #expect(dan.code == 200, "dan: \(dan)\n\(tail(hubLog))")
        #expect(try status("/hub/admin", jar: danJar) == 200)
        #expect(try apiUser("ls-gl-dan")?["admin"] as? Bool == true)
        // cat, an allowed user, logs in.
        let cat = try logIn("ls-gl-cat", jar: directory + "/cat.jar")
        #expect(cat.code == 200, "cat: \(cat)")
        try expectConverged("logins")

        try write("hub.yaml", hubSpec(admins: [], allowed: ["ls-gl-cat", "ls-gl-dan"]))
        outputs.append(try apply("revoke dan"))
        #expect(try status("/hub/admin", jar: danJar) == 403, "dan still sees the admin panel")
        #expect(try apiUser("ls-gl-dan")?["admin"] as? Bool == false)
        try expectConverged("revoke")

        // cat leaves allowedUsers (and users): cannot log in, and removedUsers:
        // delete removed them from the hub and their account.
        try write("hub.yaml", hubSpec(admins: [], allowed: ["ls-gl-dan"], accounts: ["ls-gl-ann", "ls-gl-dan"]))
        outputs.append(try apply("remove cat"))
        #expect(try apiUser("ls-gl-cat")?["name"] == nil, "cat is still in the hub's database")
        #expect(getpwnam("ls-gl-cat") == nil, "cat's account is still there")
        let catAgain = try logIn("ls-gl-cat", jar: directory + "/cat2.jar")
        #expect(catAgain.code == 403, "cat: \(catAgain)")
        try expectConverged("remove")

        // The secret rotates at the provider and in the file the spec names:
        // the plan sees it (without showing it), and the hub gets it.
        let old = try String(contentsOfFile: secretFile, encoding: .utf8)
        let rotated = Self.canary()
        try rotated.write(toFile: secretFile, atomically: true, encoding: .utf8)
        let stale = try logIn("ls-gl-ann", jar: directory + "/ann-stale.jar")
        #expect(stale.code != 200, "a login worked with the old secret: \(stale)")
        let seen = try labsync("plan", ["--detailed-exitcode"])
        #expect(seen.status == 2, "the rotated secret is not in the plan:\n\(seen.stdoutText)\(seen.stderrText)")
        #expect(seen.stdoutText.contains("the OAuth client secret (fromFile: \(secretFile)) changed"), "\(seen.stdoutText)")
        outputs.append(seen.stdoutText + seen.stderrText)
        outputs.append(try apply("rotate"))
        let fresh = try logIn("ls-gl-ann", jar: directory + "/ann-fresh.jar")
        #expect(fresh.code == 200, "login after the rotation: \(fresh)\n\(tail(hubLog))")
        try expectConverged("rotate")

        // Canary: neither secret is anywhere but the env file (the old one nowhere).
        try expectSecretOnlyInEnvFile(rotated, outputs: outputs)
        let oldHits = try Spawn.run(["grep", "-rlF", "--", old, "/etc/labsync", "/var/lib/labsync", "/var/log/labsync"])
        #expect(oldHits.stdoutText.isEmpty, "the old secret is still at \(oldHits.stdoutText)")
    }

    // MARK: Azure AD

    func runAzureAD() throws {
        try write("host.yaml", hostSpec())
        try write("hub.yaml", hubSpec())
        let validate = try labsync("validate")
        try #require(validate.status == 0, "\(validate.stdoutText)\(validate.stderrText)")
        var outputs = [try apply("azure ad hub")]
        try expectConverged("install")

        // Two people with the same display name ("Kim Lee") are two users,
        // named by the object id made POSIX-safe (an oid is 36 characters and
        // starts with a digit; the hash keeps the twins, whose oids share a
        // long prefix, apart).
        var names: [String] = []
        for (login, oid) in zip(["twin1", "twin2"], Self.azureObjectIds) {
            let result = try logIn(login, jar: directory + "/\(login).jar")
            #expect(result.code == 200 && result.url.hasSuffix("/hub/home"), "\(login): \(result)\n\(tail(hubLog))")
            let name = try Self.expectedHubName(oid)
            #expect(name.count <= 32 && name.wholeMatch(of: #/[a-z][a-z0-9_-]*/#) != nil, "\(name)")
            #expect(try apiUser(name)?["name"] as? String == name, "\(login) is not the hub user \(name)\n\(tail(hubLog))")
            #expect(try apiUser(oid)?["name"] == nil, "the raw oid \(oid) is a hub user")
            names.append(name)
        }
        #expect(Set(names).count == 2)
        #expect(try apiUser("kim lee")?["name"] == nil)
        try expectConverged("logins")

        // twin1's hub name is an account name: listed under users, labsync
        // makes the account, and twin1 reaches a running server.
        try write("hub.yaml", hubSpec(azureAccounts: [names[0]]))
        outputs.append(try apply("twin1's account"))
        #expect(getpwnam(names[0]) != nil, "no account \(names[0])")
        let twinJar = directory + "/twin1.jar"
        let spawn = try curl(["-L", "-o", "/dev/null", "-w", "%{http_code} %{url_effective}", "\(base)/hub/spawn"], jar: twinJar)
        #expect(spawn.stdoutText.hasPrefix("200"), "spawn: \(spawn.stdoutText)\n\(tail(hubLog))")
        let started = waitUntil(timeout: 90) {
            ((try? apiUser(names[0]))?["servers"] as? [String: Any])?[""].map { ($0 as? [String: Any])?["ready"] as? Bool == true } ?? false
        }
        #expect(started, "twin1's server did not start\n\(tail(hubLog))")
        #expect(try status("/user/\(names[0])/api/status", jar: twinJar) != 404)
        try expectConverged("twin1's server")

        // preferred_username instead: the hub's users are now named by it,
        // made POSIX-safe too (First.Last@uni.example is no account name).
        try write("hub.yaml", hubSpec(claim: "preferred_username", azureAccounts: [names[0]]))
        outputs.append(try apply("preferred_username"))
        for (login, claim) in [("twin2", "twin2@uni.example"), ("firstlast", "First.Last@uni.example")] {
            let result = try logIn(login, jar: directory + "/\(login)-pu.jar")
            #expect(result.code == 200, "\(login): \(result)\n\(tail(hubLog))")
            let name = try Self.expectedHubName(claim)
            #expect(name.hasPrefix(claim == "twin2@uni.example" ? "twin2-uni-example-" : "first-last-uni-example-"), "\(name)")
            #expect(try apiUser(name)?["name"] as? String == name, "\(login) is not the hub user \(name)\n\(tail(hubLog))")
        }
        try expectConverged("claim")
        try expectSecretOnlyInEnvFile(try String(contentsOfFile: secretFile, encoding: .utf8), outputs: outputs)
    }
}
