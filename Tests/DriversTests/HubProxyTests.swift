// Issue 11 #22: Debian 11 packages no configurable-http-proxy, so a hub there
// runs the pure-Python port from PyPI through labsync's launcher
// (Scripts/hub_proxy.py), which adds the TLS the port lacks and the
// X-Forwarded-Proto it gets wrong. Both proxies a hub can run are held to one
// contract (scripts/proxy-contract.py: the REST API and its token, TLS only,
// X-Forwarded-Proto https, websockets, route removal), run against the real
// processes: Debian's Node proxy (`make deps` installs it) and the launcher
// with the PyPI port from the `.tools/hubcheck` venv. The real JupyterHub then
// starts behind the launcher with the config labsync renders for Debian 11.
// The same hub on a Debian 11 host, through labsync over SSH, is
// `scripts/test-distros.sh bullseye`.

import Drivers
import Foundation
import LabsyncTestSupport
import Specs
import Testing

@Suite(.serialized) struct HubProxyTests {
    static var root: String { HubHostnameTests.root }
    static var python: String { HubHostnameTests.python }

    /// The command the rendered config gives JupyterHub, with the hub venv's
    /// python swapped for the hubcheck venv's (which has the PyPI port).
    static func command(_ proxy: HubProxy) -> [String] {
        proxy.command.map { $0 == HubLayout.python ? python : $0 }
    }

    @Test(.integration, arguments: [HubProxy.node, .python])
    func meetsTheContractJupyterHubNeeds(_ proxy: HubProxy) async throws {
        let result = try await Spawn.runAsync([Self.python, Self.root + "/scripts/proxy-contract.py", "--"]
                                                  + Self.command(proxy),
                                              env: ["NODE_PATH": HubLayout.nodePath], timeout: 120)
        #expect(result.status == 0, "\(result.stdoutText)\(result.stderrText)")
        #expect(result.stdoutText.hasSuffix("contract: ok\n"), "\(result.stdoutText)")
    }

    /// Options labsync never configures (host routing, internal SSL) are refused,
    /// not ignored: the hub then reports that its proxy failed to start.
    @Test(.integration) func launcherRefusesOptionsItDoesNotImplement() async throws {
        let result = try await Spawn.runAsync(Self.command(.python) + ["--port", "1", "--host-routing"])
        #expect(result.status == 2, "\(result.stdoutText)\(result.stderrText)")
        #expect(result.stderrText.contains("unrecognized arguments: --host-routing"), "\(result.stderrText)")
    }

    /// The real JupyterHub, with the HTTPS config labsync renders for a Debian
    /// 11 host, starts the launcher and serves its login page through it.
    @Test(.endToEnd, .timeLimit(.minutes(4))) func realHubServesItsLoginThroughThePythonProxy() async throws {
        let directory = try Spawn.makeTempDirectory(prefix: "hubproxy")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cert = try Spawn.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                                  "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                                  "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem"])
        #expect(cert.status == 0, "\(cert.stderrText)")
        let ports = try HubHostnameTests.isolatedPorts()
        let hub = try HubHostnameTests.hub(port: ports.public, extraConfig: ports.extra,
                                           https: (directory + "/cert.pem", directory + "/key.pem"))
        let config = try HubHostnameTests.configInDirectory(hub, directory, proxy: .python)
            .replacing("\"\(HubLayout.python)\", \"-c\"", with: "\"\(Self.python)\", \"-c\"")
        #expect(config.contains("\"\(Self.python)\", \"-c\", \"# labsync's launcher"))
        try config.write(toFile: directory + "/jupyterhub_config.py", atomically: true, encoding: .utf8)
        let log = directory + "/hub.log"
        let process = try Spawn.start([HubHostnameTests.jupyterhub, "-f", directory + "/jupyterhub_config.py"],
                                      stdoutPath: log, stderrPath: log, cwd: directory)
        defer { process.stop() }
        let text = try await HubHostnameTests.waitForHub(process, log: log)
        #expect(text.contains("labsync proxy: https://"), "\(text.suffix(3000))")
        #expect(text.contains("JupyterHub is now running"), "\(text.suffix(3000))")
        let login = try await Spawn.runAsync(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                              "--cacert", directory + "/cert.pem", "--resolve",
                                              "localhost:\(ports.public):127.0.0.1",
                                              "https://localhost:\(ports.public)/hub/login"])
        #expect(login.stdoutText == "200", "\(login.stderrText)")
    }
}
