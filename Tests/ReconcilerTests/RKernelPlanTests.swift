// An R library named in a hub's `kernels`, through the real planner and the
// registry: the R driver offers IRkernel's command line, the hub registers it,
// and neither driver knows the other.

import Drivers
import Foundation
import LabsyncTestSupport
import Reconciler
import Specs
import Testing

@Suite(.unit) struct RKernelPlanTests {
    func specs(kernels: [String]) throws -> SpecSet {
        let dir = try GitFixture.makeTemporaryDirectory(prefix: "r-kernel")
        defer { GitFixture.removeTree(dir) }
        try """
            apiVersion: labsync/v1
            kind: Host
            metadata: {name: vm}
            spec: {address: 127.0.0.1, user: root}
            ---
            apiVersion: labsync/v1
            kind: REnvironment
            metadata: {name: stats}
            spec:
              host: vm
              repos: ["https://cran.example.org"]
              packages: ["fxr"]
              kernel: {displayName: "R (stats)"}
            ---
            apiVersion: labsync/v1
            kind: JupyterHub
            metadata: {name: hub}
            spec:
              host: vm
              authentication: {type: pam, allowedUsers: [alice]}
              kernels: [\(kernels.joined(separator: ", "))]
            """.write(to: dir.appendingPathComponent("specs.yaml"), atomically: true, encoding: .utf8)
        let loaded = SpecLoader().load(directory: dir)
        try #require(loaded.diagnostics.filter { $0.severity == .error }.isEmpty, "\(loaded.diagnostics)")
        return loaded.specs
    }

    /// Every argument and stdin of a step's commands, as text.
    func text(_ step: PlannedStep) -> String {
        step.commands.map { ($0.arguments + [$0.stdin.map { String(decoding: $0, as: UTF8.self) } ?? ""])
            .joined(separator: " ") }.joined(separator: "\n")
    }

    @Test func aHubKernelRegistersIRkernelWithTheLibraryOnRLibs() throws {
        // A host with python3 for the hub venv and nothing else (the hub's part as its fragment reports it).
        let hubPart = #"{"python3": "3.11.2", "python3Path": "/usr/bin/python3", "python3Venv": true}"#
        let observed = ["vm": HostObservation(os: .init(id: "debian", versionId: "12"),
                                              drivers: ["jupyterhub": try JSONDecoder().decode(JSONValue.self, from: Data(hubPart.utf8))])]
        let plan = makePlan(specs: try specs(kernels: ["stats"]), observations: observed, revision: nil, prune: false)
        let ensure = try #require(plan.steps.first { $0.action.name == "ensure-r" })
        #expect(ensure.packages.contains("r-cran-irkernel"))
        let register = try #require(plan.work.first { $0.action.name == "register-kernel" })
        let registered = text(register)
        #expect(registered.contains(#""argv": ["/usr/bin/R", "--slave", "-e", "IRkernel::main()", "--args", "{connection_file}"]"#),
                "\(registered)")
        #expect(registered.contains(#""R_LIBS": "/opt/labsync/r/stats:/usr/lib/R/site-library""#), "\(registered)")
        #expect(registered.contains(#""language": "R""#))
        #expect(registered.contains(#""display_name": "R (stats)""#))
        // The library's own steps run (resources phase) before the hub registers its kernel.
        let install = try #require(plan.work.first { $0.resource == "REnvironment/stats" && $0.action.name == "install" })
        #expect(install.action.phase < register.action.phase)

        // Without the kernel, no IRkernel and no registration.
        let without = makePlan(specs: try specs(kernels: []), observations: observed, revision: nil, prune: false)
        #expect(!without.steps.contains { $0.action.name == "register-kernel" })
        #expect(without.steps.first { $0.action.name == "ensure-r" }?.packages.contains("r-cran-irkernel") == false)
    }
}
