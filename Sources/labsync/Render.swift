import ArgumentParser
import Drivers
import Foundation
import Reconciler
import Specs

/// `labsync render`: the files Flux reconciles for every JupyterHub with
/// `spec.kubernetes`, and the command that makes the Secret they read.
/// Touches no cluster: committing and pushing the files stays with the user or CI.
struct Render: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the Flux manifests of the Kubernetes JupyterHubs, or print the command that creates their OAuth Secret.",
        discussion: """
            --manifests DIR writes, for every JupyterHub with spec.kubernetes (state: present), \
            DIR/<namespace>/<release>/namespace.yaml, helmrepository.yaml and helmrelease.yaml. \
            Same specs, same bytes. Files of other hubs in DIR are left alone.

            --secret-template prints, for every such hub, a `kubectl create secret generic … \
            --dry-run=client -o yaml` command whose value is the spec's fromEnv variable or fromFile \
            file, expanded by your shell: the secret itself never passes through labsync.
            """)

    @Argument(help: "Directory of specs (default: --repo, else the current directory).")
    var path: String?

    @OptionGroup var repository: RepositoryOptions

    @Option(name: .customLong("manifests"), help: "Directory to write the manifests into (usually the path Flux watches).")
    var manifests: String?

    @Flag(name: .customLong("secret-template"), help: "Print the kubectl command that creates each hub's OAuth client Secret.")
    var secretTemplate = false

    func validate() throws {
        if path != nil && (repository.repo != nil || repository.ref != nil) {
            throw ValidationError("give either PATH or --repo/--ref, not both")
        }
        if (manifests == nil) == !secretTemplate {
            throw ValidationError("give exactly one of --manifests DIR and --secret-template")
        }
    }

    func run() async throws {
        let (_, result) = try await repository.load(path: path)
        for diagnostic in result.diagnostics { printError(diagnostic.description) }
        guard result.isValid else {
            let count = result.diagnostics.filter { $0.severity == .error }.count
            printError("\(count) error\(count == 1 ? "" : "s"); nothing written")
            throw ExitCode.failure
        }
        let rendered = DriverRegistry.renderManifests(result.specs)
        if rendered.isEmpty { printError("no JupyterHub with spec.kubernetes and state: present; nothing to render") }
        if secretTemplate {
            for secret in rendered.flatMap(\.secrets) {
                say("# \(secret.resource): Secret \(secret.namespace)/\(secret.name), key \(secret.key)")
                say(secret.createCommand)
            }
            return
        }
        let directory = ManifestDirectory(manifests!)
        for r in rendered {
            for file in r.files { try reportingErrors { try directory.write(file.path, file.content) } }
            let secret = r.secrets.map { "; needs Secret \($0.namespace)/\($0.name) key \($0.key) (see --secret-template)" }.joined()
            say("\(r.resource): wrote \(r.directory)/\(secret)")
        }
    }
}
