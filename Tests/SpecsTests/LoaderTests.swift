import Foundation
import LabsyncTestSupport
import Testing
@testable import Specs

/// A throwaway repository on disk: files by relative path.
struct TempRepo {
    let root: URL
    init(_ files: [String: String]) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("labsync-specs-\(UUID().uuidString)")
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
    }
    func load() -> LoadResult { SpecLoader().load(directory: root) }
    func remove() { try? FileManager.default.removeItem(at: root) }
}

let hostDoc = """
    apiVersion: labsync/v1
    kind: Host
    metadata: {name: vm, labels: {course: ml101}}
    spec: {address: 127.0.0.1, user: debian}

    """

func errors(_ result: LoadResult) -> [String] { result.diagnostics.map(\.description) }

@Suite(.unit) struct LoaderTests {
    @Test func validRepositoryLoadsEveryKindAcrossFilesAndDocuments() throws {
        let repo = try TempRepo([
            "hosts.yaml": hostDoc,
            "envs/ml.yml": """
                apiVersion: labsync/v1
                kind: PythonEnvironment
                metadata: {name: ml}
                spec:
                  hostSelector: {matchLabels: {course: ml101}}
                  packages: ["numpy>=2", "requests[socks]>=2; python_version >= \\"3.8\\""]
                  kernel: {displayName: "ML"}
                ---
                apiVersion: labsync/v1
                kind: JupyterHub
                metadata: {name: hub}
                spec:
                  host: vm
                  authentication: {type: pam, admins: [alice]}
                  users: [{name: alice}, {name: bob, passwordHash: "$6$salt$hash"}]
                  kernels: [ml]
                  idleCulling: {timeout: 1h, every: 10m}
                  https: {selfSigned: true, hostname: hub.example.org}
                """,
        ])
        defer { repo.remove() }
        let result = repo.load()
        #expect(errors(result) == [])
        #expect(result.specs.summary == "1 host, 1 environment, 1 hub")
        let env = try #require(result.specs.environments.first)
        #expect(result.specs.hosts(for: env).map(\.name) == ["vm"])
        #expect(env.path == "/opt/labsync/envs/ml")
        #expect(env.requirements.map(\.value.normalizedName) == ["numpy", "requests"])
        let hub = try #require(result.specs.hubs.first)
        #expect(hub.idleCulling == IdleCulling(timeoutSeconds: 3600, everySeconds: 600, maxAgeSeconds: nil))
        #expect(hub.homeDirectoryMode == "0700")
        #expect(hub.https?.port == 443)
    }

    /// YAML 1.1 would read `no`/`on` as booleans and `3.10` as the float 3.1.
    @Test func plainScalarsKeepTheirText() throws {
        let repo = try TempRepo([
            "a.yaml": """
                apiVersion: labsync/v1
                kind: Host
                metadata: {name: vm}
                spec: {address: 127.0.0.1, user: no}
                ---
                apiVersion: labsync/v1
                kind: PythonEnvironment
                metadata: {name: e}
                spec: {host: vm, python: 3.10}
                ---
                apiVersion: labsync/v1
                kind: JupyterHub
                metadata: {name: h}
                spec:
                  host: vm
                  authentication: {type: pam}
                  users: [{name: on}]
                  homeDirectoryMode: 0750
                """,
        ])
        defer { repo.remove() }
        let result = repo.load()
        #expect(errors(result) == [])
        #expect(result.specs.hosts.first?.user == "no")
        #expect(result.specs.environments.first?.python == .minor(10))
        #expect(result.specs.hubs.first?.users.first?.name.value == "on")
        #expect(result.specs.hubs.first?.homeDirectoryMode == "0750")
    }

