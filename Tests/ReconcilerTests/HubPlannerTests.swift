// The hub in the pure planner: converges, then follows the spec when users,
// admins and kernels change, and never shows the OAuth secret.

import Drivers
import Foundation
import LabsyncTestSupport
import Reconciler
import Remote
import Specs
import Testing

@Suite(.unit) struct HubPlannerTests {
    /// Applies plans to the in-memory world until nothing is left (at most 3 rounds).
    func converge(_ testCase: PlannerCase, _ world: inout [String: HostObservation]) {
        for _ in 0..<3 {
            let plan = testCase.plan(observations: world)
            if plan.isEmpty { return }
            for step in plan.work { apply(step, to: &world[step.host]!) }
        }
    }

    @Test func freshHubPlansEverythingInOrder() throws {
        let plan = try PlannerCase.load("hub-fresh").plan()
        let hubSteps = plan.steps.filter { $0.resource.hasPrefix("JupyterHub/") || $0.action == .ensureProxy }
        #expect(hubSteps.map(\.action) == [.ensureProxy, .installHub, .addUser, .addUser, .registerKernel,
                                           .createCertificate, .configureHub, .restartHub])
        // The kernel env gets ipykernel even though its spec does not list it.
        let install = try #require(plan.steps.first { $0.resource == "PythonEnvironment/ml" && $0.action == .install })
        #expect(install.packages.contains("ipykernel"))
    }

    /// Minimal images have no openssl, which the self-signed certificate needs:
    /// it comes with the hub's APT step, only when missing (test-distros found it).
    @Test func selfSignedCertificateBringsOpenSSLWhenMissing() throws {
        let testCase = try PlannerCase.load("hub-fresh")
        let before = testCase.plan()
        #expect(before.steps.first { $0.action == .ensureProxy }.map { !$0.packages.contains("openssl") } == true)
        var world = testCase.observations
        for host in world.keys {
            guard var hub = try? world[host]!.part(HubObservation.self, driver: "jupyterhub") else { continue }
            hub.openssl = false
            world[host]!.setPart(hub, driver: "jupyterhub")
        }
        let plan = testCase.plan(observations: world)
        let apt = try #require(plan.steps.first { $0.action == .ensureProxy })
        #expect(apt.packages.contains("openssl"), "\(apt.packages)")
        converge(testCase, &world)
        #expect(testCase.plan(observations: world).isEmpty)
    }

    /// Debian 11 packages no configurable-http-proxy: the hub venv gets the
    /// PyPI one (same pip call) and the config starts it through labsync's
    /// launcher; APT is asked only for what the release has.
    @Test func debian11RunsThePythonProxyFromTheHubVenv() throws {
        let testCase = try PlannerCase.load("hub-fresh")
        var world = testCase.observations
        world["vm"]!.os = .init(id: "debian", versionId: "11", prettyName: "Debian GNU/Linux 11 (bullseye)")
        let plan = testCase.plan(observations: world)
        // This host has python3-venv and openssl: nothing is left for APT.
        #expect(!plan.work.contains { $0.action == .ensureProxy }, "\(plan.work.map(\.action.name))")
        let install = try #require(plan.steps.first { $0.action == .installHub })
        #expect(install.packages.contains(HubProxy.pythonRequirement), "\(install.packages)")
        let configure = try #require(plan.work.first { $0.action == .configureHub })
        let config = String(decoding: configure.commands.last?.stdin ?? [], as: UTF8.self)
        #expect(config.contains("c.ConfigurableHTTPProxy.command = [\"/opt/labsync/hub/bin/python\", \"-c\", \"# labsync's launcher"))
        #expect(!config.contains("/usr/bin/configurable-http-proxy"))
        converge(testCase, &world)
        #expect(testCase.plan(observations: world).isEmpty)

        // The same hub on Debian 12: the Node proxy from APT, and no PyPI proxy.
        var bookworm = testCase.observations
        bookworm["vm"]!.os = .init(id: "debian", versionId: "12")
        let plan12 = testCase.plan(observations: bookworm)
        #expect(plan12.steps.first { $0.action == .ensureProxy }?.packages.contains("node-configurable-http-proxy") == true)
        #expect(plan12.steps.first { $0.action == .installHub }?.packages.contains(HubProxy.pythonRequirement) == false)
    }

    @Test func removedUserAndAdminFollowTheSpec() throws {
        var testCase = try PlannerCase.load("hub-fresh")
        var world = testCase.observations
        converge(testCase, &world)
        #expect(testCase.plan(observations: world).isEmpty)
        // The hub's database has the users who logged in.
        world["vm"]!.hub!.hubUsers = [.init(name: "alice", admin: true), .init(name: "bob", admin: false)]
        #expect(testCase.plan(observations: world).isEmpty)

        // bob leaves; alice stays a user but is no longer an admin.
        var hub = testCase.specs.hubs[0]
        hub.users.removeAll { $0.name.value == "bob" }
        hub.users = hub.users.map { var u = $0; u.admin = false; return u }
        hub.authentication.admins = []
        hub.authentication.allowedUsers = []
        testCase.specs.hubs = [hub]
        let plan = testCase.plan(observations: world)
        #expect(plan.steps.map(\.action) == [.configureHub, .restartHub, .removeUser])
        let remove = try #require(plan.work.last)
        #expect(remove.packages == ["bob"])
        #expect(Array(remove.commands[0].arguments.suffix(3)) == ["bob", "1", "lock"])
        let config = String(decoding: plan.work[0].commands.last!.stdin!, as: UTF8.self)
        #expect(config.contains(#"{"name": "admin", "users": []}"#))
        #expect(config.contains(#"c.Authenticator.allowed_users = {"alice"}"#))
    }

    @Test func adminMadeByHandIsRevokedByARestart() throws {
        let testCase = try PlannerCase.load("hub-fresh")
        var world = testCase.observations
        converge(testCase, &world)
        world["vm"]!.hub!.hubUsers = [.init(name: "alice", admin: true), .init(name: "bob", admin: true)]
        let plan = testCase.plan(observations: world)
        #expect(plan.steps.map(\.action) == [.restartHub])
        #expect(plan.steps[0].reason.contains("bob (admin, not in admins)"))
    }

    /// A new value behind fromEnv/fromFile plans configure-hub and a restart;
    /// the plan names the reference, never a value or the fingerprint.
    @Test func rotatedOAuthSecretIsDetected() throws {
        var testCase = try PlannerCase.load("hub-gitlab")
        var world = testCase.observations
        converge(testCase, &world)
        #expect(testCase.plan(observations: world).isEmpty)
        let fingerprint = try #require(world["vm"]!.hub!.oauthFingerprint)
        #expect(fingerprint.hasPrefix("hmac-sha256:") && !fingerprint.contains("world-secret"))

        let rotated = "rotated-\(UInt32.random(in: 1000...9999))"
        testCase.secrets = SecretChecker { _ in rotated }
        let plan = testCase.plan(observations: world)
        #expect(plan.steps.map(\.action) == [.configureHub, .restartHub])
        #expect(plan.steps[0].reason.contains("the OAuth client secret (fromEnv: GITLAB_CLIENT_SECRET) changed"))
        for format in PlanFormat.allCases {
            let text = plan.rendered(as: format)
            #expect(!text.contains(rotated) && !text.contains(fingerprint))
        }
        // Without the value here (a CI plan without the secret) nothing is claimed.
        testCase.secrets = .unavailable
        #expect(testCase.plan(observations: world).isEmpty)
        // A hub written before fingerprints existed gets one.
        world["vm"]!.hub!.oauthFingerprint = nil
        #expect(testCase.plan(observations: world).steps.first?.reason.contains("no fingerprint") == true)
    }

    @Test func secretFingerprintIsASaltedHMAC() {
        let salt: [UInt8] = Array(repeating: 7, count: 32)
        let line = SecretFingerprint.make("s3cret", salt: salt)
        #expect(line == "hmac-sha256:" + String(repeating: "07", count: 32) + ":"
                + hmacSHA256(key: salt, message: Array("s3cret".utf8)).map { String(format: "%02x", $0) }.joined())
        #expect(SecretFingerprint.matches(line, value: "s3cret") == true)
        #expect(SecretFingerprint.matches(line, value: "s3cret2") == false)
        #expect(SecretFingerprint.matches("sha1:zz:00", value: "s3cret") == nil)
        #expect(SecretFingerprint.fresh("s3cret") != SecretFingerprint.fresh("s3cret"), "a new salt every write")
    }

    @Test func oauthSecretIsOnlyAPlaceholder() throws {
        let plan = try PlannerCase.load("hub-gitlab").plan()
        let configure = try #require(plan.work.first { $0.action == .configureHub })
        #expect(configure.secrets == ["OAUTH_CLIENT_SECRET": .fromEnv("GITLAB_CLIENT_SECRET")])
        let stdin = configure.commands.compactMap(\.stdin).map { String(decoding: $0, as: UTF8.self) }
        #expect(stdin.contains("OAUTH_CLIENT_SECRET='\(SecretToken.token("OAUTH_CLIENT_SECRET"))'\n"))
        for format in PlanFormat.allCases {
            #expect(plan.rendered(as: format).contains("(sensitive)"))
        }
    }
}
