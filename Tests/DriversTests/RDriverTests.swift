// The R driver: pure plans from specs and a made-up observation (unit), its
// observe fragment and its scripts run for real against real R and the CRAN
// fixture (integration).

import Drivers
import Foundation
import LabsyncTestSupport
import Remote
import Specs
import Testing

/// Specs from YAML text (a Host `vm` plus `documents`), loaded as labsync loads them.
private func rSpecs(_ documents: String) throws -> SpecSet {
    let dir = try GitFixture.makeTemporaryDirectory(prefix: "r-driver")
    defer { GitFixture.removeTree(dir) }
    try ("""
        apiVersion: labsync/v1
        kind: Host
        metadata: {name: vm}
        spec: {address: 127.0.0.1, user: root}
        ---

        """ + documents).write(to: dir.appendingPathComponent("specs.yaml"), atomically: true, encoding: .utf8)
    let loaded = SpecLoader().load(directory: dir)
    try #require(loaded.diagnostics.filter { $0.severity == .error }.isEmpty, "\(loaded.diagnostics)")
    return loaded.specs
}

private func library(_ name: String, packages: [String], extra: [String] = []) -> String {
    """
    apiVersion: labsync/v1
    kind: REnvironment
    metadata: {name: \(name)}
    spec:
      host: vm
      root: /srv/r
      repos: ["https://cran.example.org"]
      packages: [\(packages.map { "\"\($0)\"" }.joined(separator: ", "))]
    \(extra.map { "  " + $0 + "\n" }.joined())
    """
}

/// A host with R 4.2.2, its build tools and remotes, and nothing else.
private func readyHost(_ libraries: [RLibraryObservation] = []) -> RObservation {
    RObservation(r: "4.2.2", rHome: "/usr/lib/R", rBinary: "/usr/bin/R", systemPackages: ["remotes": "2.4.2"],
                 buildTools: RDriver.buildTools, libraries: libraries)
}

private func plan(_ specs: SpecSet, _ observed: RObservation?, hooks: HookInputs = HookInputs(),
                  prune: Bool = false) -> DriverResult {
    RDriver().plan(HostContext(host: specs.hosts[0], specs: specs, prune: prune), observed: observed, hooks: hooks)
}

private func summary(_ result: DriverResult) -> [String] {
    result.steps.map { "\($0.action.name) \($0.resource) \($0.packages)" }
}

