import ArgumentParser
import Foundation
import Reconciler
import Remote
import Specs

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the specs: types, names, references, packages. Touches no host.",
        discussion: "Prints every problem as file:line:column: error: message on stderr and exits 1, or a one-line summary and exits 0.")

    @Argument(help: "Directory of specs (default: --repo, else the current directory).")
    var path: String?

    @OptionGroup var repository: RepositoryOptions

    @Flag(name: .customLong("check-index"),
          help: "Also ask each environment's package index that every requirement names a project with a release installable on its python: \"3.X\" (CPython on manylinux_2_36_x86_64). For \"3\" and latest only the name and the specifier are checked; for a requirement with a marker only the name.")
    var checkIndex = false

    func validate() throws {
        if path != nil && (repository.repo != nil || repository.ref != nil) {
            throw ValidationError("give either PATH or --repo/--ref, not both")
        }
    }

    func run() async throws {
        let (tree, result) = try await repository.load(path: path)
        for diagnostic in result.diagnostics { printError(diagnostic.description) }
        let at = tree.revision.map { " at \($0.prefix(12))" } ?? ""
        guard result.isValid else {
            let count = result.diagnostics.filter { $0.severity == .error }.count
            printError("\(count) error\(count == 1 ? "" : "s")\(at)")
            throw ExitCode.failure
        }
        if checkIndex {
            try StateDirectory.prepare(repository.resolvedStateDirectory)  // the index cache lives there
            let problems = await PackageCheck.run(result.specs, stateDirectory: repository.resolvedStateDirectory)
            for problem in problems { printError(problem.description) }
            guard problems.isEmpty else {
                printError("\(problems.count) error\(problems.count == 1 ? "" : "s")\(at)")
                throw ExitCode.failure
            }
        }
        say("\(result.specs.summary): valid\(at)")
    }
}
