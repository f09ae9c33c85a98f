// JupyterHub end to end: the REAL labsync binary applies examples/course-hub
// (adapted to this machine) over a REAL loopback sshd, installing the hub from
// the wheelhouse `make deps` downloads; then everything is checked the way a
// person would, over real HTTPS with the self-signed certificate (curl -k):
// the login form, a user's server and kernels (an R kernel from an
// REnvironment built from the local CRAN-like fixture, run over the kernel's
// websocket, then unregistered), removed users and admins, a GitLab redirect
// whose secret appears nowhere it must not, idle culling, and `state: absent`.
//
// The host is this machine (the sshd logs in as SSHServer.user and uses sudo),
// so the hub lands in the real /opt/labsync/hub, /etc/labsync/hub and
// /var/lib/labsync/hub, and the test's accounts (ls-hub-*) are real accounts:
// they are deleted at the end. Environments live in the test's temp directory.

import Foundation
import LabsyncTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Nested in the pip scenarios' serialized suite: every apply on this machine
/// takes the same host lock, so running beside them gains nothing.
extension PipScenarios {
    @Suite(.serialized, .endToEnd) struct HubEndToEnd {
        @Test(.timeLimit(.minutes(15))) func courseHubFromTheSpecToALogin() throws {
            // One hub per host, and the host is this machine: a second run of
            // this test at the same time (another checkout's `make test`) would
            // reconfigure and remove the same hub under this one. Wait for it.
            let lock = try MachineLock(path: "/var/lock/labsync-hub-e2e.lock", timeout: 600)
            defer { lock.release() }
            let hub = try HubWorld()
            defer { hub.cleanUp() }
            try hub.run()
        }
    }
}

/// flock(2) on a file: held until `release` or the process ends.
struct MachineLock {
    let fd: Int32
    init(path: String, timeout: Double) throws {
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SpawnError("cannot open \(path): errno \(errno)") }
        let deadline = Date().addingTimeInterval(timeout)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard Date() < deadline else {
                close(fd)
                throw SpawnError("another hub end-to-end run held \(path) for \(Int(timeout)) s")
            }
            usleep(500_000)
        }
    }
    func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

/// Users of the adapted example: the example's names with a prefix, so the
/// test never touches a real person's account.
private let prefix = "ls-hub-"
private func user(_ name: String) -> String { prefix + name }

private struct HubWorld {
    let server: SSHServer
    let directory: String
    let port: Int
    let wheelhouse: String
    /// scripts/make-cran-fixture.sh's repository, as `file://` (the host is this machine).
    let cranRepo: String
    var repo: String { directory + "/repo" }
    var state: String { directory + "/state" }
    var base: String { "https://127.0.0.1:\(port)" }
    let secret = "gloas-labsyncE2E-\(UInt32.random(in: 1_000_000...9_999_999))-secret"
    static let passwords = ["alice": "alice-pw-1", "bob": "bob-pw-2", "dave": "dave-pw-4"]
    var passwords: [String: String] { Self.passwords }
    /// The REnvironment offered as a kernel beside the example's Python ones.
    static let rEnvironment = "rstats"
    static let rDisplayName = "R (course stats)"
    var rLibrary: String { directory + "/rlibs/" + Self.rEnvironment }
    /// crypt(3) hashes of `passwords`, made once (a new salt per spec write
    /// would be a spec change).
    let hashes: [String: String]

    init() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        wheelhouse = root.appendingPathComponent(".cache/wheelhouse/hub").path
        guard FileManager.default.fileExists(atPath: wheelhouse + "/.done") else {
            throw SpawnError("no wheelhouse at \(wheelhouse): run `make deps` first")
        }
        // Its own sshd without the pip scenarios' private /opt: the hub must live
        // where `state: absent` is checked, and outlive the SSH session.
        server = try SSHServer()
        directory = try Spawn.makeTempDirectory(prefix: "hub-e2e").replacing("//", with: "/")
        chmod(directory, 0o755)
        port = try SSHServer.freePort()
        var hashes: [String: String] = [:]
        for (name, password) in Self.passwords {
            hashes[name] = try Spawn.check(["openssl", "passwd", "-6", password])
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        self.hashes = hashes
        cranRepo = try CRANFixture.fileURL()
        try FileManager.default.createDirectory(atPath: directory + "/repo", withIntermediateDirectories: true)
    }

