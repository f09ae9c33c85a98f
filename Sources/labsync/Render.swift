import ArgumentParser
import Drivers
import Foundation
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
        let hubs = result.specs.kubernetesHubs.filter { $0.state == .present }
        if hubs.isEmpty { printError("no JupyterHub with spec.kubernetes and state: present; nothing to render") }
        let rendered = hubs.map(KubernetesHubRenderer.render)
        if secretTemplate {
            for r in rendered {
                guard let secret = r.oauthSecret else { continue }
                say("# JupyterHub/\(r.hub): Secret \(secret.namespace)/\(secret.name), key \(secret.key)")
                say(secret.kubectlCommand)
            }
            return
        }
        let root = URL(fileURLWithPath: manifests!)
        for r in rendered {
            for file in r.files {
                let url = root.appendingPathComponent(file.path)
                // DIR is often a checkout of someone else's repository: a symbolic
                // link planted inside it must not send labsync's writes elsewhere.
                if let link = Self.symbolicLink(under: root, relative: file.path) {
                    printError("\(link): is a symbolic link; refusing to write through it")
                    throw ExitCode.failure
                }
                do {
                    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try Data(file.content.utf8).write(to: url, options: .atomic)
                } catch {
                    printError("\(url.path): cannot write: \(error.localizedDescription)")
                    throw ExitCode.failure
                }
            }
            let secret = r.oauthSecret.map { "; needs Secret \($0.namespace)/\($0.name) key \($0.key) (see --secret-template)" } ?? ""
            say("JupyterHub/\(r.hub): wrote \(r.directory)/\(secret)")
        }
    }

    /// The first component of `relative` under `root` that exists as a symbolic link.
    static func symbolicLink(under root: URL, relative: String) -> String? {
        var url = root
        for component in relative.split(separator: "/") {
            url.appendPathComponent(String(component))
            var info = stat()
            if lstat(url.path, &info) == 0 && info.st_mode & S_IFMT == S_IFLNK { return url.path }
        }
        return nil
    }
}
