import ArgumentParser
import Drivers
import Foundation
import Reconciler
import Specs

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print an environment's installed packages in the form its spec takes back.",
        discussion: """
            A PythonEnvironment prints a pinned requirements.txt (like `pip freeze`: pip, setuptools, \
            wheel and distribute are left out). Name the environment as KIND/NAME, or by NAME alone \
            when only one resource has that name. Changes nothing.
            """)

    @Argument(help: "The environment: NAME or KIND/NAME.")
    var environment: String

    @OptionGroup var repository: RepositoryOptions
    @OptionGroup var hostOptions: HostOptions

    func run() async throws {
        let session = try await Session.open(repository, hostOptions)
        // Which resource, on which host: every driver lists its resources per host.
        var placements: [(resource: String, host: HostSpec)] = []
        for host in session.specs.hosts {
            let context = HostContext(host: host, specs: session.specs)
            for resource in DriverRegistry.resources(context)
            where resource == environment || resource.hasSuffix("/" + environment) && !environment.contains("/") {
                placements.append((resource, host))
            }
        }
        let resources = Set(placements.map(\.resource))
        guard resources.count == 1, let resource = resources.first else {
            await session.close()
            printError(resources.isEmpty ? "error: no environment named '\(environment)'"
                       : "error: '\(environment)' names \(resources.sorted().joined(separator: ", ")); write KIND/NAME")
            throw ExitCode.failure
        }
        guard placements.count == 1, let host = placements.first?.host else {
            await session.close()
            printError("error: '\(environment)' is on \(placements.count) hosts (\(placements.map(\.host.name).joined(separator: ", "))); choose one with --host")
            throw ExitCode.failure
        }
        let report = await session.observe()
        await session.close()
        guard let observed = report.observations[host.name] else {
            printError("error: \(host.name): \(report.failures[host.name] ?? "not observed")")
            throw ExitCode.failure
        }
        let context = HostContext(host: host, specs: session.specs, facts: observed.facts)
        switch DriverRegistry.all.lazy.compactMap({ $0.export(resource: resource, context, observation: observed) }).first {
        case .text(let text)?: say(text)
        case .failure(let message)?:
            printError("error: \(message)")
            throw ExitCode.failure
        case nil:
            printError("error: \(resource) cannot be exported")
            throw ExitCode.failure
        }
    }
}