    @Test func everyErrorIsReportedWithItsPositionInOrder() throws {
        let repo = try TempRepo([
            "b.yaml": """
                apiVersion: labsync/v1
                kind: PythonEnvironment
                metadata: {name: ml}
                spec:
                  host: nowhere
                  packages: ["numpy; rm -rf /", "-e .", "pkg @ https://x/y.whl", "--index-url x"]
                """,
            "a.yaml": hostDoc + """
                ---
                apiVersion: labsync/v1
                kind: Host
                metadata: {name: vm}
                spec:
                  address: 10.0.0.1
                  user: Bob!
                  port: abc
                  colour: red
                """,
        ])
        defer { repo.remove() }
        let result = repo.load()
        #expect(!result.isValid)
        let lines = errors(result)
        #expect(lines.count == 9, "\(lines)")
        #expect(lines.first?.hasPrefix("a.yaml:8:18: error: duplicate Host name 'vm'") == true, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("a.yaml:11:9: error: spec.user: 'Bob!' is not a valid user name") })
        #expect(lines.contains("a.yaml:12:9: error: spec.port must be an integer from 1 to 65535, found 'abc'"))
        #expect(lines.contains("a.yaml:13:3: error: unknown field 'spec.colour'"))
        #expect(lines.contains("b.yaml:5:9: error: spec.host 'nowhere' names no Host"))
        #expect(lines.filter { $0.hasPrefix("b.yaml:6:") }.count == 4)
        #expect(lines == lines.sorted { a, b in
            let pa = a.split(separator: ":"), pb = b.split(separator: ":")
            return (String(pa[0]), Int(pa[1])!, Int(pa[2])!) <= (String(pb[0]), Int(pb[1])!, Int(pb[2])!)
        })
    }

    @Test func secretsMustBeReferencesAndAreNeverEchoed() throws {
        let repo = try TempRepo([
            "a.yaml": hostDoc + """
                ---
                apiVersion: labsync/v1
                kind: JupyterHub
                metadata: {name: h}
                spec:
                  host: vm
                  authentication:
                    type: gitlab
                    gitlab: {url: "https://gitlab.example.org", clientId: abc, clientSecret: hunter2-very-secret}
                """,
        ])
        defer { repo.remove() }
        let lines = errors(repo.load())
        #expect(lines.count == 1)
        #expect(lines.first?.contains("clientSecret must be a reference") == true)
        #expect(lines.first?.contains("hunter2") == false)
    }

    @Test func aliasBombIsRefusedWithoutExpandingIt() throws {
        var bomb = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in 1...9 { bomb += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 9).joined(separator: ", ") + "]\n" }
        let repo = try TempRepo(["bomb.yaml": bomb, "deep.yaml": String(repeating: "[", count: 2000)])
        defer { repo.remove() }
        let lines = errors(repo.load())
        #expect(lines.contains { $0.hasPrefix("bomb.yaml:") && $0.contains("alias bomb") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("deep.yaml:") && $0.contains("nesting") }, "\(lines)")
    }

    @Test func oversizedFileIsRefused() throws {
        let repo = try TempRepo(["big.yaml": "# " + String(repeating: "x", count: 1 << 20) + "\n"])
        defer { repo.remove() }
        #expect(errors(repo.load()).first?.contains("larger than") == true)
    }

    @Test func requirementsFileMergesAndStaysInsideTheRepository() throws {
        let env = { (file: String) in """
            ---
            apiVersion: labsync/v1
            kind: PythonEnvironment
            metadata: {name: ml}
            spec: {host: vm, packages: [numpy], requirementsFile: \(file)}
            """ }
        let repo = try TempRepo([
            "a.yaml": hostDoc + env("reqs/ml.txt"),
            "reqs/ml.txt": "# comment\npandas==2.2.3  # pinned\n\n  scipy\n",
        ])
        defer { repo.remove() }
        let result = repo.load()
        #expect(errors(result) == [])
        #expect(result.specs.environments.first?.requirements.map(\.value.normalizedName) == ["numpy", "pandas", "scipy"])
        #expect(result.specs.environments.first?.requirements.last?.location.description == "reqs/ml.txt:4:3")

        let bad = try TempRepo([
            "a.yaml": hostDoc + env("reqs/ml.txt"),
            "reqs/ml.txt": "numpy\n--index-url http://evil.example\n",
        ])
        defer { bad.remove() }
        let lines = errors(bad.load())
        #expect(lines.contains { $0.hasPrefix("reqs/ml.txt:1:1:") && $0.contains("more than once") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("reqs/ml.txt:2:1: error:") }, "\(lines)")
    }

    @Test func symlinksLeavingTheRepositoryAreNotRead() throws {
        let outside = try TempRepo(["secret.txt": "numpy\n", "x.yaml": hostDoc])
        defer { outside.remove() }
        let repo = try TempRepo([
            "a.yaml": hostDoc + """
                ---
                apiVersion: labsync/v1
                kind: PythonEnvironment
                metadata: {name: ml}
                spec: {host: vm, requirementsFile: reqs.txt}
                """,
        ])
        defer { repo.remove() }
        try FileManager.default.createSymbolicLink(
            atPath: repo.root.appendingPathComponent("reqs.txt").path,
            withDestinationPath: outside.root.appendingPathComponent("secret.txt").path)
        try FileManager.default.createSymbolicLink(
            atPath: repo.root.appendingPathComponent("linked.yaml").path,
            withDestinationPath: outside.root.appendingPathComponent("x.yaml").path)
        let lines = errors(repo.load())
        #expect(lines.contains { $0.hasPrefix("a.yaml:9:") && $0.contains("outside the repository") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("linked.yaml:1:1:") && $0.contains("outside the repository") }, "\(lines)")
    }

    @Test func referencesMustResolve() throws {
        let repo = try TempRepo([
            "a.yaml": hostDoc + """
                ---
                apiVersion: labsync/v1
                kind: PythonEnvironment
                metadata: {name: fleet}
                spec: {hostSelector: {matchLabels: {course: nope}}}
                ---
                apiVersion: labsync/v1
                kind: JupyterHub
                metadata: {name: h}
                spec:
                  host: vm
                  authentication: {type: pam}
                  kernels: [fleet, ghost]
                """,
        ])
        defer { repo.remove() }
        let lines = errors(repo.load())
        #expect(lines.contains { $0.hasPrefix("a.yaml:9:") && $0.contains("matches no Host") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("a.yaml:17:13:") && $0.contains("'fleet' names no PythonEnvironment or REnvironment on host 'vm'") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("a.yaml:17:20:") && $0.contains("'ghost'") }, "\(lines)")
    }
}

