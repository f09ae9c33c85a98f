// The executor's hub phase and secrets: hub steps run after every environment,
// in action order; a secret is resolved only when the script is rendered and
// appears nowhere else.

import Drivers
import Foundation
import LabsyncTestSupport
import Reconciler
import Remote
import Specs
import Testing

@Suite(.unit) struct HubHostScriptTests {
    func step(_ action: StepKind, env: String? = nil, stdin: String? = nil,
              secrets: [String: SecretReference] = [:]) -> PlannedStep {
        PlannedStep(host: "vm", resource: env.map { "PythonEnvironment/\($0)" } ?? "JupyterHub/h", action: action,
                    reason: "r", commands: [RemoteCommand("echo", ["\(action.rawValue)"], stdin: stdin.map { Array($0.utf8) })],
                    environmentPath: env.map { "/envs/\($0)" } ?? (action == .installHub ? "/opt/labsync/hub" : nil),
                    secrets: secrets)
    }

    @Test func hubStepsRunAfterTheEnvironmentsInActionOrder() {
        let steps = [step(.restartHub), step(.registerKernel), step(.install, env: "ml"), step(.configureHub),
                     step(.installHub), step(.addUser), step(.ensureProxy), step(.removeUser)]
        let script = HostScript(steps: steps, nonce: "n", owner: "o").render()
        func position(_ action: StepKind) -> Int {
            script.range(of: "'echo' '\(action.rawValue)'")!.lowerBound.utf16Offset(in: script)
        }
        let waitAt = script.range(of: "wait\n", options: .backwards)!.lowerBound.utf16Offset(in: script)
        #expect(position(.ensureProxy) < position(.install))
        #expect(position(.installHub) < waitAt && position(.install) < waitAt)  // parallel groups
        let hubOrder: [StepKind] = [.addUser, .registerKernel, .configureHub, .restartHub, .removeUser]
        #expect(hubOrder.allSatisfy { position($0) > waitAt })
        #expect(hubOrder.map(position) == hubOrder.map(position).sorted())
    }

    @Test func secretsAreResolvedOnlyIntoTheScript() throws {
        let token = SecretToken.token("S")
        let s = step(.configureHub, stdin: "S='\(token)'\n", secrets: ["S": .fromEnv("LABSYNC_TEST_SECRET")])
        let values = try HostScript.resolveSecrets(for: [s], environment: ["LABSYNC_TEST_SECRET": "v4lue-42"])
        #expect(values == ["S": "v4lue-42"])
        let script = HostScript(steps: [s], nonce: "n", owner: "o", secretValues: values).render()
        #expect(script.contains("printf '%s' 'S='\\''v4lue-42'\\''\n' | 'echo' 'configure-hub'"))
        #expect(!script.contains(token))
        // The plan's views never see it.
        let plan = Plan(revision: nil, work: [s])
        for format in PlanFormat.allCases { #expect(!plan.rendered(as: format).contains("v4lue-42")) }
    }

    /// The fingerprint token becomes a fresh salted HMAC of the value, which the
    /// planner's checker recognises; the local checker reads fromEnv like apply.
    @Test func fingerprintTokenBecomesAnHMACOfTheValue() throws {
        let s = step(.configureHub, stdin: SecretToken.fingerprintToken("S") + "\n",
                     secrets: ["S": .fromEnv("LABSYNC_TEST_SECRET")])
        let script = HostScript(steps: [s], nonce: "n", owner: "o", secretValues: ["S": "v4lue-42"]).render()
        let line = try #require(script.firstMatch(of: #/hmac-sha256:[0-9a-f]{64}:[0-9a-f]{64}/#)).output
        #expect(!script.contains("v4lue-42") && !script.contains(SecretToken.fingerprintToken("S")))
        let checker = HostScript.localSecretChecker(environment: ["LABSYNC_TEST_SECRET": "v4lue-42"])
        #expect(checker.changed(.fromEnv("LABSYNC_TEST_SECRET"), observed: String(line)) == false)
        let rotated = HostScript.localSecretChecker(environment: ["LABSYNC_TEST_SECRET": "n3w-value"])
        #expect(rotated.changed(.fromEnv("LABSYNC_TEST_SECRET"), observed: String(line)) == true)
        #expect(HostScript.localSecretChecker(environment: [:]).changed(.fromEnv("LABSYNC_TEST_SECRET"),
                                                                        observed: String(line)) == nil)
    }

    @Test func missingOrUnsafeSecretsFailWithoutShowingTheValue() {
        let s = step(.configureHub, secrets: ["S": .fromEnv("LABSYNC_TEST_SECRET")])
        #expect(throws: HostScript.SecretError.self) { try HostScript.resolveSecrets(for: [s], environment: [:]) }
        do {
            _ = try HostScript.resolveSecrets(for: [s], environment: ["LABSYNC_TEST_SECRET": "it's secret"])
            Issue.record("a quote must be refused")
        } catch {
            #expect(error.kind == .unsafe)
            #expect(!error.message.contains("it's secret"))
        }
    }
}
