import ArgumentParser
import Drivers
import Foundation
import Reconciler
import Specs

/// `--manifests DIR` of plan and apply: the GitOps directory Kubernetes hubs are
/// planned against and written to.
struct ManifestOptions: ParsableArguments {
    @Option(name: .customLong("manifests"),
            help: "Plan (and apply) the Kubernetes hubs against this directory (usually the path Flux watches).")
    var manifests: String?

    /// The plan's manifest section: without a directory, the hubs are named as not planned.
    func section(_ specs: SpecSet) throws -> ManifestSection? {
        guard let manifests else { return ManifestSection.plan(DriverRegistry.renderManifests(specs), changes: nil, directory: nil) }
        return try reportingErrors { try ManifestDirectory(manifests).section(specs) }
    }
}

/// Runs `body`; a manifests directory error is printed and exits 1.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as ManifestDirectoryError {
        printError("error: \(error)")
        throw ExitCode.failure
    }
}

