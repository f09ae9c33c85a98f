import ArgumentParser
import Daemon
import Foundation
import Reconciler
import SpecSource

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Keep the hosts in the state the repository declares: fetch, validate, reconcile, again and again.",
        discussion: """
            Fetches on start, every --interval (with jitter), and at once on POST /hooks/git. Given a git \
            work tree as --repo and no --ref, it follows the branch checked out there (its commits). A revision \
            whose specs are invalid is recorded and shown, never applied; the last applied revision stays \
            in force and keeps correcting drift. A host that fails is retried with exponential backoff \
            while the others go on. While <state-dir>/suspended exists (`labsync suspend`), hosts are \
            observed but not changed. Serves /healthz, /readyz, /metrics, /api/status, /api/runs and a \
            status page at /. SIGTERM or SIGINT: no new work; a running apply may finish \
            (--shutdown-timeout); exit 0.
            """)

    @OptionGroup var repository: RepositoryOptions

    @Option(help: "Reconcile this often even without a new commit (e.g. 5m, 30s, 1h).")
    var interval: String = "5m"

    @Option(help: "Address and port of the HTTP server (loopback unless told otherwise).")
    var listen: String = "127.0.0.1:9171"

    @Option(name: .customLong("webhook-secret-env"), help: "Environment variable holding the webhook secret.")
    var webhookSecretEnv: String?

    @Option(name: .customLong("webhook-secret-file"),
            help: "File holding the webhook secret (with systemd: LoadCredential= and %d/NAME).")
    var webhookSecretFile: String?

    @Option(name: .customLong("retry-base"), help: "First retry delay of a failing host; doubles each time.")
    var retryBase: String = "30s"

    @Option(name: .customLong("retry-max"), help: "Longest retry delay of a failing host.")
    var retryMax: String = "1h"

    @Option(name: .customLong("shutdown-timeout"), help: "How long SIGTERM waits for a running apply.")
    var shutdownTimeout: String = "2m"

    @Option(help: "Hosts observed or changed at once.")
    var parallelism: Int = 8

    @Option(name: .customLong("env-parallelism"), help: "Environments applied at once on one host.")
    var environmentParallelism: Int = 4

    @Option(name: .customLong("lock-timeout"), help: "Seconds to wait for another labsync holding a host's lock.")
    var lockTimeout: Int = 600

    @Option(name: .customLong("connect-timeout"), help: "Seconds to connect and authenticate to a host.")
    var connectTimeout: Int = 10

    @Flag(help: "Remove environments that carry a labsync marker but whose spec is gone (also `prune: true` in labsync.yaml).")
    var prune = false

    @Flag(name: .customLong("allow-empty"), help: "Accept a revision with no specs at all.")
    var allowEmpty = false

    @Option(name: .customLong("manifests"),
            help: "Keep this directory (the path Flux watches) in step with the Kubernetes hubs' manifests; committing stays with you.")
    var manifests: String?

    @Option(name: .customLong("commit-url"),
            help: "Link revisions on the status page to this URL, {sha} replaced by the commit (e.g. https://gitlab.example/x/-/commit/{sha}).")
    var commitURL: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        for (name, value) in [("--interval", interval), ("--retry-base", retryBase), ("--retry-max", retryMax),
                              ("--shutdown-timeout", shutdownTimeout)] where parseDuration(value) == nil {
            throw ValidationError("\(name) \(value): not a duration (examples: 5m, 30s, 1h, 250ms)")
        }
        if parseDuration(interval)! < .milliseconds(100) { throw ValidationError("--interval must be at least 100ms") }
        if listenAddress == nil { throw ValidationError("--listen \(listen): expected HOST:PORT, e.g. 127.0.0.1:9171") }
        if webhookSecretEnv != nil && webhookSecretFile != nil {
            throw ValidationError("give the webhook secret once: --webhook-secret-env or --webhook-secret-file")
        }
        if let commitURL, !commitURL.contains("{sha}") || !(commitURL.hasPrefix("https://") || commitURL.hasPrefix("http://")) {
            throw ValidationError("--commit-url \(commitURL): expected an http(s) URL holding {sha}, e.g. https://gitlab.example/x/-/commit/{sha}")
        }
        if !LabsyncDaemon.logLevels.contains(logLevel) { throw ValidationError("--log-level \(logLevel): unknown level") }
    }

    var listenAddress: (host: String, port: Int)? {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
              (0...65535).contains(port) else { return nil }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }

    func run() async throws {
        guard repository.repo != nil else {
            printError("error: the daemon needs --repo (a git URL or a bare repository path)")
            throw ExitCode.failure
        }
        let secret = try readWebhookSecret()
        let repository = self.repository
        let passphrase = ProcessInfo.processInfo.environment["LABSYNC_SSH_PASSPHRASE"]
        let credentials = GitCredentials(identityFile: repository.gitIdentityFile, passphrase: passphrase)
        let state = repository.resolvedStateDirectory
        @Sendable func source(ref: String?) -> any Source {
            makeSource(repo: repository.repo!, ref: ref, stateDirectory: state,
                       hostKeyPolicy: repository.hostKeyPolicy(), credentials: credentials)
        }
        // A work tree without --ref: follow the branch checked out there (its
        // commits, cloned like any repository; not its uncommitted changes).
        var ref = repository.ref
        var refNote: String?
        if ref == nil, source(ref: nil) is DirectorySource, let head = await workTreeHead(at: repository.repo!) {
            guard case .branch(let branch) = head else {
                printError("error: --repo \(repository.repo!) is a work tree with a detached HEAD; pass --ref BRANCH to say which branch to follow")
                throw ExitCode.failure
            }
            ref = branch
            refNote = "no --ref given: following branch '\(branch)', checked out in the work tree \(repository.repo!) (its commits, not uncommitted changes)"
        }
        if source(ref: ref) is DirectorySource {
            // Revisions are what the daemon validates, applies and remembers; a
            // plain directory has none.
            printError("error: --repo \(repository.repo!) is a plain directory; the daemon follows a git repository (a URL, a bare repository, or a work tree)")
            throw ExitCode.failure
        }
        let listen = listenAddress!
        var configuration = DaemonConfiguration(
            repo: repository.repo!, ref: ref, refNote: refNote,
            source: source(ref: ref),
            sourceAtRevision: { revision in source(ref: revision) },
            stateDirectory: state,
            inventory: InventoryOptions(
                acceptNewHostKeys: repository.acceptNewHostKeys,
                recordedKeysFile: state.appendingPathComponent("known_hosts").path,
                connectTimeout: .seconds(connectTimeout)),
            run: RunOptions(parallelism: parallelism, environmentParallelism: environmentParallelism,
                            lockTimeoutSeconds: lockTimeout, prune: prune),
            interval: parseDuration(interval)!,
            retryBase: parseDuration(retryBase)!, retryMax: parseDuration(retryMax)!,
            listenHost: listen.host, listenPort: listen.port, webhookSecret: secret,
            shutdownTimeout: parseDuration(shutdownTimeout)!, allowEmpty: allowEmpty)
        configuration.manifestsDirectory = manifests
        configuration.commitURLPattern = commitURL
        do {
            try await LabsyncDaemon.run(configuration, logLevel: logLevel)
        } catch {
            printError("error: \(error)")
            throw ExitCode.failure
        }
    }

    func readWebhookSecret() throws -> String? {
        if let name = webhookSecretEnv {
            guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
                printError("error: --webhook-secret-env \(name): the variable is not set")
                throw ExitCode.failure
            }
            return value
        }
        if let path = webhookSecretFile {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                printError("error: --webhook-secret-file \(path): cannot read it")
                throw ExitCode.failure
            }
            let secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !secret.isEmpty else {
                printError("error: --webhook-secret-file \(path) is empty")
                throw ExitCode.failure
            }
            return secret
        }
        return nil
    }
}