@Suite(.unit) struct RDriverPlanTests {
    @Test func aFreshHostGetsRThenTheLibraryThenOneInstall() throws {
        let specs = try rSpecs(library("stats", packages: ["fxr (== 0.2-1)", "labsyncdemo"]))
        let result = plan(specs, RObservation())
        #expect(summary(result) == [
            "ensure-r Host/vm [\"r-base-core\", \"r-base-dev\", \"r-cran-remotes\"]",
            "create-library REnvironment/stats []",
            "install REnvironment/stats [\"fxr (== 0.2-1)\", \"labsyncdemo\"]",
        ])
        #expect(result.steps[0].action.phase == .hostWide)
        let install = result.steps[2]
        #expect(install.environmentPath == "/srv/r/stats")
        #expect(install.markerPath == "/srv/r/stats/.labsync.json")
        #expect(install.markerAfter?.packages == ["fxr (== 0.2-1)", "labsyncdemo"])
        // Names and versions are arguments after the fixed script, never inside it.
        let args = install.commands[0].arguments
        #expect(args[0] == "-c" && args[1].contains("commandArgs(trailingOnly = TRUE)"))
        #expect(Array(args[2...]) == ["labsync-r-install", "/srv/r/stats", "https://cran.example.org", "--",
                                      "fxr == 0.2-1", "labsyncdemo"])
    }

    @Test func aConvergedLibraryPlansNothing() throws {
        let specs = try rSpecs(library("stats", packages: ["fxr (== 0.2-1)", "labsyncdemo"]))
        let lib = RLibraryObservation(path: "/srv/r/stats", packages: [
            RPackage(name: "fxr", version: "0.2-1"), RPackage(name: "labsyncdemo", version: "1.0", requires: ["fxr"]),
        ], marker: LabsyncMarker(spec: "stats", packages: ["fxr (== 0.2-1)", "labsyncdemo"], python: "4.2.2"))
        let result = plan(specs, readyHost([lib]))
        #expect(result == DriverResult(), "\(summary(result))")
    }

    @Test func aChangedPinIsExactlyOneInstall() throws {
        let specs = try rSpecs(library("stats", packages: ["fxr (== 0.3-0)"]))
        let lib = RLibraryObservation(path: "/srv/r/stats", packages: [RPackage(name: "fxr", version: "0.2-1")],
                                      marker: LabsyncMarker(spec: "stats", packages: ["fxr (== 0.2-1)"], python: "4.2.2"))
        let result = plan(specs, readyHost([lib]))
        #expect(summary(result) == ["install REnvironment/stats [\"fxr (== 0.3-0)\"]"])
        #expect(result.steps[0].reason == "fxr 0.2-1 does not satisfy == 0.3-0")
        #expect(result.drift.isEmpty, "the spec changed, not the host")
    }

    @Test func rVersionsCompareAsRDoes() throws {
        // 0.3.0 is 0.3-0 for R: satisfied, nothing to do.
        let specs = try rSpecs(library("stats", packages: ["fxr (>= 0.3-0)"]))
        let lib = RLibraryObservation(path: "/srv/r/stats", packages: [RPackage(name: "fxr", version: "0.3.0")],
                                      marker: LabsyncMarker(spec: "stats", packages: ["fxr (>= 0.3-0)"], python: "4.2.2"))
        #expect(plan(specs, readyHost([lib])).steps.isEmpty)
    }

    @Test func handChangesAreDriftReportedOrRemoved() throws {
        let lib = RLibraryObservation(path: "/srv/r/stats", packages: [
            RPackage(name: "labsyncdemo", version: "1.0", requires: ["fxr"]), RPackage(name: "extra", version: "2.0"),
            RPackage(name: "fxr", version: "0.3-0"),
        ], marker: LabsyncMarker(spec: "stats", packages: ["labsyncdemo", "gone"], python: "4.2.2"))
        let reported = plan(try rSpecs(library("stats", packages: ["labsyncdemo"])), readyHost([lib]))
        #expect(reported.steps.isEmpty, "fxr is labsyncdemo's dependency; extra is only reported")
        #expect(reported.drift.map { "\($0.kind.rawValue) \($0.package)" } == ["extra-package extra"])

        let removed = plan(try rSpecs(library("stats", packages: ["labsyncdemo"], extra: ["unmanaged: remove"])),
                           readyHost([lib]))
        #expect(summary(removed) == ["uninstall REnvironment/stats [\"extra\"]"])
        #expect(removed.steps[0].commands[0].arguments == ["CMD", "REMOVE", "-l", "/srv/r/stats", "extra"])

        var missing = lib
        missing.packages.removeAll { $0.name == "labsyncdemo" }
        let reinstall = plan(try rSpecs(library("stats", packages: ["labsyncdemo"], extra: ["unmanaged: keep"])),
                             readyHost([missing]))
        #expect(summary(reinstall) == ["install REnvironment/stats [\"labsyncdemo\"]"])
        #expect(reinstall.drift.map { "\($0.kind.rawValue) \($0.package)" } == ["missing-package labsyncdemo"])
    }

    @Test func packagesThatLeftTheSpecAreUninstalledButNotWhatOthersNeed() throws {
        let lib = RLibraryObservation(path: "/srv/r/stats", packages: [
            RPackage(name: "labsyncdemo", version: "1.0", requires: ["fxr"]), RPackage(name: "fxr", version: "0.3-0"),
            RPackage(name: "other", version: "1.0"),
        ], marker: LabsyncMarker(spec: "stats", packages: ["labsyncdemo", "fxr", "other"], python: "4.2.2"))
        let result = plan(try rSpecs(library("stats", packages: ["labsyncdemo"], extra: ["unmanaged: keep"])),
                          readyHost([lib]))
        #expect(summary(result) == ["uninstall REnvironment/stats [\"other\"]"])
        #expect(result.steps[0].markerAfter?.packages == ["labsyncdemo", "fxr"])
    }

    @Test func absentRemovesOnlyAMarkedLibraryAndUnmarkedOnesAreListed() throws {
        let specs = try rSpecs(library("stats", packages: [], extra: ["state: absent"]))
        let marked = RLibraryObservation(path: "/srv/r/stats", marker: LabsyncMarker(spec: "stats", packages: [], python: "4.2.2"))
        let hand = RLibraryObservation(path: "/srv/r/hand", packages: [RPackage(name: "fxr", version: "0.3-0")])
        let result = plan(specs, readyHost([marked, hand]))
        #expect(summary(result) == ["remove-library REnvironment/stats []"])
        #expect(result.unmanaged.map { "\($0.kind) \($0.path)" } == ["unmarked /srv/r/hand"])
        let unmarked = plan(specs, readyHost([RLibraryObservation(path: "/srv/r/stats")]))
        #expect(unmarked.steps.isEmpty)
        #expect(unmarked.unmanaged.map { "\($0.kind) \($0.path)" } == ["unmarked /srv/r/stats"])
        // --prune removes marked orphans, never hand-made libraries.
        let orphan = RLibraryObservation(path: "/srv/r/old", marker: LabsyncMarker(spec: "old", packages: [], python: "4.2.2"))
        let pruned = plan(try rSpecs(library("stats", packages: [])), readyHost([orphan, hand]), prune: true)
        #expect(summary(pruned) == ["create-library REnvironment/stats []", "remove-library REnvironment/old []"])
    }

    @Test func aLibraryOwnedByAnotherSpecIsAnError() throws {
        let lib = RLibraryObservation(path: "/srv/r/stats", marker: LabsyncMarker(spec: "other", packages: [], python: "4.2.2"))
        let result = plan(try rSpecs(library("stats", packages: ["fxr"])), readyHost([lib]))
        #expect(result.steps.isEmpty)
        #expect(result.errors.map(\.message) == ["/srv/r/stats belongs to REnvironment 'other' (its labsync marker says so)"])
    }

    @Test func aKernelRequestGetsIRkernelAndAnOffer() throws {
        let specs = try rSpecs(library("stats", packages: ["fxr"], extra: ["kernel: {displayName: \"R (stats)\"}"]))
        let request = KernelRequest(environment: "stats", requester: "JupyterHub/hub",
                                    location: specs.rEnvironments[0].metadata.location)
        let context = HostContext(host: specs.hosts[0], specs: specs)
        let offers = RDriver().kernels(for: [request], context)
        #expect(offers == [KernelOffer(environment: "stats", resource: "REnvironment/stats", displayName: "R (stats)",
                                       language: "R",
                                       argv: ["/usr/bin/R", "--slave", "-e", "IRkernel::main()", "--args", "{connection_file}"],
                                       env: ["R_LIBS": "/srv/r/stats:/usr/lib/R/site-library"])])
        let lib = RLibraryObservation(path: "/srv/r/stats", packages: [RPackage(name: "fxr", version: "0.3-0")],
                                      marker: LabsyncMarker(spec: "stats", packages: ["fxr"], python: "4.2.2"))
        let result = plan(specs, readyHost([lib]), hooks: HookInputs(kernelRequests: [request], kernelOffers: offers))
        #expect(summary(result) == ["ensure-r Host/vm [\"r-cran-irkernel\"]"])
        // A hub being removed asks without registering: nothing is installed for it.
        var leaving = request
        leaving.register = false
        #expect(RDriver().kernels(for: [leaving], context).isEmpty)
        #expect(plan(specs, readyHost([lib]), hooks: HookInputs(kernelRequests: [leaving])).steps.isEmpty)
    }

    @Test func exportPinsEveryPackage() throws {
        let specs = try rSpecs(library("stats", packages: ["labsyncdemo"]))
        let lib = RLibraryObservation(path: "/srv/r/stats", packages: [
            RPackage(name: "labsyncdemo", version: "1.0", requires: ["fxr"]), RPackage(name: "fxr", version: "0.3-0"),
        ])
        let context = HostContext(host: specs.hosts[0], specs: specs)
        let exported = RDriver().export(resource: "REnvironment/stats", context, observed: readyHost([lib]))
        #expect(exported == .text("fxr (== 0.3-0)\nlabsyncdemo (== 1.0)"))
        // status: the library, its owner (none: no marker) and its packages.
        let status = RDriver().statusEntries(readyHost([lib]))
        #expect(status == [StatusEntry(path: "/srv/r/stats", resource: nil, summary: "R 4.2.2  2 packages",
                                       packages: ["fxr==0.3-0", "labsyncdemo==1.0"])])
        // Every line parses back as an exact pin.
        for line in RDriver.exportLines(lib) { #expect(try RRequirement(parsing: line).pinnedVersion != nil) }
        #expect(RDriver().export(resource: "PythonEnvironment/stats", context, observed: readyHost([lib])) == nil)
        if case .failure(let why) = RDriver().export(resource: "REnvironment/stats", context, observed: readyHost()) {
            #expect(why.contains("no R library at /srv/r/stats"))
        } else {
            Issue.record("export without a library must fail")
        }
    }
}

