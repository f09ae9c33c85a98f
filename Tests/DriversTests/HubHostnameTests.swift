// Issue 11 #21: a hub on a host whose own hostname does not resolve must
// start. JupyterHub 5 waits for its public proxy (bound to every interface) at
// socket.gethostname(); the rendered config connects at loopback instead.
//
// The proof runs the REAL JupyterHub (the `.tools/hubcheck` venv `make deps`
// makes) and the REAL configurable-http-proxy with the config labsync renders,
// in a UTS namespace of its own (`unshare --uts`) whose hostname is
// `*.invalid`: no resolver knows it, and the machine's own name is untouched.

import Drivers
import Foundation
import LabsyncTestSupport
import Specs
import Testing

@Suite(.serialized) struct HubHostnameTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static var jupyterhub: String { root + "/.tools/hubcheck/bin/jupyterhub" }
    static var python: String { root + "/.tools/hubcheck/bin/python" }

    /// A PAM hub on `port`, over HTTPS with the given certificate files when
    /// there are some, with `extraConfig` appended to its config.
    static func hub(port: Int, extraConfig: String, https: (cert: String, key: String)? = nil) throws -> JupyterHubSpec {
        let listen = https.map {
            "https:\n    hostname: localhost\n    port: \(port)\n    certificate: {certFile: \($0.cert), keyFile: \($0.key)}"
        } ?? "port: \(port)"
        let yaml = """
            apiVersion: labsync/v1
            kind: Host
            metadata: {name: vm}
            spec: {address: 127.0.0.1, user: root, knownHostsFile: /k}
            ---
            apiVersion: labsync/v1
            kind: JupyterHub
            metadata: {name: h}
            spec:
              host: vm
              \(listen)
              authentication: {type: pam, admins: [alice]}
              extraConfig: |
            \(extraConfig.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))

            """
        return try HubConfigTests.loadHub(yaml)
    }

    /// The rendered config with labsync's host paths moved into `directory`
    /// (the secrets it reads at load time live there), so the test touches
    /// nothing of a real hub on this machine.
    static func configInDirectory(_ hub: JupyterHubSpec, _ directory: String, proxy: HubProxy = .node) throws -> String {
        for sub in ["secrets", "state"] {
            try FileManager.default.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true)
        }
        for name in ["proxy_auth_token", "api_token", "cookie_secret"] {
            try String(repeating: "0123456789abcdef", count: 4).write(toFile: directory + "/secrets/" + name,
                                                                       atomically: true, encoding: .utf8)
            chmod(directory + "/secrets/" + name, 0o600)
        }
        return HubConfig.render(hub, proxy: proxy)
            .replacing(HubLayout.secrets, with: directory + "/secrets")
            .replacing(HubLayout.state, with: directory + "/state")
    }

    /// Ports of its own for the hub and the proxy's API (the rendered 8081 and
    /// CHP's 8001 may be in use by a real hub or another test).
    static func isolatedPorts() throws -> (public: Int, extra: String) {
        let hubPort = try SSHServer.freePort(), apiPort = try SSHServer.freePort()
        return (try SSHServer.freePort(), """
            c.JupyterHub.hub_bind_url = "http://127.0.0.1:\(hubPort)"
            c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:\(apiPort)"
            """)
    }

    /// The hub's log once it says it runs, or that its proxy failed, or the hub
    /// exited, or after 180 s.
    static func waitForHub(_ hub: BackgroundProcess, log: String) async throws -> String {
        var text = ""
        let deadline = Date().addingTimeInterval(180)
        while Date() < deadline {
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if text.contains("JupyterHub is now running") || text.contains("Failed to start proxy") || !hub.isRunning {
                break
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        return text
    }

    /// Pure: the config carries the connect-at-loopback patch before anything
    /// from the spec, so extraConfig can still override it.
    @Test(.unit) func configConnectsAtLoopbackBeforeExtraConfig() throws {
        let config = HubConfig.render(try Self.hub(port: 8000, extraConfig: "c.Spawner.x = 1"))
        let patch = try #require(config.range(of: "_labsync_connect_at_loopback()\n"))
        let extra = try #require(config.range(of: "c.Spawner.x = 1"))
        #expect(patch.upperBound < extra.lowerBound)
        #expect(config.contains(#"c.JupyterHub.bind_url = "http://:8000""#))
    }

    /// JupyterHub's own loader and Server class: after loading the rendered
    /// config, the public URL's connect address is loopback, whatever
    /// gethostname() says.
    @Test(.integration) func loadedConfigMakesThePublicServerConnectAtLoopback() throws {
        let directory = try Spawn.makeTempDirectory(prefix: "hubname")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = try Self.configInDirectory(try Self.hub(port: 8000, extraConfig: "c.Spawner.x = 1"), directory)
        try config.write(toFile: directory + "/jupyterhub_config.py", atomically: true, encoding: .utf8)
        let probe = """
            import sys
            from jupyterhub.app import JupyterHub
            from jupyterhub.objects import Server
            app = JupyterHub()
            app.load_config_file(sys.argv[1])
            print(Server.from_url(app.config.JupyterHub.bind_url)._connect_ip)
            print(Server.from_url("http://10.1.2.3:80")._connect_ip)
            """
        let result = try Spawn.run(["unshare", "--uts", "--fork", "--kill-child", "/bin/sh", "-c",
                                    #"hostname labsync-no-such-host.invalid && exec "$0" "$@""#,
                                    Self.python, "-c", probe, directory + "/jupyterhub_config.py"])
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stdoutText == "127.0.0.1\n10.1.2.3\n", "\(result.stderrText)")
    }

    /// The real hub and proxy start and serve the login page with an
    /// unresolvable hostname (before the fix: "Failed to start proxy").
    @Test(.endToEnd, .timeLimit(.minutes(4))) func hubStartsWhenItsHostnameDoesNotResolve() async throws {
        let directory = try Spawn.makeTempDirectory(prefix: "hubname")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ports = try Self.isolatedPorts()
        let config = try Self.configInDirectory(try Self.hub(port: ports.public, extraConfig: ports.extra), directory)
        try config.write(toFile: directory + "/jupyterhub_config.py", atomically: true, encoding: .utf8)
        let log = directory + "/hub.log"
        let hub = try Spawn.start(["unshare", "--uts", "--fork", "--kill-child", "/bin/sh", "-c",
                                   #"hostname labsync-no-such-host.invalid && exec "$0" "$@""#,
                                   Self.jupyterhub, "-f", directory + "/jupyterhub_config.py"],
                                  env: ["NODE_PATH": HubLayout.nodePath], stdoutPath: log, stderrPath: log, cwd: directory)
        defer { hub.stop() }
        let text = try await Self.waitForHub(hub, log: log)
        #expect(text.contains("JupyterHub is now running"), "\(text.suffix(3000))")
        #expect(!text.contains("Failed to start proxy"))
        let login = try await Spawn.runAsync(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                              "http://127.0.0.1:\(ports.public)/hub/login"])
        #expect(login.stdoutText == "200", "\(login.stderrText)")
    }
}
