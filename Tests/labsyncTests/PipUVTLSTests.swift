// Issue 11 #18: `installer: uv` against a package index whose certificate
// chains to a CA that only the host's system store trusts (a TLS-inspecting
// proxy, a mirror with a private CA). uv trusts its own bundled roots unless
// told to use the system's; before labsync passed --system-certs this apply
// failed with `invalid peer certificate: UnknownIssuer`.
//
// Real parts: a CA and server certificate made by openssl (TestCA), the CA
// added to this machine's system store with update-ca-certificates (and
// removed again), scripts/index-server.py serving the scenario wheels over
// HTTPS on loopback, the real labsync binary, the loopback sshd, and the real
// uv, installed by ensure-uv from the wheelhouse `make deps` downloads.

import Foundation
import LabsyncTestSupport
import Testing

extension PipScenarios {
    @Suite(.serialized, .integration) struct UVSystemTrust {
        @Test(.timeLimit(.minutes(6))) func uvInstallsFromAnIndexOnlyTheSystemStoreTrusts() async throws {
            let uvWheels = LabsyncBinary.packageRoot.appendingPathComponent(".cache/wheelhouse/uv").path
            guard FileManager.default.fileExists(atPath: uvWheels + "/.done") else {
                throw SpawnError("no uv wheelhouse at \(uvWheels): run `make deps` first")
            }
            let w = try Workspace("uv-tls")
            defer { w.cleanUp() }
            let ca = try TestCA()
            defer { ca.remove() }

            // The scenario wheels as an installable index, served over HTTPS.
            let index = w.directory + "/index"
            let script = LabsyncBinary.packageRoot.appendingPathComponent("scripts/index-server.py").path
            try Spawn.check(["python3", script, "--write-wheel-index", index, w.wheels])
            let portFile = w.directory + "/port"
            let server = try Spawn.start(["python3", script, index, "--port-file", portFile,
                                          "--tls-cert", ca.serverCertificate, "--tls-key", ca.serverKey],
                                         stderrPath: w.directory + "/index.stderr")
            defer { server.stop() }
            var port: Int?
            for _ in 0..<500 where port == nil {
                port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0) }
                if port == nil { try await Task.sleep(for: .milliseconds(20)) }
            }
            let url = "https://127.0.0.1:\(try #require(port, "the index server did not start"))/simple/"

            // Before the CA is trusted, nothing on the host trusts the index: the
            // test's certificate really is private.
            let untrusted = try await Spawn.runAsync(["curl", "-sS", "-o", "/dev/null", url])
            #expect(untrusted.status != 0)
            try ca.trustSystemWide()
            defer { ca.untrustSystemWide() }
            let trusted = try await Spawn.runAsync(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", url])
            #expect(trusted.stdoutText == "200", "the system store should trust the test CA: \(trusted.stderrText)")

            // ensure-uv installs uv from the wheelhouse (the host's index); the
            // environment installs from the HTTPS index.
            try w.write("host.yaml", w.server.hostSpec(findLinks: uvWheels))
            try w.write("fast.yaml", """
                apiVersion: labsync/v1
                kind: PythonEnvironment
                metadata: {name: fast}
                spec:
                  host: loopback
                  root: \(w.root)
                  installer: uv
                  index: {url: "\(url)"}
                  packages: ["alpha==2.0", "gamma"]

                """)
            let first = try await w.plan()
            #expect(first.plan.summary.contains("install PythonEnvironment/fast [\"alpha==2.0\", \"gamma\"]"),
                    "\(first.plan.summary)")
            // Other checkouts' tests apply to this same machine: a run that finds
            // the host changed under it does nothing, and the next one replans.
            var applied = try await w.labsync("apply", ["--yes"])
            for _ in 0..<3 where (applied.stdoutText + applied.stderrText).contains("another run changed the host") {
                applied = try await w.labsync("apply", ["--yes"])
            }
            #expect(applied.status == 0, "\(applied.stdoutText)\n\(applied.stderrText)")
            #expect(!applied.stdoutText.contains("UnknownIssuer"), "\(applied.stdoutText)")
            #expect(w.packages("fast") == ["alpha": "2.0", "beta": "1.0", "gamma": "1.0"])
            #expect(try await w.plan().status == 0, "a second plan changes nothing")
        }
    }
}