/// The fragment and the scripts, run for real on this machine (real R, the CRAN fixture).
@Suite(.integration) struct RDriverHostTests {
    func observe(roots: [String]) throws -> RObservation {
        let driver = RDriver()
        var request = ObservationRequest()
        request.drivers[driver.name] = JSONValue(encoding: RDriver.observationRequest(for: []).with(roots: roots))
        request.fragments[driver.name] = driver.observeFragment
        let result = try LocalRunner.run(observeCommand(request, become: .none))
        #expect(result.status == 0, "\(result.stderr)")
        return try #require(try decodeObservation(result.stdout).part(RObservation.self, driver: driver.name))
    }

    @Test func installsObservesAndRefusesAnUnsatisfiableRange() throws {
        let repo = try CRANFixture.fileURL()
        let root = try LocalRunner.temporaryDirectory("r-observe")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let lib = root + "/stats"
        try FileManager.default.createDirectory(atPath: lib, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/broken", withIntermediateDirectories: true)
        try "{".write(toFile: root + "/broken/.labsync.json", atomically: true, encoding: .utf8)
        try "".write(toFile: root + "/a-file", atomically: true, encoding: .utf8)

        let install = { (entries: [String]) throws -> LocalResult in
            try LocalRunner.run(RDriver.installCommand(library: lib, repos: [repo], entries: entries, become: .none))
        }
        let refused = try install(["fxr >= 9.0", "labsyncdemo"])
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("fxr (>= 9.0): the repositories offer fxr 0.3-0, which does not satisfy it"),
                "\(refused.stderr)")
        #expect((try FileManager.default.contentsOfDirectory(atPath: lib)).isEmpty, "nothing installed when a range fails")
        let done = try install(["fxr == 0.2-1", "labsyncdemo"])
        #expect(done.status == 0, "\(done.stderr)")

        let observed = try observe(roots: [root, "/nonexistent/labsync-r"])
        let base = try String(contentsOfFile: "/usr/lib/R/library/base/DESCRIPTION", encoding: .utf8)
        #expect(base.contains("Version: \(try #require(observed.r))\n"))
        #expect(observed.rHome == "/usr/lib/R")
        #expect(observed.rBinary == "/usr/bin/R")
        #expect(Set(observed.systemPackages.keys) == ["IRkernel", "remotes"])
        #expect(observed.buildTools == RDriver.buildTools)
        #expect(observed.libraries.map(\.path) == [root + "/broken", lib])
        let stats = try #require(observed.library(at: lib))
        #expect(stats.packages.map { "\($0.name) \($0.version) \($0.requires)" }
                == ["fxr 0.2-1 []", "labsyncdemo 1.0 [\"fxr\"]"])
        #expect(stats.packages.allSatisfy { $0.built?.hasPrefix("R \(observed.r!)") == true })
        #expect(observed.library(at: root + "/broken")?.markerError?.contains("cannot read") == true)
    }

    @Test func removeLibraryRefusesAnUnmarkedDirectory() throws {
        let root = try LocalRunner.temporaryDirectory("r-remove")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/hand", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/marked", withIntermediateDirectories: true)
        try "{}".write(toFile: root + "/marked/.labsync.json", atomically: true, encoding: .utf8)
        func remove(_ path: String) throws -> LocalResult {
            try LocalRunner.run(RDriver.removeLibraryCommand(path: path, become: .none))
        }
        #expect(try remove(root + "/hand").status == 3)
        #expect(FileManager.default.fileExists(atPath: root + "/hand"))
        #expect(try remove(root + "/marked").status == 0)
        #expect(!FileManager.default.fileExists(atPath: root + "/marked"))
        #expect(try remove(root + "/never-existed").status == 0)
    }
}