@Suite(.unit) struct RulesTests {
    @Test(arguments: [("1h", 3600), ("10m", 600), ("1h30m", 5400), ("90", 90), ("2d", 172_800)])
    func durations(text: String, seconds: Int) { #expect(Rules.parseDuration(text) == seconds) }

    @Test(arguments: ["", "h", "1x", "1h30", "-5m", "1.5h", "99999999999999999999d"])
    func badDurations(text: String) { #expect(Rules.parseDuration(text) == nil) }

    @Test func paths() {
        #expect(Rules.checkAbsolutePath("/opt/labsync/envs") == nil)
        for bad in ["opt/x", "/opt/../etc", "/opt//x", "/opt/./x", "/opt/x/", "/opt/x\ny"] {
            #expect(Rules.checkAbsolutePath(bad) != nil, "\(bad)")
        }
        #expect(Rules.checkRepositoryPath("reqs/ml.txt") == nil)
        for bad in ["../x", "a/../../x", "/etc/passwd", "~/x", "a//b", "./a"] {
            #expect(Rules.checkRepositoryPath(bad) != nil, "\(bad)")
        }
    }

    @Test func names() {
        #expect(Rules.checkName("ml-101") == nil)
        for bad in ["", "-a", "a-", "A", "a_b", String(repeating: "a", count: 64), "a.b"] {
            #expect(Rules.checkName(bad) != nil, "\(bad)")
        }
        #expect(Rules.checkPOSIXUser("bob") == nil)
        #expect(Rules.checkPOSIXUser("_x1-y") != nil)  // leading '_' reserved for system accounts
        for bad in ["root", "daemon", "www-data", "systemd-network", "Bob", "1bob", "bob;rm", String(repeating: "a", count: 33)] {
            #expect(Rules.checkPOSIXUser(bad) != nil, "\(bad)")
        }
        #expect(Rules.checkPOSIXUser("root", allowSystem: true) == nil)
    }
}

@Suite(.unit) struct REnvironmentLoaderTests {
    let rEnv = """
        ---
        apiVersion: labsync/v1
        kind: REnvironment
        metadata: {name: stats}
        spec:
          host: vm
          r: system
          repos: ["https://cloud.r-project.org", "file:///srv/cran"]
          packages: ["data.table (>= 1.14.8)", "ggplot2", "fxr (== 0.2-1)"]
          unmanaged: remove
          kernel: {displayName: "R (stats)"}
        ---
        apiVersion: labsync/v1
        kind: JupyterHub
        metadata: {name: hub}
        spec:
          host: vm
          authentication: {type: pam}
          kernels: [stats]
        """

    @Test func loadsWithDefaultsAndServesAsHubKernel() throws {
        let repo = try TempRepo(["a.yaml": hostDoc + rEnv])
        defer { repo.remove() }
        let result = repo.load()
        #expect(errors(result) == [])
        #expect(result.specs.summary == "1 host, 0 environments, 1 R environment, 1 hub")
        let env = try #require(result.specs.rEnvironments.first)
        #expect(env.path == "/opt/labsync/r/stats")
        #expect(env.r == .system && env.state == .present && env.unmanaged == .remove)
        #expect(env.repos.map(\.value) == ["https://cloud.r-project.org", "file:///srv/cran"])
        #expect(env.packages.map(\.value.description) == ["data.table (>= 1.14.8)", "ggplot2", "fxr (== 0.2-1)"])
        #expect(env.packages[2].location.description == "a.yaml:13:51")
        #expect(env.kernel?.displayName == "R (stats)")
        #expect(result.specs.hosts(for: env).map(\.name) == ["vm"])
    }

    @Test func refusesBadFieldsAtTheirPosition() throws {
        let repo = try TempRepo(["a.yaml": hostDoc + """
            ---
            apiVersion: labsync/v1
            kind: REnvironment
            metadata: {name: stats}
            spec:
              hostSelector: {matchLabels: {course: ml101}}
              r: "4.3"
              root: opt/r
              repos: ["ftp://mirror", "https://ok"]
              packages:
                - fxr
                - r-lib/remotes
                - fxr (>= 1)
              unmanaged: purge
            ---
            apiVersion: labsync/v1
            kind: REnvironment
            metadata: {name: empty}
            spec: {host: vm, repos: []}
            ---
            apiVersion: labsync/v1
            kind: REnvironment
            metadata: {name: norepo}
            spec: {host: vm}
            """])
        defer { repo.remove() }
        let lines = errors(repo.load())
        for (at, text) in [
            ("a.yaml:11:6:", "spec.r must be one of system"), ("a.yaml:12:9:", "spec.root"),
            ("a.yaml:13:11:", "ftp://mirror"), ("a.yaml:16:7:", "remotes-style"),
            ("a.yaml:17:7:", "'fxr' is listed more than once"), ("a.yaml:18:14:", "spec.unmanaged"),
            ("a.yaml:23:25:", "at least one"), ("a.yaml:28:1:", "spec.repos is required"),
        ] {
            #expect(lines.contains { $0.hasPrefix(at) && $0.contains(text) }, "\(at) \(text) in \(lines)")
        }
        #expect(lines.count == 8, "\(lines)")
    }

    @Test func oneNameMustNotMeanTwoEnvironments() throws {
        let repo = try TempRepo(["a.yaml": hostDoc + rEnv + """

            ---
            apiVersion: labsync/v1
            kind: PythonEnvironment
            metadata: {name: stats}
            spec: {host: vm}
            """])
        defer { repo.remove() }
        let lines = errors(repo.load())
        #expect(lines.count == 1 && lines[0].hasPrefix("a.yaml:8:18:") && lines[0].contains("has the name of PythonEnvironment"), "\(lines)")
    }
}
