import ArgumentParser
import Foundation
import Specs

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the specs: types, names, references, packages. Touches no host.",
        discussion: "Prints every problem as file:line:column: error: message and exits 1, or a one-line summary and exits 0.")

    @Argument(help: "Directory of specs (default: --repo, else the current directory).")
    var path: String?

    @OptionGroup var repository: RepositoryOptions

    func run() async throws {
        if path != nil && repository.repo != nil {
            throw ValidationError("give either PATH or --repo, not both")
        }
        let directory = URL(fileURLWithPath: path ?? repository.repo ?? ".")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            printError("error: \(directory.path) is not a directory")
            throw ExitCode.failure
        }
        let result = SpecLoader().load(directory: directory)
        for diagnostic in result.diagnostics { printError(diagnostic.description) }
        guard result.isValid else {
            let count = result.diagnostics.filter { $0.severity == .error }.count
            printError("\(count) error\(count == 1 ? "" : "s")")
            throw ExitCode.failure
        }
        print("\(result.specs.summary): valid")
    }
}