extension RObservationRequest {
    func with(roots: [String]) -> RObservationRequest {
        var copy = self
        copy.roots = roots
        return copy
    }
}

/// The kernel the R driver offers, registered as the hub would register it
/// (JupyterHubDriver.kernelJSON) and started by jupyter_client (from the hub
/// wheelhouse `make deps` downloads): it runs code that loads a package from
/// the library, through IRkernel over ZeroMQ.
@Suite(.integration) struct RKernelRunsTests {
    @Test(.timeLimit(.minutes(5))) func theOfferedKernelLoadsAPackageFromTheLibrary() throws {
        let repo = try CRANFixture.fileURL()
        let root = try LocalRunner.temporaryDirectory("r-kernel").replacing("//", with: "/")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let wheelhouse = LabsyncBinary.packageRoot.appendingPathComponent(".cache/wheelhouse/hub").path
        try #require(FileManager.default.fileExists(atPath: wheelhouse + "/.done"), "run `make deps` first")

        let specs = try rSpecs(library("rstats", packages: ["labsyncdemo"]).replacing("root: /srv/r", with: "root: \(root)"))
        let context = HostContext(host: specs.hosts[0], specs: specs)
        let request = KernelRequest(environment: "rstats", requester: "JupyterHub/hub",
                                    location: specs.rEnvironments[0].metadata.location)
        let offer = try #require(RDriver().kernels(for: [request], context).first)
        try FileManager.default.createDirectory(atPath: root + "/rstats", withIntermediateDirectories: true)
        let installed = try LocalRunner.run(RDriver.installCommand(library: root + "/rstats", repos: [repo],
                                                                   entries: ["labsyncdemo"], become: .none))
        try #require(installed.status == 0, "\(installed.stderr)")

        let kernelDir = root + "/jupyter/kernels/rstats"
        try FileManager.default.createDirectory(atPath: kernelDir, withIntermediateDirectories: true)
        try JupyterHubDriver.kernelJSON(offer).write(toFile: kernelDir + "/kernel.json", atomically: true, encoding: .utf8)
        let venv = root + "/venv"
        _ = try LocalRunner.run(["/usr/bin/python3", "-m", "venv", venv])
        let pip = try LocalRunner.run([venv + "/bin/python", "-m", "pip", "install", "-q", "--no-index",
                                       "--find-links", wheelhouse, "jupyter_client"])
        try #require(pip.status == 0, "\(pip.stderr)")
        let client = """
            import os, sys
            os.environ["JUPYTER_PATH"] = sys.argv[1]
            from jupyter_client.manager import start_new_kernel
            km, kc = start_new_kernel(kernel_name="rstats", startup_timeout=120)
            out = []
            def hook(msg):
                if msg["msg_type"] == "stream":
                    out.append(msg["content"]["text"])
            try:
                kc.execute_interactive("library(labsyncdemo); cat(hello())", output_hook=hook, timeout=120)
            finally:
                kc.stop_channels()
                km.shutdown_kernel(now=True)
            print("".join(out))
            """
        let run = try LocalRunner.run([venv + "/bin/python", "-c", client, root + "/jupyter"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(String(decoding: run.stdout, as: UTF8.self).contains("hello from labsyncdemo with fxr 0.3-0"),
                "\(String(decoding: run.stdout, as: UTF8.self)) \(run.stderr)")
    }
}