    func cleanUp() {
        server.stop()
        for name in ["alice", "bob", "carol", "dave"] {
            _ = try? Spawn.run(["pkill", "-KILL", "-u", user(name)])
            _ = try? Spawn.run(["userdel", "--remove", user(name)])
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
            metadata: {name: teaching-vm, labels: {course: ml101}}
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

    /// examples/course-hub/environments.yaml with what the wheelhouse has (the
    /// kernels only need ipykernel) and a root in the temp directory.
    func environments() throws -> String {
        var text = try String(contentsOfFile: examplesDirectory + "/environments.yaml", encoding: .utf8)
        let root = "  root: \(directory)/envs\n"
        text = text.replacing(#/  packages:\n(    - .*\n)+/#, with: { _ in root + "  packages: [ipykernel]\n" })
        text = text.replacing("installer: uv", with: "installer: pip")
        // fxr pinned to the Archive's 0.2-1 (not the newest), so the kernel's
        // output tells which library it loaded.
        return text + """
            ---
            apiVersion: labsync/v1
            kind: REnvironment
            metadata: {name: \(Self.rEnvironment)}
            spec:
              host: teaching-vm
              root: \(directory)/rlibs
              repos: ["\(cranRepo)"]
              packages: ["fxr (== 0.2-1)", "labsyncdemo"]
              kernel: {displayName: "\(Self.rDisplayName)"}

            """
    }

    var examplesDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/course-hub").path
    }

    /// examples/course-hub/hub.yaml on this machine: prefixed user names, real
    /// password hashes, a free port, a low idle timeout, no extraPackages (not
    /// in the wheelhouse).
    func hubSpec(rKernel: Bool = false, removeBob: Bool = false, gitlab: Bool = false,
                 absent: Bool = false) throws -> String {
        var text = try String(contentsOfFile: examplesDirectory + "/hub.yaml", encoding: .utf8)
        if rKernel {
            try #require(text.contains("  kernels: [ml, stats]\n"), "examples/course-hub/hub.yaml's kernels changed")
            text = text.replacing("  kernels: [ml, stats]\n", with: "  kernels: [ml, stats, \(Self.rEnvironment)]\n")
        }
        for name in ["alice", "bob", "carol", "dave"] {
            text = text.replacing(name, with: user(name))
        }
        text = try text.replacing(#/passwordHash: "[^"]*"/#) { _ in "passwordHash: \"@HASH@\"" }
        // Hashes in order of appearance: alice, bob; dave gets one too (to log in).
        for name in ["alice", "bob"] {
            if let range = text.firstRange(of: "@HASH@") { text.replaceSubrange(range, with: try hash(name)) }
        }
        text = text.replacing("    - name: \(user("dave"))\n",
                              with: "    - name: \(user("dave"))\n      passwordHash: \"\(try hash("dave"))\"\n")
        text = text.replacing("port: 443", with: "port: \(port)")
        text = text.replacing(#/  idleCulling:\n(    .*\n)+/#, with: { _ in "  idleCulling: {timeout: 40s, every: 10s}\n" })
        text = text.replacing(#/  extraPackages:\n(    - .*\n)+/#, with: { _ in "" })
        if removeBob {
            text = text.replacing(#/    - name: ls-hub-bob\n(      .*\n)+/#, with: { _ in "" })
            text = text.replacing("allowedUsers: [\(user("bob")), ", with: "allowedUsers: [")
            text = text.replacing("admins: [\(user("alice"))]", with: "admins: []")
            text = text.replacing("      admin: true\n", with: "")
        }
        if gitlab {
            text = text.replacing(#/  authentication:\n(    .*\n)+/#, with: { _ in """
                  authentication:
                    type: gitlab
                    allowedUsers: [\(user("carol"))]
                    gitlab:
                      url: https://gitlab.example.org
                      clientId: labsync-e2e-client
                      clientSecret: {fromEnv: LABSYNC_E2E_GITLAB_SECRET}
                      allowedGroups: [ml101-staff]

                """ })
        }
        if absent { text += "  state: absent\n" }
        return text
    }

    func hash(_ name: String) throws -> String { hashes[name]! }

    // MARK: commands

    @discardableResult
    func labsync(_ command: String, _ arguments: [String] = [], timeout: Double = 400) throws -> SpawnResult {
        try LabsyncBinary.run([command, "--repo", repo, "--state-dir", state] + arguments,
                              env: ["LABSYNC_E2E_GITLAB_SECRET": secret], timeout: timeout)
    }

    @discardableResult
    func apply(_ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let start = Date()
        let result = try labsync("apply", ["--yes"])
        let output = result.stdoutText + result.stderrText
        // Step timings, for whoever wonders where the test's minutes go.
        print("hub e2e: apply (\(what)) took \(Int(Date().timeIntervalSince(start))) s:")
        for line in output.split(separator: "\n") where line.contains(": done in") || line.contains("FAILED") {
            print("  " + line)
        }
        #expect(result.status == 0, "apply (\(what)) failed:\n\(output)\nhub log:\n\(tail(hubLog))",
                sourceLocation: sourceLocation)
        return output
    }

    var hubLog: String { (try? String(contentsOfFile: "/var/log/labsync/hub.log", encoding: .utf8)) ?? "" }
    func tail(_ text: String) -> String { text.split(separator: "\n").suffix(40).joined(separator: "\n") }

    func curl(_ arguments: [String], jar: String? = nil) throws -> SpawnResult {
        var argv = ["curl", "-sk", "--max-time", "60"]
        if let jar { argv += ["-c", jar, "-b", jar] }
        return try Spawn.run(argv + arguments, timeout: 90)
    }

    /// The real login form: GET it (xsrf cookie and hidden field), POST it.
    /// Returns the POST's status code.
    func logIn(_ name: String, password: String, jar: String) throws -> Int {
        let page = try curl(["\(base)/hub/login"], jar: jar).stdoutText
        let xsrf = try #require(page.firstMatch(of: #/name="_xsrf" value="([^"]*)"/#)?.1, "no _xsrf in the form")
        let post = try curl(["-o", "/dev/null", "-w", "%{http_code}", "--data-urlencode", "_xsrf=\(xsrf)",
                             "--data-urlencode", "username=\(name)", "--data-urlencode", "password=\(password)",
                             "\(base)/hub/login"], jar: jar)
        return Int(post.stdoutText) ?? 0
    }

    /// The hub's REST API with labsync's own service token (root-only file; the
    /// test runs as root like CI).
    func apiUser(_ name: String) throws -> [String: Any]? {
        let token = try String(contentsOfFile: "/etc/labsync/hub/secrets/api_token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let result = try Spawn.run(["curl", "-s", "--max-time", "30", "-K", "-"],
                                   stdin: Array("url = \"http://127.0.0.1:8081/hub/api/users/\(name)\"\nheader = \"Authorization: token \(token)\"\n".utf8))
        return try? JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any]
    }

    /// A user's server's kernelspecs (name → spec), through the server's own
    /// OAuth handshake first, as a browser tab does; nil until it answers.
    func kernelSpecs(_ name: String, jar: String) -> [String: [String: Any]]? {
        _ = try? curl(["-L", "-o", "/dev/null", "\(base)/user/\(name)/lab"], jar: jar)
        guard let r = try? curl(["\(base)/user/\(name)/api/kernelspecs"], jar: jar),
              let object = try? JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: Any],
              let specs = object["kernelspecs"] as? [String: [String: Any]] else { return nil }
        return specs.compactMapValues { $0["spec"] as? [String: Any] }
    }

    /// A cookie's value in curl's jar (Netscape format: seven tab-separated
    /// fields; HttpOnly cookies carry a prefix on the domain).
    func cookie(_ name: String, path: String, jar: String) -> String? {
        let text = (try? String(contentsOfFile: jar, encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            let fields = line.replacing("#HttpOnly_", with: "").split(separator: "\t", omittingEmptySubsequences: false)
            if fields.count == 7 && fields[2] == path && fields[5] == name { return String(fields[6]) }
        }
        return nil
    }

    /// A write to a user's server's REST API with the browser's cookies: Jupyter
    /// Server under JupyterHub (jupyterhub/_xsrf_utils.py) refuses a
    /// cookie-authenticated POST or DELETE without `X-XSRFToken`, the value of
    /// the `_xsrf` cookie the server set on its pages (path /user/<name>/).
    /// Returns the status code and the body.
    func serverAPI(_ method: String, _ name: String, _ path: String, body: String? = nil,
                   jar: String) throws -> (status: Int, body: String) {
        let xsrf = try #require(cookie("_xsrf", path: "/user/\(name)/", jar: jar), "no _xsrf cookie from \(name)'s server")
        var arguments = ["-X", method, "-H", "X-XSRFToken: \(xsrf)", "-w", "\n%{http_code}"]
        if let body { arguments += ["-H", "Content-Type: application/json", "--data", body] }
        let result = try curl(arguments + ["\(base)/user/\(name)/api/\(path)"], jar: jar)
        let text = result.stdoutText
        let split = text.lastIndex(of: "\n") ?? text.startIndex
        return (Int(text[split...].trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, String(text[..<split]))
    }

    /// R code run in a kernel over its websocket (scripts/kernel-execute.py, with
    /// the tornado of the hubcheck venv `make deps` makes), authenticated by the
    /// same cookies. Returns the script's JSON: stdout, results, errors, status.
    func execute(_ code: String, kernel id: String, user name: String, jar: String) throws -> [String: Any] {
        let root = LabsyncBinary.packageRoot
        let python = root.appendingPathComponent(".tools/hubcheck/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw SpawnError("no \(python): run `make deps` first")
        }
        let url = "wss://127.0.0.1:\(port)/user/\(name)/api/kernels/\(id)/channels"
        let result = try Spawn.run([python, root.appendingPathComponent("scripts/kernel-execute.py").path, url, jar],
                                   stdin: Array(code.utf8), timeout: 240)
        let object = try? JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any]
        return try #require(object, "kernel-execute.py exited \(result.status): \(result.stdoutText)\(result.stderrText)")
    }

    /// A student starts the R kernel through their server's kernels API and
    /// runs code that needs the library's packages; the output comes back over
    /// the kernel's websocket.
    func runTheRKernel(user name: String, jar: String) throws {
        let started = try serverAPI("POST", name, "kernels", body: "{\"name\": \"\(Self.rEnvironment)\"}", jar: jar)
        try #require(started.status == 201, "starting the R kernel: \(started)\n\(tail(hubLog))")
        let kernel = try JSONSerialization.jsonObject(with: Data(started.body.utf8)) as? [String: Any]
        let id = try #require(kernel?["id"] as? String, "no kernel id in \(started.body)")
        #expect(kernel?["name"] as? String == Self.rEnvironment)

        // labsyncdemo's hello() calls fxr's fxr_version(): "0.2-1" only from the
        // pinned library (the repository's newest is 0.3-0, and R's own
        // libraries have no fxr at all); find.package says where fxr came from.
        let code = """
            library(fxr)
            library(labsyncdemo)
            cat(hello(), "\\n")
            cat("fxr from", dirname(find.package("fxr")), "\\n")
            fxr_version()
            """
        let outcome = try execute(code, kernel: id, user: name, jar: jar)
        let stdout = outcome["stdout"] as? String ?? ""
        #expect(outcome["status"] as? String == "ok", "\(outcome)")
        #expect(outcome["errors"] as? [String] == [], "\(outcome)")
        #expect(stdout.contains("hello from labsyncdemo with fxr 0.2-1"), "\(outcome)")
        let library = URL(fileURLWithPath: rLibrary).resolvingSymlinksInPath().path
        #expect(stdout.contains("fxr from \(library) "), "\(outcome)")
        #expect(outcome["results"] as? [String] == ["[1] \"0.2-1\""], "\(outcome)")

        let stopped = try serverAPI("DELETE", name, "kernels/\(id)", jar: jar)
        #expect(stopped.status == 204, "stopping the R kernel: \(stopped)")
    }

    // MARK: the scenario

    func run() throws {
        try write("host.yaml", hostSpec())
        try write("environments.yaml", environments())
        try write("hub.yaml", hubSpec(rKernel: true))
        let validate = try labsync("validate")
        try #require(validate.status == 0, "\(validate.stdoutText)\(validate.stderrText)")

        // 1. Apply the course hub.
        try apply("course hub")
        #expect(try curl(["-o", "/dev/null", "-w", "%{http_code}", "\(base)/hub/login"]).stdoutText == "200")
        // Only HTTPS on the port: plain HTTP gets no hub page.
        let plain = try Spawn.run(["curl", "-s", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}",
                                   "http://127.0.0.1:\(port)/hub/login"])
        #expect(plain.stdoutText != "200")
        // Homes are private.
        for name in ["alice", "bob", "carol", "dave"] {
            var info = stat()
            #expect(stat("/home/\(user(name))", &info) == 0 && info.st_mode & 0o777 == 0o700, "\(user(name))'s home")
        }

        // 2. A PAM user logs in through the form; their server starts; kernels.
        let bobJar = directory + "/bob.jar"
        #expect(try logIn(user("bob"), password: passwords["bob"]!, jar: bobJar) == 302)
        let lab = try curl(["-L", "-o", "/dev/null", "-w", "%{http_code} %{url_effective}", "--max-time", "90",
                            "\(base)/hub/spawn"], jar: bobJar)
        #expect(lab.stdoutText.hasPrefix("200"), "spawn: \(lab.stdoutText)\n\(tail(hubLog))")
        var specs: [String: [String: Any]] = [:]
        let started = waitUntil(timeout: 90) {
            specs = kernelSpecs(user("bob"), jar: bobJar) ?? [:]
            return !specs.isEmpty
        }
        #expect(started, "bob's server never answered\n\(tail(hubLog))")
        let kernels = specs.compactMapValues { $0["display_name"] as? String }
        #expect(kernels["ml"] == "Machine Learning (Python 3.11)", "\(kernels)")
        #expect(kernels["stats"] == "stats", "\(kernels)")
        // The R kernel beside the Python ones; bob runs it.
        #expect(kernels[Self.rEnvironment] == Self.rDisplayName, "\(kernels)")
        #expect(specs[Self.rEnvironment]?["language"] as? String == "R", "\(specs)")
        try runTheRKernel(user: user("bob"), jar: bobJar)

        // dave's server is started and then left idle, for the culler.
        let daveJar = directory + "/dave.jar"
        #expect(try logIn(user("dave"), password: passwords["dave"]!, jar: daveJar) == 302)
        _ = try curl(["-L", "-o", "/dev/null", "--max-time", "90", "\(base)/hub/spawn"], jar: daveJar)
        #expect(waitUntil(timeout: 60) { ((try? apiUser(user("dave")))?["servers"] as? [String: Any])?[""] != nil },
                "dave's server did not start")

        // 3. Converged: a second plan has nothing to do.
        let second = try labsync("plan", ["--detailed-exitcode"])
        #expect(second.status == 0, "second plan:\n\(second.stdoutText)\(second.stderrText)")
        #expect(try apiUser(user("alice"))?["admin"] as? Bool == true)

        // 3b. The R environment leaves `kernels`: its kernelspec goes, the
        // library stays, and the next plan has nothing to do.
        try write("hub.yaml", hubSpec())
        let unregistered = try apply("R kernel removed")
        #expect(unregistered.contains("unregister-kernel"), "\(unregistered)")
        var remaining: [String: [String: Any]] = [:]
        let gone = waitUntil(timeout: 60) {
            remaining = kernelSpecs(user("bob"), jar: bobJar) ?? [:]
            return remaining["ml"] != nil && remaining[Self.rEnvironment] == nil
        }
        #expect(gone, "bob's server still offers \(remaining.keys.sorted())")
        #expect(FileManager.default.fileExists(atPath: rLibrary + "/fxr/DESCRIPTION"), "the library must stay")
        let unchanged = try labsync("plan", ["--detailed-exitcode"])
        #expect(unchanged.status == 0, "plan after removing the R kernel:\n\(unchanged.stdoutText)\(unchanged.stderrText)")

        // 4. bob leaves, alice is no longer an admin.
        try write("hub.yaml", hubSpec(removeBob: true))
        try apply("remove bob, revoke alice")
        #expect(try logIn(user("bob"), password: passwords["bob"]!, jar: directory + "/bob2.jar") == 403)
        #expect(try apiUser(user("bob"))?["name"] == nil, "bob is still in the hub's database")
        #expect(try apiUser(user("alice"))?["admin"] as? Bool == false)
        let shadow = try String(contentsOfFile: "/etc/shadow", encoding: .utf8)
        #expect(shadow.split(separator: "\n").contains { $0.hasPrefix("\(user("bob")):!") }, "bob's account is locked")

        // 5a. A config that does not load (an authenticator that cannot be
        // imported) is refused before any restart: the running hub stays.
        try write("hub.yaml", try hubSpec(removeBob: true)
            + "  extraConfig: |\n    c.JupyterHub.authenticator_class = \"labsync_e2e_missing.Auth\"\n")
        let refused = try labsync("apply", ["--yes"])
        #expect(refused.status != 0, "a config that does not load must fail the apply")
        #expect((refused.stdoutText + refused.stderrText).contains("does not load"),
                "\(refused.stdoutText)\(refused.stderrText)")
        #expect(!(refused.stdoutText + refused.stderrText).contains("restart-hub JupyterHub/course-hub: done"))
        #expect(try curl(["-o", "/dev/null", "-w", "%{http_code}", "\(base)/hub/login"]).stdoutText == "200")

        // 5b. A config that loads but cannot run (the proxy cannot read the
        // certificate): the restart fails, the previous config comes back, the
        // host is reported degraded, the hub keeps answering.
        let broken = try hubSpec(removeBob: true)
            + "  extraConfig: |\n    c.JupyterHub.ssl_cert = \"/nonexistent/labsync-e2e.pem\"\n"
        try write("hub.yaml", broken)
        let degraded = try labsync("apply", ["--yes"])
        #expect(degraded.status != 0, "a broken config must fail the apply")
        #expect((degraded.stdoutText + degraded.stderrText).contains("DEGRADED"),
                "\(degraded.stdoutText)\(degraded.stderrText)")
        #expect(try curl(["-o", "/dev/null", "-w", "%{http_code}", "\(base)/hub/login"]).stdoutText == "200",
                "the previous config does not answer\n\(tail(hubLog))")

        // 6. GitLab: /hub/oauth_login sends the browser to GitLab with the client id.
        try write("hub.yaml", hubSpec(removeBob: true, gitlab: true))
        var outputs: [String] = []
        for format in ["text", "markdown", "json"] {
            let plan = try labsync("plan", ["--format", format])
            outputs.append(plan.stdoutText + plan.stderrText)
        }
        #expect(outputs[0].contains("(sensitive)"))
        let applied = try apply("gitlab")
        outputs.append(applied)
        let redirect = try curl(["-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "\(base)/hub/oauth_login"])
        #expect(redirect.stdoutText.hasPrefix("302 https://gitlab.example.org/oauth/authorize?"), "\(redirect.stdoutText)")
        #expect(redirect.stdoutText.contains("client_id=labsync-e2e-client"))
        // The secret: only in the 0600 root env file.
        var info = stat()
        #expect(stat("/etc/labsync/hub/secrets/oauth.env", &info) == 0 && info.st_mode & 0o777 == 0o600 && info.st_uid == 0)
        let grep = try Spawn.run(["grep", "-rlF", "--", secret, "/etc/labsync", "/var/lib/labsync", "/var/log/labsync",
                                  "/opt/labsync/hub", directory])
        #expect(grep.stdoutText.split(separator: "\n") == ["/etc/labsync/hub/secrets/oauth.env"], "\(grep.stdoutText)")
        for output in outputs { #expect(!output.contains(secret)) }
        let argvs = try Spawn.run(["/bin/sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '"])
        #expect(!argvs.stdoutText.contains(secret), "the secret is in a process's argv")

        // 7. The idle culler stopped dave's server (timeout 40s, every 10s).
        let culled = waitUntil(timeout: 120) {
            guard let dave = try? apiUser(user("dave")) else { return false }
            return (dave["servers"] as? [String: Any])?.isEmpty ?? false
        }
        #expect(culled, "dave's idle server was not culled\n\(tail(hubLog))")

        // 8. state: absent: nothing of the hub is left; the environments still work.
        try write("hub.yaml", hubSpec(removeBob: true, gitlab: true, absent: true))
        let removed = try apply("absent")
        #expect(!removed.contains("uninstall"), "removing the hub changed an environment:\n\(removed)")
        for path in ["/opt/labsync/hub", "/etc/labsync/hub", "/var/lib/labsync/hub", "/run/labsync/hub.pid",
                     "/etc/systemd/system/labsync-hub.service"] {
            #expect(!FileManager.default.fileExists(atPath: path), "\(path) is still there")
        }
        let processes = try Spawn.run(["/bin/sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '"])
        #expect(!processes.stdoutText.contains("/opt/labsync/hub/bin/"), "a hub process is still running")
        #expect(!processes.stdoutText.contains("/etc/labsync/hub/tls/"), "the proxy is still running")
        for env in ["ml", "stats"] {
            let python = "\(directory)/envs/\(env)/bin/python"
            let check = try Spawn.run([python, "-c", "import ipykernel; print('ok')"])
            #expect(check.stdoutText == "ok\n", "\(env): \(check.stderrText)")
        }
        let last = try labsync("plan", ["--detailed-exitcode"])
        #expect(last.status == 0, "\(last.stdoutText)\(last.stderrText)")
    }
}
